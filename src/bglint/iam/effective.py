"""What a role can really do: its Allows, minus explicit Denies, within its boundary.

Each statement's actions are expanded against the catalog once (NotAction is the
complement). A Deny is assumed to apply only when it is unconditional, covers every
resource and is not under a CloudFormation `Fn::If`; an Allow with IAM conditions is
"allowed under conditions" and keeps them. A boundary is an upper bound: an action
outside every boundary Allow, or hit by an unconditional boundary Deny, is not held.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bglint.iam.catalog import Catalog
from bglint.model import Condition, Location, Policy, Role, Statement

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_TEMPLATED = re.compile(r"\$\{[^}]*\}|\{\{[^}]*\}\}")


@dataclass(frozen=True)
class Scope:
    """One statement with its actions expanded against the catalog."""

    statement: Statement
    policy: Policy
    actions: frozenset[str]
    # (pattern, location) of Action entries that match no known action
    unknown: tuple[tuple[str, Location], ...] = ()

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


@dataclass(frozen=True)
class Decision:
    allowed: bool
    conditions: tuple[Condition, ...] = ()
    via: tuple[Scope, ...] = ()

    @property
    def unconditional(self) -> bool:
        return self.allowed and not self.conditions


@dataclass(frozen=True)
class Permissions:
    role: Role
    allows: tuple[Scope, ...]
    denies: tuple[Scope, ...]
    boundary_allows: tuple[Scope, ...] | None  # None: no boundary document applies
    boundary_denies: tuple[Scope, ...]
    unknown_policies: tuple[Policy, ...]  # documents bglint does not have: never assumed harmless

    @functools.cached_property
    def denied(self) -> frozenset[str]:
        """Actions an explicit, certain Deny removes on every resource."""
        return _union(s.actions for s in self.denies if s.certain_deny)

    @functools.cached_property
    def boundary_ceiling(self) -> frozenset[str] | None:
        """Every action the boundary can let through (on some resource, under some condition)."""
        if self.boundary_allows is None:
            return None
        allowed = _union(s.actions for s in self.boundary_allows)
        return allowed - _union(s.actions for s in self.boundary_denies if s.certain_deny)

    def effective(self, scope: Scope) -> frozenset[str]:
        """What one Allow statement really grants after Denies and the boundary."""
        held = scope.actions - self.denied
        ceiling = self.boundary_ceiling
        return held if ceiling is None else held & ceiling

    @functools.cached_property
    def all_effective(self) -> frozenset[str]:
        return _union(self.effective(s) for s in self.allows)

    @functools.cached_property
    def unconditional_on_star(self) -> frozenset[str]:
        """Actions held on every resource with no condition at all."""
        held = _union(s.actions for s in self.allows if s.on_every_resource and s.unconditional)
        held -= self.denied
        if self.boundary_allows is None:
            return held
        bound = _union(s.actions for s in self.boundary_allows if s.on_every_resource and s.unconditional)
        return held & (bound - _union(s.actions for s in self.boundary_denies if s.certain_deny))

    def can(self, action: str, resource: str = "*") -> Decision:
        """Can the role do `action` on `resource`, and under which conditions?"""
        key = action.lower()
        identity = [s for s in self.allows if key in s.actions and s.covers(resource)]
        if not identity or self._denied(key, resource, self.denies):
            return Decision(False)
        conditions = _fewest_conditions(identity)
        via = tuple(identity)
        if self.boundary_allows is not None:
            bound = [s for s in self.boundary_allows if key in s.actions and s.covers(resource)]
            if not bound or self._denied(key, resource, self.boundary_denies):
                return Decision(False)
            conditions += _fewest_conditions(bound)
            via += tuple(bound)
        return Decision(True, conditions, via)

    @staticmethod
    def _denied(key: str, resource: str, denies: Iterable[Scope]) -> bool:
        return any(
            key in s.actions
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
        role, tuple(allows), tuple(denies), boundary_allows, tuple(boundary_denies), tuple(unknown_policies)
    )


def expand_statement(statement: Statement, policy: Policy, catalog: Catalog) -> Scope:
    matched: set[str] = set()
    unknown = []
    for index, pattern in enumerate(statement.actions):
        if "${" in pattern:
            # A parameter or Sub variable could name anything: assume the widest match for
            # an Allow, and assume nothing for a Deny.
            if not statement.is_allow:
                continue
            pattern = _PLACEHOLDER.sub("*", pattern)
        found = catalog.expand(pattern) if ":" in pattern or pattern == "*" else frozenset()
        if not found:
            unknown.append((pattern, statement.action_loc(index)))
        matched |= found
    actions = catalog.all_actions() - matched if statement.not_action else frozenset(matched)
    return Scope(statement, policy, frozenset(actions), tuple(unknown))


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    result: set[str] = set()
    for item in sets:
        result |= item
    return frozenset(result)


def _fewest_conditions(scopes: list[Scope]) -> tuple[Condition, ...]:
    """Of several statements that allow the same thing, the least constrained one wins."""
    return min((s.statement.conditions for s in scopes), key=len)


@functools.cache
def _resource_regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    if resource == "*":
        return False
    return _resource_regex(pattern).fullmatch(resource) is not None
