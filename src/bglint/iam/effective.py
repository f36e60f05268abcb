"""What a role can really do: its Allows, minus explicit Denies, within its boundary.

Each statement's actions are expanded against the catalog once (NotAction is the
complement), then narrowed to what the statement can really reach: actions with a resource
type its Resource ARNs can name, and actions for which its conditions can hold (a condition
on a key the action never carries is false for it, see `conditions.judge`). Per action, a
condition that always holds (`aws:CurrentTime` after a past date, `...IfExists` on a key the
action lacks) does not make a grant conditional. A Deny is assumed to apply only when its
conditions always hold, it covers every resource and it is not under a CloudFormation
`Fn::If`; an Allow with other conditions is "allowed under conditions" and keeps them. A
boundary is an upper bound: an action outside every boundary Allow, or hit by a certain
boundary Deny, is not held.

`Permissions.can` answers one request; given a request context it evaluates the conditions
exactly (this is what tests/differential compares with an independent simulator).

Action sets are integers (one bit per catalog action, see `Catalog.to_bits`): the
`*_bits` members are what rules compute with; the frozenset properties are the same
sets as action keys, for people and tests.
"""

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final, NamedTuple

from bglint.iam.catalog import Catalog
from bglint.iam.conditions import (
    ALWAYS_PRESENT,
    Context,
    Presence,
    Verdict,
    holds,
    judge,
    matches_when_absent,
    substitute,
)
from bglint.iam.glob import glob_regex
from bglint.model import PLACEHOLDER, SUB_VARIABLE, Condition, Location, Policy, Role, Statement
from bglint.regex import Regex

_PLACEHOLDER = Regex(SUB_VARIABLE)
_TEMPLATED = Regex(PLACEHOLDER)
# An IAM policy variable (`${aws:username}`, `${aws:PrincipalTag/team}`): one colon, unlike
# CloudFormation's `${AWS::AccountId}` or a parameter `${InstallId}`.
_POLICY_VARIABLE = Regex(r"\$\{[a-z0-9-]+:[^:}][^}]*\}", re.IGNORECASE)
_WILDCARDS = Regex(r"[*?]*")
# Global keys the Service Authorization Reference lists per action: a request carries them only
# when its action does (aws:TagKeys and aws:RequestTag/ on actions that tag).
_PER_ACTION = Regex(r"aws:(?:tagkeys$|requesttag/)")
# "No permissions are required to perform this operation", even under an explicit Deny
# (AWS STS API Reference, GetCallerIdentity).
_NEEDS_NO_PERMISSION = frozenset({"sts:getcalleridentity"})


class Scope:
    """One statement with its actions expanded against the catalog and narrowed to what it can reach.

    A plain class (attributes `Final`: set once), not a dataclass: one is made per statement,
    and defining a dataclass costs start-up time."""

    def __init__(
        self,
        statement: Statement,
        policy: Policy,
        bits: int,  # actions the statement can apply to, on some resource, for some request
        # (pattern, location) of Action entries that match no known action
        unknown: tuple[tuple[str, Location], ...] = (),
        catalog: Catalog | None = None,
        # Per condition of the statement: the actions of `bits` for which it always holds.
        always: tuple[int, ...] = (),
    ) -> None:
        self.statement: Final = statement
        self.policy: Final = policy
        self.bits: Final = bits
        self.unknown: Final = unknown
        self.catalog: Final = catalog
        self.always: Final = always

    @functools.cached_property
    def actions(self) -> frozenset[str]:
        assert self.catalog is not None
        return self.catalog.to_keys(self.bits)

    @functools.cached_property
    def free_bits(self) -> int:
        """The actions for which every condition of the statement always holds."""
        free = self.bits
        for always in self.always:
            free &= always
        return free

    @functools.cached_property
    def on_every_resource(self) -> bool:
        s = self.statement
        return s.not_resource or any(_every_resource(p) for p in _widened(s.resources, s.is_allow))

    @property
    def certain(self) -> bool:
        """Not under a CloudFormation Fn::If: the statement is there whatever the parameters."""
        return not self.statement.conditional and not self.policy.conditional

    @property
    def certain_deny(self) -> bool:
        """A Deny that surely applies on every resource (to its `free_bits`)."""
        s = self.statement
        return not s.is_allow and self.certain and "*" in s.resources and not s.not_resource

    def open_conditions(self, bit: int) -> tuple[Condition, ...]:
        """The conditions a grant of the action `bit` depends on (those that always hold left out)."""
        return tuple(c for c, always in zip(self.statement.conditions, self.always, strict=True) if not bit & always)

    def covers(self, resource: str, context: Context | None = None) -> bool:
        """Whether the statement's Resource (or NotResource) takes in `resource`.

        Without a request, a placeholder may be anything: it is read as whatever makes the
        statement apply more widely when that is the cautious reading (an Allow's Resource, a
        Deny's NotResource), and as matching nothing otherwise. With a request, IAM policy
        variables are filled from it; a pattern whose variable the request lacks matches
        nothing, but a NotResource statement whose pattern might have named the resource then
        does not apply at all."""
        s = self.statement
        if context is not None:
            patterns = []
            for written in s.resources:
                filled = _fill(written, context, s.is_allow)
                if filled is not None:
                    patterns.append(filled)
                elif s.not_resource and _resource_matches(_same_kind(written), resource):
                    return False
        else:
            patterns = list(_placeholders_read(s))
        matched = any(_resource_matches(p, resource) for p in patterns)
        return not matched if s.not_resource else matched

    def applies(self, bit: int, resource: str, context: Context | None) -> bool:
        """Whether the statement applies to the request: surely (a Deny) or possibly (an Allow)."""
        if not bit & self.bits or not self.covers(resource, context):
            return False
        if self.statement.is_allow:
            return context is None or all(holds(c, context) for c in self.statement.conditions)
        if not self.certain:
            return False
        if context is None:
            return bool(bit & self.free_bits)
        return all(holds(c, context) for c in self.statement.conditions)


