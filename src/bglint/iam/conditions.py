"""IAM Condition operators: exact evaluation against a request, and what can be known without one.

Semantics from the IAM User Guide, "IAM JSON policy elements: Condition operators" and
"Single-valued vs. multivalued context keys":
- several values of one operator and key: any of them may match (OR);
- a key absent from the request: a positive operator is false, a negated one (`StringNotEquals`,
  `ArnNotLike`, `NotIpAddress`, ...) is true; `...IfExists` is true; `ForAllValues:` is true
  ("returns true if there are no keys in the request"); `ForAnyValue:` is false; `Null` says
  whether the key is absent;
- `ArnEquals` and `ArnLike` are the same operator (wildcards in each of the six segments).

Without a request, a condition is judged per action (`judge`): it holds for every request of
the action (ALWAYS), for none (NEVER), or it depends. A service's own key the action does not
carry (per the catalog) is never in its request context.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Mapping, Sequence

from bglint.iam.glob import glob_match
from bglint.model import Condition
from bglint.regex import Regex

# Request context: lowercase key -> its values (one for a single-valued key).
Context = Mapping[str, Sequence[str]]


class Verdict(enum.Enum):
    ALWAYS = "always"
    NEVER = "never"
    DEPENDS = "depends"


# "Availability - This key is always included in the request context" (IAM User Guide,
# "AWS global condition context keys").
ALWAYS_PRESENT = frozenset(
    {
        "aws:currenttime",
        "aws:epochtime",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:userid",
        "aws:securetransport",
        "aws:requestedregion",
        "aws:viaawsservice",
        "aws:principalisawsservice",
    }
)

_NEGATED = frozenset(
    {
        "stringnotequals",
        "stringnotequalsignorecase",
        "stringnotlike",
        "numericnotequals",
        "datenotequals",
        "arnnotequals",
        "arnnotlike",
        "notipaddress",
    }
)
_POLICY_VARIABLE = Regex(r"\$\{([^}]*)\}")
_WILDCARD_ONLY = Regex(r"\*[*?]*|[*?]*\*")


class Parsed:
    """An operator taken apart: `ForAnyValue:StringNotLikeIfExists` -> any, stringlike, negated, if_exists."""

    __slots__ = ("base", "if_exists", "negated", "qualifier")

    def __init__(self, operator: str) -> None:
        qualifier, _, name = operator.rpartition(":")
        name = name.lower()
        self.qualifier = qualifier.lower()  # "", "forallvalues" or "foranyvalue"
        self.if_exists = name.endswith("ifexists") and name != "ifexists"
        name = name.removesuffix("ifexists") if self.if_exists else name
        self.negated = name in _NEGATED
        self.base = _POSITIVE_OF.get(name, name)


_POSITIVE_OF = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "numericnotequals": "numericequals",
    "datenotequals": "dateequals",
    "arnnotequals": "arnlike",
    "arnnotlike": "arnlike",
    "arnequals": "arnlike",
    "notipaddress": "ipaddress",
}


@functools.lru_cache(maxsize=512)
def parse(operator: str) -> Parsed:
    return Parsed(operator)


# -- exact evaluation against a request -----------------------------------------------


def holds(condition: Condition, context: Context) -> bool:
    """Whether one condition (operator, key, values) holds for the request `context`."""
    op = parse(condition.operator)
    present = context.get(condition.key.lower())
    values = tuple(substitute(v, context) for v in condition.values)
    if op.base == "null":
        wanted_absent = any(v is not None and v.lower() == "true" for v in values)
        return (not present) == wanted_absent
    if not present:
        if op.qualifier == "forallvalues":
            return True
        if op.qualifier == "foranyvalue":
            return False
        return op.if_exists or op.negated
    known = tuple(v for v in values if v is not None)
    if op.qualifier == "forallvalues":
        return all(_one_value(op, item, known) for item in present)
    if op.qualifier == "foranyvalue":
        return any(_one_value(op, item, known) for item in present)
    return all(_one_value(op, item, known) for item in present)


def _one_value(op: Parsed, item: str, values: Sequence[str]) -> bool:
    """One request value against the policy's values: any match, or none for a negated operator."""
    if op.base == "arnlike" and op.negated:
        # A value that is not an ARN matches nothing, negated or not.
        return all(_is_arn(value) and _is_arn(item) and not arn_like(value, item) for value in values)
    matched = any(_matches(op.base, item, value) for value in values)
    return not matched if op.negated else matched


def _is_arn(text: str) -> bool:
    return text.startswith("arn:") and text.count(":") >= 5


def _matches(base: str, item: str, value: str) -> bool:
    if base == "stringequals":
        return item == value
    if base == "stringequalsignorecase":
        return item.casefold() == value.casefold()
    if base == "stringlike":
        return glob_match(value, item)
    if base == "arnlike":
        return arn_like(value, item)
    if base == "bool":
        return item.lower() == value.lower()
    if base == "binaryequals":
        return item == value
    if base == "ipaddress":
        return _in_network(item, value)
    if base.startswith("numeric"):
        return _compare(base.removeprefix("numeric"), _number(item), _number(value))
    if base.startswith("date"):
        return _compare(base.removeprefix("date"), _instant(item), _instant(value))
    return False  # an operator IAM does not have never matches


