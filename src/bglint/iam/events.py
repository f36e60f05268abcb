"""Whether an alarm fires when a role is assumed: CloudTrail's record of `sts:AssumeRole` of the
role, judged against an EventBridge event pattern or a CloudWatch Logs metric filter pattern.

One decision for `bglint audit` (the account's EventBridge rules, BG034) and for the alarms a
break-glass stack ships (BG035). Of the record, only what every AssumeRole of the role carries
is known: the source, detail-type, event source and name, the management-event category, and
the role's ARN. A condition on any other field (the caller, the session name, the region, an
error code) holds for some use of the role, so it counts as met: the question is whether the
alarm can fire for the role's use, not whether every use fires it.

EventBridge patterns follow "Event patterns" and "Content filtering" in the EventBridge user
guide: a field's array matches when one of its values does (exact values, `prefix`, `suffix`,
`equals-ignore-case`, `wildcard`, `anything-but`, `exists`; `numeric` and `cidr` never match the
text fields known here), nested objects match nested fields, and `$or` takes any of its
patterns. Metric filter patterns follow "Filter pattern syntax" in the CloudWatch Logs user
guide: a JSON pattern `{ $.field = "value" && ... || ... }` over the CloudTrail record, or
terms that must occur in it. A `%regex%` value is never run (a regex from a file could run for
minutes): it counts as met.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from bglint.iam.glob import star_regex
from bglint.model import METRIC_FILTER, AlertRule
from bglint.regex import Regex

_UNKNOWN = object()  # a field the record may hold with any value
_MAX_DEPTH = 64  # nesting of a pattern or filter; deeper ones are not read


def fires_on_assume_role(rule: AlertRule, role_arn: str | None) -> bool:
    """Whether the rule's pattern matches an AssumeRole of `role_arn` (None: of some role)."""
    record = _record(role_arn)
    if rule.kind == METRIC_FILTER:
        return _filter_fires(rule.pattern, record)
    pattern = _json(rule.pattern)
    event = {"source": "aws.sts", "detail-type": "AWS API Call via CloudTrail", "detail": record}
    return isinstance(pattern, dict) and _object_matches(pattern, event, 0)


def _record(role_arn: str | None) -> dict[str, Any]:
    """What CloudTrail records of every AssumeRole of the role (its `detail` in EventBridge)."""
    return {
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "eventType": "AwsApiCall",
        "eventCategory": "Management",
        "managementEvent": True,
        "requestParameters": {"roleArn": role_arn} if role_arn else {},
    }


@functools.lru_cache(maxsize=256)  # an account's rules are judged once per break-glass role
def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


# -- EventBridge event patterns ------------------------------------------------------------------


def _object_matches(pattern: dict[str, Any], event: dict[str, Any], depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    for key, wanted in pattern.items():
        if key == "$or":
            if not (
                isinstance(wanted, list)
                and any(isinstance(p, dict) and _object_matches(p, event, depth + 1) for p in wanted)
            ):
                return False
            continue
        value = event.get(key, _UNKNOWN)
        if value is _UNKNOWN:
            continue
        if isinstance(wanted, dict):
            if not (isinstance(value, dict) and _object_matches(wanted, value, depth + 1)):
                return False
        elif not (
            isinstance(wanted, list) and not isinstance(value, dict) and any(_value_matches(m, value) for m in wanted)
        ):
            return False
    return True


def _value_matches(matcher: Any, value: str | bool) -> bool:
    if isinstance(matcher, str | bool) or matcher is None:
        return type(matcher) is type(value) and matcher == value
    if not (isinstance(matcher, dict) and len(matcher) == 1):
        return False  # a number (the known fields hold text), or not a filter
    (name, arg), text = next(iter(matcher.items())), value if isinstance(value, str) else None
    if name == "exists":
        return arg is True
    if name == "anything-but":
        return _anything_but(arg, value)
    if text is None:
        return False
    if name in ("prefix", "suffix"):
        fold = isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}
        wanted = arg["equals-ignore-case"] if fold else arg
        if not isinstance(wanted, str):
            return False
        subject, wanted = (text.lower(), wanted.lower()) if fold else (text, wanted)
        return subject.startswith(wanted) if name == "prefix" else subject.endswith(wanted)
    if name == "equals-ignore-case":
        return isinstance(arg, str) and arg.lower() == text.lower()
    if name == "wildcard":
        return isinstance(arg, str) and star_regex(arg).fullmatch(text) is not None
    return False  # numeric, cidr: never a text field's match


def _anything_but(arg: Any, value: str | bool) -> bool:
    """`anything-but` a value, a list of them, or a prefix, suffix, case-folded or wildcard form."""
    if isinstance(arg, list):
        return not any(_value_matches(item, value) for item in arg)
    if isinstance(arg, dict) and len(arg) == 1:
        name, inner = next(iter(arg.items()))
        options = inner if isinstance(inner, list) else [inner]
        return not any(_value_matches({name: option}, value) for option in options)
    return not _value_matches(arg, value)