class Decision(NamedTuple):
    allowed: bool
    conditions: tuple[Condition, ...] = ()
    via: tuple[Scope, ...] = ()

    @property
    def unconditional(self) -> bool:
        return self.allowed and not self.conditions


class Permissions:
    """A role's statements, expanded; what it holds is computed on demand (and kept)."""

    def __init__(
        self,
        role: Role,
        catalog: Catalog,
        allows: tuple[Scope, ...],
        denies: tuple[Scope, ...],
        boundary_allows: tuple[Scope, ...] | None,  # None: no boundary document applies
        boundary_denies: tuple[Scope, ...],
        unknown_policies: tuple[Policy, ...],  # documents bglint does not have: never assumed harmless
    ) -> None:
        self.role: Final = role
        self.catalog: Final = catalog
        self.allows: Final = allows
        self.denies: Final = denies
        self.boundary_allows: Final = boundary_allows
        self.boundary_denies: Final = boundary_denies
        self.unknown_policies: Final = unknown_policies

    @functools.cached_property
    def denied_bits(self) -> int:
        """Actions an explicit, certain Deny removes on every resource."""
        return union(s.free_bits for s in self.denies if s.certain_deny)

    @functools.cached_property
    def boundary_ceiling_bits(self) -> int | None:
        """Every action the boundary can let through (on some resource, under some condition)."""
        if self.boundary_allows is None:
            return None
        allowed = union(s.bits for s in self.boundary_allows)
        return allowed & ~union(s.free_bits for s in self.boundary_denies if s.certain_deny)

    def effective_bits(self, scope: Scope) -> int:
        """What one Allow statement really grants after Denies and the boundary."""
        held = scope.bits & ~self.denied_bits
        ceiling = self.boundary_ceiling_bits
        return held if ceiling is None else held & ceiling

    @functools.cached_property
    def all_effective_bits(self) -> int:
        return union(self.effective_bits(s) for s in self.allows)

    @functools.cached_property
    def unconditional_bits(self) -> int:
        """Actions held on every resource under no condition that can fail."""
        held = union(s.free_bits for s in self.allows if s.on_every_resource)
        held &= ~self.denied_bits
        if self.boundary_allows is None:
            return held
        bound = union(s.free_bits for s in self.boundary_allows if s.on_every_resource)
        return held & bound & ~union(s.free_bits for s in self.boundary_denies if s.certain_deny)

    # The same sets as action keys, for people and tests.

    @functools.cached_property
    def all_effective(self) -> frozenset[str]:
        return self.catalog.to_keys(self.all_effective_bits)

    @functools.cached_property
    def unconditional_on_star(self) -> frozenset[str]:
        return self.catalog.to_keys(self.unconditional_bits)

    def can(
        self, action: str, resource: str = "*", context: Mapping[str, str | Sequence[str]] | None = None
    ) -> Decision:
        """Can the role do `action` on `resource`, and under which conditions?

        Without `context`, the answer is for some request: the conditions it depends on are
        returned, and only Denies whose conditions always hold count. With `context` (the
        request's condition keys and values), conditions are evaluated exactly."""
        key = action.lower()
        if key in _NEEDS_NO_PERMISSION:
            return Decision(True)
        bit = self.catalog.bit(key)
        if not bit & self.named_bits:  # most questions are about actions no statement names
            return Decision(False)
        request = None if context is None else self._request(key, context)
        decision = _decide(bit, resource, request, self.allows, self.denies)
        if decision.allowed and self.boundary_allows is not None:
            bound = _decide(bit, resource, request, self.boundary_allows, self.boundary_denies)
            if not bound.allowed:
                return Decision(False)
            decision = Decision(True, decision.conditions + bound.conditions, decision.via + bound.via)
        return decision

    def _request(self, key: str, context: Mapping[str, str | Sequence[str]]) -> dict[str, tuple[str, ...]]:
        """The request context as IAM would see it: a service key the action never carries is not sent."""
        bit = self.catalog.bit(key)
        request: dict[str, tuple[str, ...]] = {}
        for name, value in context.items():
            lowered = name.lower()
            if (lowered.startswith("aws:") and not _PER_ACTION.match(lowered)) or self.catalog.carrying_bits(
                lowered, bit
            ):
                request[lowered] = (value,) if isinstance(value, str) else tuple(value)
        return request

    @functools.cached_property
    def named_bits(self) -> int:
        """Actions any Allow can grant, on any resource, under any condition."""
        return union(s.bits for s in self.allows)


