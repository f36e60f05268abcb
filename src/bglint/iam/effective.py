"""What a role can really do: its Allows, minus explicit Denies, within its boundary.

Each statement's actions are expanded against the catalog once (NotAction is the
complement). A Deny is assumed to apply only when it is unconditional, covers every
resource and is not under a CloudFormation `Fn::If`; an Allow with IAM conditions is
"allowed under conditions" and keeps them. A boundary is an upper bound: an action
outside every boundary Allow, or hit by an unconditional boundary Deny, is not held.

Action sets are integers (one bit per catalog action, see `Catalog.to_bits`): the
`*_bits` members are what rules compute with; the frozenset properties are the same
sets as action keys, for people and tests.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from bglint.iam.catalog import Catalog
from bglint.iam.glob import glob_regex
from bglint.model import PLACEHOLDER, SUB_VARIABLE, Condition, Location, Policy, Role, Statement

_PLACEHOLDER = re.compile(SUB_VARIABLE)
_TEMPLATED = re.compile(PLACEHOLDER)


@dataclass(frozen=True)
class Scope:
    """One statement with its actions expanded against the catalog."""

    statement: Statement
    policy: Policy
    bits: int
    # (pattern, location) of Action entries that match no known action
    unknown: tuple[tuple[str, Location], ...] = ()
    catalog: Catalog | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def actions(self) -> frozenset[str]:
        assert self.catalog is not None
        return self.catalog.to_keys(self.bits)

    @property
    def on_every_resource(self) -> bool:
        return self.statement.not_resource or "*" in self.statement.resources

    @property
    def unconditional(self) -> bool:
        return not self.statement.conditions

    @property
    def certain_deny(self) -> bool:
        """A Deny that surely applies everywhere: no conditions, every resource, no Fn::If."""
        s = self.statement
        return (
            not s.is_allow
            and not s.conditions
            and not s.conditional
            and not self.policy.conditional
            and "*" in s.resources
            and not s.not_resource
        )

    def covers(self, resource: str) -> bool:
        patterns = self.statement.resources
        if self.statement.is_allow:
            patterns = tuple(_TEMPLATED.sub("*", p) for p in patterns)
        matched = any(_resource_matches(p, resource) for p in patterns)
        return not matched if self.statement.not_resource else matched


class Decision(NamedTuple):
    allowed: bool
    conditions: tuple[Condition, ...] = ()
    via: tuple[Scope, ...] = ()

    @property
    def unconditional(self) -> bool:
        return self.allowed and not self.conditions


@dataclass(frozen=True)
class Permissions:
    role: Role
    catalog: Catalog
    allows: tuple[Scope, ...]
    denies: tuple[Scope, ...]
    boundary_allows: tuple[Scope, ...] | None  # None: no boundary document applies
    boundary_denies: tuple[Scope, ...]
    unknown_policies: tuple[Policy, ...]  # documents bglint does not have: never assumed harmless

    @functools.cached_property
    def denied_bits(self) -> int:
        """Actions an explicit, certain Deny removes on every resource."""
        return union(s.bits for s in self.denies if s.certain_deny)

    @functools.cached_property
    def boundary_ceiling_bits(self) -> int | None:
        """Every action the boundary can let through (on some resource, under some condition)."""
        if self.boundary_allows is None:
            return None
        allowed = union(s.bits for s in self.boundary_allows)
        return allowed & ~union(s.bits for s in self.boundary_denies if s.certain_deny)

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
        """Actions held on every resource with no condition at all."""
        held = union(s.bits for s in self.allows if s.on_every_resource and s.unconditional)
        held &= ~self.denied_bits
        if self.boundary_allows is None:
            return held
        bound = union(s.bits for s in self.boundary_allows if s.on_every_resource and s.unconditional)
        return held & bound & ~union(s.bits for s in self.boundary_denies if s.certain_deny)

    # The same sets as action keys, for people and tests.

    @functools.cached_property
    def all_effective(self) -> frozenset[str]:
        return self.catalog.to_keys(self.all_effective_bits)

    @functools.cached_property
    def unconditional_on_star(self) -> frozenset[str]:
        return self.catalog.to_keys(self.unconditional_bits)

    def can(self, action: str, resource: str = "*") -> Decision:
        """Can the role do `action` on `resource`, and under which conditions?"""
        bit = self.catalog.bit(action.lower())
        if not bit & self.named_bits:  # most questions are about actions no statement names
            return Decision(False)
        identity = [s for s in self.allows if s.bits & bit and s.covers(resource)]
        if not identity or self._denied(bit, resource, self.denies):
            return Decision(False)
        conditions = _fewest_conditions(identity)
        via = tuple(identity)
        if self.boundary_allows is not None:
            bound = [s for s in self.boundary_allows if s.bits & bit and s.covers(resource)]
            if not bound or self._denied(bit, resource, self.boundary_denies):
                return Decision(False)
            conditions += _fewest_conditions(bound)
            via += tuple(bound)
        return Decision(True, conditions, via)

    @functools.cached_property
    def named_bits(self) -> int:
        """Actions any Allow names, on any resource, under any condition."""
        return union(s.bits for s in self.allows)

    @staticmethod
    def _denied(bit: int, resource: str, denies: Iterable[Scope]) -> bool:
        return any(
            s.bits & bit
            and not s.statement.conditions
            and not s.statement.conditional
            and not s.policy.conditional
            and s.covers(resource)
            for s in denies
        )


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
    return Scope(statement, policy, bits, located, catalog)


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


def _fewest_conditions(scopes: list[Scope]) -> tuple[Condition, ...]:
    """Of several statements that allow the same thing, the least constrained one wins."""
    return min((s.statement.conditions for s in scopes), key=len)


def _resource_regex(pattern: str) -> re.Pattern[str]:
    return glob_regex(pattern)  # linear time, and a bounded cache: patterns come from files


def _resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    if resource == "*":
        return False
    return _resource_regex(pattern).fullmatch(resource) is not None