# -- CloudWatch Logs metric filter patterns ----------------------------------------------------------

_TOKEN = Regex(
    r"""\s*(?:
        (?P<selector>\$(?:\.[^\s.\[\](){}=!<>&|]+|\[\d+\])*)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<regex>%[^%]*%)
      | (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|\{|\})
      | (?P<word>[^\s(){}&|=!<>"%]+)
    )""",
    re.VERBOSE,
)


def _filter_fires(pattern: str, record: dict[str, Any]) -> bool:
    text = pattern.strip()
    if not text:
        return True  # an empty pattern matches every log event
    if text.startswith("{"):
        tokens = _tokens(text)
        if tokens is None or tokens[:1] != [("op", "{")] or tokens[-1:] != [("op", "}")]:
            return False
        parser = _FilterParser(tokens[1:-1], record)
        try:
            result = parser.disjunction(0)
        except _Unreadable:
            return False
        return result and parser.done()
    if text.startswith("["):
        return False  # space-delimited logs; CloudTrail writes JSON
    try:
        return _terms_occur(text, record)
    except _Unreadable:
        return False


class _Unreadable(Exception):
    """A filter pattern outside the syntax: CloudWatch refuses it, so it fires for nothing."""


def _tokens(text: str) -> list[tuple[str, str]] | None:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            return None if text[position:].strip() else found
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class _FilterParser:
    """`a && b || c`, `&&` binding tighter, with parentheses; each comparison judged as it is read."""

    def __init__(self, tokens: list[tuple[str, str]], record: dict[str, Any]) -> None:
        self.tokens, self.record, self.at = tokens, record, 0

    def done(self) -> bool:
        return self.at == len(self.tokens)

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("", "")

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if not token[0]:
            raise _Unreadable
        self.at += 1
        return token

    def disjunction(self, depth: int) -> bool:
        return any(self._chain("||", lambda: all(self._chain("&&", lambda: self._term(depth)))))

    def _chain(self, op: str, operand: Callable[[], bool]) -> list[bool]:
        """The operands joined by `op`, each read (and judged) in turn."""
        results = [operand()]
        while self._peek() == ("op", op):
            self.at += 1
            results.append(operand())
        return results

    def _term(self, depth: int) -> bool:
        if depth > _MAX_DEPTH:
            raise _Unreadable
        if self._peek() == ("op", "("):
            self.at += 1
            result = self.disjunction(depth + 1)
            if self._take() != ("op", ")"):
                raise _Unreadable
            return result
        kind, selector = self._take()
        if kind != "selector":
            raise _Unreadable
        value = self._field(selector)
        kind, op = self._take()
        if kind == "word" and op.upper() in ("IS", "NOT"):
            _, word = self._take()
            if (op.upper(), word.upper()) == ("NOT", "EXISTS") or word.upper() == "NULL":
                return value is _UNKNOWN
            if word.upper() in ("TRUE", "FALSE"):
                return value is _UNKNOWN or value is (word.upper() == "TRUE")
            raise _Unreadable
        if kind != "op" or op not in ("=", "!=", "<", ">", "<=", ">="):
            raise _Unreadable
        kind, operand = self._take()
        if kind not in ("string", "word", "regex"):
            raise _Unreadable
        if value is _UNKNOWN or kind == "regex":
            return True
        if op not in ("=", "!="):
            return False  # a number comparison; the known fields hold text
        wanted = _unquoted(operand) if kind == "string" else operand
        equal = isinstance(value, str) and star_regex(wanted).fullmatch(value) is not None
        return equal if op == "=" else not equal

    def _field(self, selector: str) -> Any:
        """The record's value at `$.a.b`, or _UNKNOWN (a field not known, an array element)."""
        value: Any = self.record
        for part in selector[1:].split(".")[1:]:
            value = value.get(part, _UNKNOWN) if isinstance(value, dict) else _UNKNOWN
        return _UNKNOWN if isinstance(value, dict) or "[" in selector else value


def _unquoted(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        raise _Unreadable from None
    return value if isinstance(value, str) else text


def _terms_occur(text: str, record: dict[str, Any]) -> bool:
    """Terms (`AssumeRole "sts.amazonaws.com"`): each must occur in the record; of `?a ?b`, one."""
    known = json.dumps(record)
    required, optional = [], []
    for token in re.findall(r'[?-]?"(?:[^"\\]|\\.)*"|\S+', text):
        sign, term = (token[0], token[1:]) if token[0] in "?-" else ("", token)
        term = _unquoted(term) if term.startswith('"') else term
        if sign == "?":
            optional.append(term)
        elif not sign:
            required.append(term)
    return all(term in known for term in required) and (not optional or any(term in known for term in optional))