def _decide(
    bit: int, resource: str, context: Context | None, allows: Iterable[Scope], denies: Iterable[Scope]
) -> Decision:
    granting = [s for s in allows if s.applies(bit, resource, context)]
    if not granting or any(s.applies(bit, resource, context) for s in denies):
        return Decision(False)
    if context is not None:
        return Decision(True, (), tuple(granting))
    return Decision(True, min((s.open_conditions(bit) for s in granting), key=len), tuple(granting))


def analyse(role: Role, catalog: Catalog) -> Permissions:
    allows: list[Scope] = []
    denies: list[Scope] = []
    unknown_policies = []
    for policy in role.policies:
        if not policy.document_known:
            unknown_policies.append(policy)
        for statement in policy.statements:
            scope = expand_statement(statement, policy, catalog)
            (allows if statement.is_allow else denies).append(scope)
    boundary_allows: tuple[Scope, ...] | None = None
    boundary_denies: list[Scope] = []
    if role.boundary is not None and role.boundary.bounds:
        expanded = [expand_statement(s, p, catalog) for p in role.boundary.policies for s in p.statements]
        boundary_allows = tuple(s for s in expanded if s.statement.is_allow)
        boundary_denies = [s for s in expanded if not s.statement.is_allow]
    return Permissions(
        role, catalog, tuple(allows), tuple(denies), boundary_allows, tuple(boundary_denies), tuple(unknown_policies)
    )


def expand_statement(statement: Statement, policy: Policy, catalog: Catalog) -> Scope:
    bits, unknown = _expand_actions(statement.actions, statement.not_action, statement.is_allow, catalog)
    located = tuple((statement.actions[i], statement.action_loc(i)) for i in unknown)
    if not statement.not_resource:
        bits &= _reachable_bits(statement.resources, statement.is_allow, bits, catalog)
    always: list[int] = []
    for condition in statement.conditions:
        holds_always, never = _judged(condition, bits, catalog, statement.is_allow)
        bits &= ~never
        always.append(holds_always)
    return Scope(statement, policy, bits, located, catalog, tuple(a & bits for a in always))


def _judged(condition: Condition, bits: int, catalog: Catalog, is_allow: bool) -> tuple[int, int]:
    """(actions for which the condition always holds, actions for which it never does).

    In an Allow, a condition on the request's own tags that holds when the request has none
    (`ForAllValues:StringEquals aws:TagKeys`) limits nothing: the caller can always send none."""
    key = condition.key.lower()
    if is_allow and _PER_ACTION.match(key) and matches_when_absent(condition):
        return bits, 0
    if key in ALWAYS_PRESENT:
        groups = [(Presence.PRESENT, bits)]
    elif key.startswith("aws:") and not _PER_ACTION.match(key):
        groups = [(Presence.MAYBE, bits)]
    else:
        carried = catalog.carrying_bits(key, bits) if bits else 0
        groups = [(Presence.MAYBE, carried), (Presence.ABSENT, bits & ~carried)]
    always = never = 0
    for presence, group in groups:
        verdict = judge(condition, presence)
        if verdict is Verdict.ALWAYS:
            always |= group
        elif verdict is Verdict.NEVER:
            never |= group
    return always, never


