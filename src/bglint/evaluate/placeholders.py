"""What a template's `${...}` placeholder may stand for, where bglint judges the widest value.

A parameter with no Default is whatever the person installing the stack enters (an empty
Default, which no principal or ARN can be, is the same), limited only by its AllowedValues, its
AllowedPattern (CloudFormation User Guide, Parameters: the pattern must match the entire value;
Java regex syntax) or its Type (a Number is digits); a function bglint could not resolve
(`${Fn::ImportValue}`) may be anything. Other placeholders (pseudo parameters, `!GetAtt`, a
resource's `!Ref`, a parameter with a Default) name one thing and stay as they are.

Instead of every value, the ones that decide how wide a principal is: "*", "root" and an account
id or root ARN (any account, and the ones the pattern names literally). For a number (a session
length), the largest: of its AllowedValues, its MaxValue (a Number parameter), else the largest
the field takes.
"""

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from bglint.model import Parameter
from bglint.regex import Regex

_PLACEHOLDER = Regex(r"\$\{([^}]*)\}")
_ANY_ACCOUNT = "123456789012"
# Literal account ids and partitions in a pattern (both linear on untrusted text).
_ACCOUNT_IN_PATTERN = Regex(r"(?<!\d)\d{12}(?!\d)")
_PARTITION_IN_PATTERN = Regex(r"aws(?:-[a-z]+)*")
_MAX_LITERALS = 4
_MAX_COMBINATIONS = 64
# Python's re backtracks and cannot be interrupted, and the pattern is the template author's:
# only patterns whose matching against a short text stays small are read (no repeated group, no
# backreference, few quantifiers and alternatives).
_MAX_PATTERN = 300
_MAX_QUANTIFIERS = 4
_MAX_ALTERNATIVES = 8


class Source(NamedTuple):
    """Why a placeholder may be something wide: a parameter whoever installs the stack sets, or
    a function bglint could not resolve."""

    parameter: str  # "" for an unresolved function
    why: str


class StandIn(NamedTuple):
    text: str  # the text with one choice per free placeholder
    source: Source | None  # None: the text as written, nothing free in it


def stand_ins(text: str, parameters: Iterable[Parameter]) -> Iterator[StandIn]:
    """`text` as written, then with its free placeholders replaced by the values that matter."""
    yield StandIn(text, None)
    if "${" not in text:
        return
    by_name = {p.name: p for p in parameters}
    free: list[tuple[str, list[str], Source]] = []
    for name in dict.fromkeys(_PLACEHOLDER.findall(text)):
        found = _choices(name, by_name.get(name))
        if found is not None:
            free.append((name, *found))
    for combination in itertools.islice(itertools.product(*(values for _, values, _ in free)), _MAX_COMBINATIONS):
        chosen = {name: value for (name, _, _), value in zip(free, combination, strict=True)}
        sources = [source for (name, _, source) in free if chosen[name] != "${" + name + "}"]
        if sources:
            yield StandIn(_PLACEHOLDER.sub(functools.partial(_fill, chosen), text), sources[0])


def _fill(chosen: dict[str, str], match: re.Match[str]) -> str:
    return chosen.get(match.group(1), match.group(0))


def widest_number(text: str, parameters: Iterable[Parameter], widest: int) -> tuple[int, Source] | None:
    """The largest number a lone placeholder (`${Duration}`) may be, `widest` being the largest
    the field takes, or None when `text` is not one that bglint judges (a Default decides it)."""
    match = _PLACEHOLDER.fullmatch(text)
    if match is None:
        return None
    name = match.group(1)
    parameter = next((p for p in parameters if p.name == name), None)
    if parameter is None:
        return (widest, _unresolved(name)) if _is_unresolved(name) else None
    if parameter.default:
        return None
    if parameter.allowed_values:
        numbers = list(filter(None, map(_whole_seconds, parameter.allowed_values)))
        return (min(max(numbers), widest), Source(name, "lists it among its AllowedValues")) if numbers else None
    unset = _unset(parameter)
    if parameter.type == "Number" and parameter.max_value is not None:
        return min(int(parameter.max_value), widest), Source(
            name, f"{unset} and its MaxValue is {parameter.max_value:g}"
        )
    return widest, Source(name, f"{unset} and no AllowedValues or MaxValue: whoever installs the stack chooses it")


def _whole_seconds(text: str) -> int | None:
    try:
        return int(float(text))
    except (ValueError, OverflowError):  # not a number; nan, inf
        return None


def _is_unresolved(name: str) -> bool:
    return name == "Ref" or name.startswith("Fn::")  # what intrinsics.py leaves unresolved


def _unresolved(name: str) -> Source:
    return Source("", f"bglint could not resolve {name} and judges its widest value")


def _unset(parameter: Parameter) -> str:
    return "has no Default" if parameter.default is None else "has an empty Default"


def _choices(name: str, parameter: Parameter | None) -> tuple[list[str], Source] | None:
    """The values that matter for a free placeholder (itself last: any other value), or None."""
    keep = "${" + name + "}"
    if parameter is None:
        return ([*_probes(""), keep], _unresolved(name)) if _is_unresolved(name) else None
    if parameter.default:
        return None
    if parameter.allowed_values:
        return [*parameter.allowed_values, keep], Source(parameter.name, "lists it among its AllowedValues")
    unset = _unset(parameter)
    probes = _probes(parameter.allowed_pattern)
    if parameter.type == "Number":
        probes = [p for p in probes if p.isdigit()]
    pattern = _readable(parameter.allowed_pattern) if parameter.allowed_pattern else None
    if pattern is not None:
        probes = [p for p in probes if pattern.fullmatch(p)]
        why = f"{unset} and its AllowedPattern admits it"
    elif parameter.allowed_pattern:
        why = f"{unset} and an AllowedPattern too complex for bglint to evaluate, judged as admitting anything"
    else:
        why = f"{unset} and no AllowedValues or AllowedPattern: whoever installs the stack chooses it"
    return [*probes, keep], Source(parameter.name, why)


def _probes(pattern: str) -> list[str]:
    accounts = [_ANY_ACCOUNT, *_ACCOUNT_IN_PATTERN.findall(pattern)[:_MAX_LITERALS]]
    partitions = ["aws", *_PARTITION_IN_PATTERN.findall(pattern)[:_MAX_LITERALS]]
    roots = [f"arn:{p}:iam::{a}:root" for p in dict.fromkeys(partitions) for a in dict.fromkeys(accounts)]
    return ["*", "root", *dict.fromkeys(accounts), *roots]


def _readable(pattern: str) -> re.Pattern[str] | None:
    """The pattern compiled when matching it stays small (see above), else None."""
    if len(pattern) > _MAX_PATTERN or not _bounded(pattern):
        return None
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        return None


def _bounded(pattern: str) -> bool:
    quantifiers = alternatives = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if pattern[i + 1 : i + 2].isdigit():
                return False  # a backreference
            i += 2
            continue
        if char == "[":  # a class: its `*`, `|`... are characters
            i = _class_end(pattern, i)
            continue
        if char == ")" and pattern[i + 1 : i + 2] in ("*", "+", "?", "{"):
            return False  # a repeated group
        if char in "*+{" or (char == "?" and i and pattern[i - 1] not in "(*+?}"):
            quantifiers += 1
        elif char == "|":
            alternatives += 1
        elif pattern.startswith("(?P=", i):
            return False
        i += 1
    return quantifiers <= _MAX_QUANTIFIERS and alternatives <= _MAX_ALTERNATIVES


def _class_end(pattern: str, start: int) -> int:
    """The index after the `]` that closes the class opened at `start`."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1