def _compare(relation: str, left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return False
    return {
        "equals": left == right,
        "lessthan": left < right,
        "lessthanequals": left <= right,
        "greaterthan": left > right,
        "greaterthanequals": left >= right,
    }.get(relation, False)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _instant(text: str) -> float | None:
    """An ISO 8601 date or time, or epoch seconds, as epoch seconds."""
    if re.fullmatch(r"-?\d+", text.strip()):
        return float(text)
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _in_network(item: str, value: str) -> bool:
    import ipaddress  # only requests with IP conditions need it

    try:
        return ipaddress.ip_address(item) in ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False


def arn_like(pattern: str, arn: str) -> bool:
    """ARN operators: both split into six segments at the first five colons, each segment globbed."""
    wanted = pattern.split(":", 5)
    actual = arn.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return False
    return all(glob_match(w, a) for w, a in zip(wanted, actual, strict=True))


def substitute(text: str, context: Context) -> str | None:
    """IAM policy variables (`${aws:username}`, `${*}`...) filled from the request; None when one is missing.

    An element whose variable has no value in the request does not match (IAM User Guide,
    "IAM policy elements: Variables and tags"), unless the variable gives a default value.
    """
    if "${" not in text:
        return text
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1)
        if inner in ("*", "?", "$"):
            return inner
        name, comma, default = inner.partition(",")
        if ":" not in name or "::" in name:
            return match.group(0)  # a CloudFormation placeholder (`${InstallId}`), not a policy variable
        found = context.get(name.strip().lower())
        if found and len(found) == 1:
            return found[0]
        if comma:
            return default.strip().strip("'")
        missing = True
        return ""

    filled = _POLICY_VARIABLE.sub(fill, text)
    return None if missing else filled


# -- what is known without a request ---------------------------------------------------


class Presence(enum.Enum):
    PRESENT = "present"  # in every request of the action
    ABSENT = "absent"  # in none
    MAYBE = "maybe"


def judge(condition: Condition, presence: Presence, now: dt.datetime | None = None) -> Verdict:
    """Whether `condition` holds whatever the request is, given how its key can be present."""
    if now is None:
        return _judged_now(condition, presence)
    return _judge(condition, presence, now)


@functools.lru_cache(maxsize=4096)  # policies repeat across templates; "now" is the run's
def _judged_now(condition: Condition, presence: Presence) -> Verdict:
    return _judge(condition, presence, dt.datetime.now(dt.UTC))


def _judge(condition: Condition, presence: Presence, now: dt.datetime) -> Verdict:
    when_absent = _when_absent(condition)
    if presence is Presence.ABSENT:
        return Verdict.ALWAYS if when_absent else Verdict.NEVER
    when_present = _when_present(condition, now)
    if presence is Presence.PRESENT:
        return when_present
    if when_present is Verdict.ALWAYS and when_absent:
        return Verdict.ALWAYS
    if when_present is Verdict.NEVER and not when_absent:
        return Verdict.NEVER
    return Verdict.DEPENDS


def _when_absent(condition: Condition) -> bool:
    return holds(condition, {})


def _when_present(condition: Condition, now: dt.datetime) -> Verdict:
    """Over every value the key may have: does the condition always hold, never, or it depends?"""
    op = parse(condition.operator)
    values = condition.values
    if op.base == "null":
        return Verdict.NEVER if holds(condition, {}) else Verdict.ALWAYS
    if any("${" in v or "{{" in v for v in values):
        return Verdict.DEPENDS  # a policy variable or template: its value is not known here
    if is_time_key(condition.key) and not op.qualifier:
        return _current_time(op, values, now)
    if not (op.base == "stringlike" and any(v and set(v) == {"*"} for v in values)):
        return Verdict.DEPENDS
    # Every value matches "*". A multivalued key may also be present with no value at all:
    # ForAllValues then holds and ForAnyValue does not.
    if op.qualifier == "forallvalues":
        return Verdict.DEPENDS if op.negated else Verdict.ALWAYS
    if op.qualifier == "foranyvalue":
        return Verdict.NEVER if op.negated else Verdict.DEPENDS
    return Verdict.NEVER if op.negated else Verdict.ALWAYS


def _current_time(op: Parsed, values: Sequence[str], now: dt.datetime) -> Verdict:
    """Comparisons of the current time with a moment in the past hold (or fail) from now on."""
    if not op.base.startswith("date") or op.negated:
        return Verdict.DEPENDS
    instants = [t for t in map(_instant, values) if t is not None]
    if not instants or max(instants) >= now.timestamp():
        return Verdict.DEPENDS
    relation = op.base.removeprefix("date")
    if relation in ("greaterthan", "greaterthanequals"):
        return Verdict.ALWAYS
    if relation in ("lessthan", "lessthanequals", "equals"):
        return Verdict.NEVER
    return Verdict.DEPENDS


def is_time_key(key: str) -> bool:
    return key.lower() in ("aws:currenttime", "aws:epochtime")


def accepts_any_value(condition: Condition) -> bool:
    """Values that limit nothing: `*`, `?*`, `**` under a Like operator (for scoping decisions)."""
    op = parse(condition.operator)
    if op.base not in ("stringlike", "arnlike"):
        return False
    return any(_WILDCARD_ONLY.fullmatch(v) for v in condition.values)


def matches_when_absent(condition: Condition) -> bool:
    """Whether the condition holds for a request without its key (IfExists, ForAllValues, negated...)."""
    return _when_absent(condition)