@functools.lru_cache(maxsize=4096)  # statements repeat across templates
def _reachable_bits(resources: tuple[str, ...], is_allow: bool, bits: int, catalog: Catalog) -> int:
    """Of `bits`, the actions with a resource type that one of the Resource ARNs can name.

    An action without resource types is requested on `*`, which only a wildcard pattern matches."""
    reachable = 0
    for pattern in _widened(resources, is_allow):
        parts = pattern.split(":")
        if _WILDCARDS.fullmatch(pattern) or parts[0] != "arn" or len(parts) < 3 or "*" in parts[2] or "?" in parts[2]:
            return bits
        if "${" not in parts[2]:  # a Deny's unresolved service reaches nothing it can be sure of
            reachable |= catalog.acting_on_bits(parts[2], bits)
    return reachable


def _widened(patterns: Iterable[str], is_allow: bool) -> tuple[str, ...]:
    """An Allow's placeholders may be anything (the widest reading); a Deny's are kept as written."""
    return tuple(_TEMPLATED.sub("*", p) for p in patterns) if is_allow else tuple(patterns)


def _placeholders_read(statement: Statement) -> Iterator[str]:
    """Resource patterns with placeholders read cautiously (see `Scope.covers`)."""
    widen = statement.is_allow != statement.not_resource
    for pattern in statement.resources:
        if not _TEMPLATED.search(pattern):
            yield pattern
        elif widen:
            yield _TEMPLATED.sub("*", pattern)


def _same_kind(pattern: str) -> str:
    """The pattern with any resource id: `arn:aws:s3:::${aws:username}/*` -> `arn:aws:s3:::*`."""
    parts = pattern.split(":", 5)
    if len(parts) == 6:
        parts[5] = "*"
    return _TEMPLATED.sub("*", ":".join(parts))


def _fill(pattern: str, context: Context, is_allow: bool) -> str | None:
    """A Resource pattern for one request: policy variables from the request, other placeholders widened (Allow)."""
    filled = substitute(pattern, context) if _POLICY_VARIABLE.search(pattern) else pattern
    if filled is None:
        return None
    return _TEMPLATED.sub("*", filled) if is_allow else filled


def _every_resource(pattern: str) -> bool:
    """`*`, `arn:*`, `arn:aws:*:*:*:*`: a pattern that names every resource (of a partition)."""
    if _WILDCARDS.fullmatch(pattern) and "*" in pattern:
        return True
    parts = pattern.split(":")
    return (
        parts[0] == "arn"
        and len(parts) >= 2
        and all(_WILDCARDS.fullmatch(p) for p in parts[2:])
        and "*" in parts[-1]
        and (len(parts) == 2 or "*" in parts[2])
    )


@functools.lru_cache(maxsize=4096)
def _expand_actions(
    patterns: tuple[str, ...], not_action: bool, is_allow: bool, catalog: Catalog
) -> tuple[int, tuple[int, ...]]:
    """(actions, indexes of patterns that match nothing); cached: policies repeat across files."""
    matched = 0
    unknown = []
    for index, written in enumerate(patterns):
        pattern = written
        if "${" in pattern:
            # A parameter or Sub variable could name anything: assume the widest match for
            # an Allow, and assume nothing for a Deny.
            if not is_allow:
                continue
            pattern = _PLACEHOLDER.sub("*", pattern)
        found = catalog.expand_bits(pattern) if ":" in pattern or pattern == "*" else 0
        if not found:
            unknown.append(index)
        matched |= found
    return (catalog.all_bits & ~matched if not_action else matched), tuple(unknown)


def union(sets: Iterable[int]) -> int:
    """The union of action bitsets."""
    result = 0
    for item in sets:
        result |= item
    return result


def _resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    if resource == "*":
        return False
    return glob_regex(pattern).fullmatch(resource) is not None  # linear time, bounded cache
