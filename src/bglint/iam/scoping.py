"""Is a granted action limited to the install? By tag, by ARN, by subnet/VPC.

A grant is scoped when its own statement carries the condition, when every boundary
Allow that lets it through does, or when a certain Deny removes the action unless the
scoping holds (the "Deny StringNotEquals install tag" pattern, or Deny + NotResource on
the install's ARNs).

A condition scopes by its operator and values, not by naming a key: it must fail when the
key is absent (not `...IfExists`, not `ForAllValues:`) and must not accept every value
(`StringLike "*"`, `"?*"`); a Deny's negated condition must hold when the key is absent, or
untagged resources stay reachable.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Final

from bglint.iam.conditions import accepts_any_value, matches_when_absent, parse
from bglint.iam.effective import Permissions, Scope
from bglint.model import PLACEHOLDER, Condition
from bglint.regex import Regex

_COMPARED = frozenset({"stringequals", "stringlike", "stringequalsignorecase", "arnlike"})
_INSTALL_SPECIFIC = Regex(
    r"\.nuon\.install\.(id|name)|\$\{[^}]*install[^}]*\}|\$\{[A-Za-z0-9]+\.[A-Za-z0-9.]+\}|\$\{AWS::Stack(Name|Id)\}",
    re.IGNORECASE,
)
_NETWORK_ID = Regex(r"\b(?:subnet|vpc)-[0-9a-f]+\b")
_NETWORK_ARN = Regex(rf":(?:subnet|vpc)/(?:(?:subnet|vpc)-[0-9a-f]+|{PLACEHOLDER})$")
# A value that names one network: an id or a template for one, at the end of the value.
_ONE_NETWORK = Regex(rf"(?:^|[/:])(?:(?:subnet|vpc)-[0-9a-f]+|{PLACEHOLDER})$")
# Keys on the tags of the resource acted on: aws:ResourceTag/k, a service's own copy
# (ec2:ResourceTag/k, ssm:resourceTag/k) and RDS's per-resource ones (rds:db-tag/k, rds:cluster-tag/k).
_RESOURCE_TAG_KEY = Regex(r"[a-z0-9-]+:(?:resourcetag|(?!req-)[a-z-]+-tag)/(.+)")


def limits(condition: Condition, negated: bool) -> bool:
    """Whether the condition limits the request to its values (or, negated, excludes all others).

    Positive: false when the key is absent, and its values do not accept everything.
    Negated (in a Deny): true when the key is absent, and its values do not accept everything."""
    op = parse(condition.operator)
    if op.negated != negated or op.base not in _COMPARED or accepts_any_value(condition):
        return False
    return matches_when_absent(condition) == negated


def has_tag_condition(conditions: Iterable[Condition], tag_keys: Iterable[str], negated: bool) -> bool:
    wanted = {key.lower() for key in tag_keys}
    for cond in conditions:
        found = _RESOURCE_TAG_KEY.fullmatch(cond.key.lower())
        if found and found.group(1) in wanted and limits(cond, negated):
            return True
    return False


def has_network_condition(conditions: Iterable[Condition], allowed_ids: Iterable[str], negated: bool) -> bool:
    allowed = set(allowed_ids)
    for cond in conditions:
        if cond.key.lower() not in ("ec2:subnet", "ec2:vpc") or not limits(cond, negated):
            continue
        named = all(_ONE_NETWORK.search(v) for v in cond.values)
        if named and (not allowed or all(set(_NETWORK_ID.findall(v) or ["?"]) <= allowed for v in cond.values)):
            return True
    return False


def names_install_resources(scope: Scope) -> bool:
    """Every Resource of the statement is an install-specific ARN (it names the install id)."""
    resources = scope.statement.resources
    return bool(resources) and not scope.statement.not_resource and all(_INSTALL_SPECIFIC.search(r) for r in resources)


def names_network_resources(scope: Scope, allowed_ids: Iterable[str]) -> bool:
    """Every Resource is a subnet or VPC ARN (of the configured ids, when given)."""
    resources = scope.statement.resources
    allowed = tuple(allowed_ids)
    return (
        bool(resources)
        and not scope.statement.not_resource
        and all(
            _NETWORK_ARN.search(r) and (not allowed or set(_NETWORK_ID.findall(r) or ["?"]) <= set(allowed))
            for r in resources
        )
    )


def names_install_exceptions(scope: Scope) -> bool:
    """A NotResource whose every entry is an install-specific ARN: the statement is about everything else."""
    resources = scope.statement.resources
    return bool(resources) and scope.statement.not_resource and all(_INSTALL_SPECIFIC.search(r) for r in resources)


class Scoping:
    """Decides, for one role, which actions granted by a statement are scoped."""

    def __init__(
        self,
        perms: Permissions,
        statement_scoped: Callable[[Scope], bool],  # the statement itself carries the scoping
        # Of a certain Deny's actions, those it removes everywhere outside the scoping.
        deny_covers: Callable[[Scope], int],
    ) -> None:
        self.perms: Final = perms
        self.statement_scoped: Final = statement_scoped
        self.deny_covers: Final = deny_covers

    def loose(self, scope: Scope, candidates: int) -> int:
        """Which of `candidates` (an action bitset), granted by `scope`, are not scoped at all."""
        if self.statement_scoped(scope):
            return 0
        return candidates & ~self.covered

    @functools.cached_property
    def covered(self) -> int:
        """Actions scoped whichever statement grants them: by the boundary or by a scoping Deny."""
        covered = 0
        if self.perms.boundary_allows is not None:
            scoped = unscoped = 0
            for s in self.perms.boundary_allows:
                if self.statement_scoped(s):
                    scoped |= s.bits
                else:
                    unscoped |= s.bits
            covered |= scoped & ~unscoped
        for s in (*self.perms.denies, *self.perms.boundary_denies):
            if s.certain:
                covered |= self.deny_covers(s)
        return covered


def _scoping_deny(scope: Scope, scoped_by: Callable[[Condition], bool]) -> int:
    """The actions a Deny removes on every resource unless one of its conditions is met,
    every other condition holding whatever the request (so the Deny surely applies)."""
    statement = scope.statement
    if statement.not_resource or "*" not in statement.resources:
        return 0
    covered = 0
    for index, condition in enumerate(statement.conditions):
        if scoped_by(condition):
            others = scope.bits
            for other, always in enumerate(scope.always):
                if other != index:
                    others &= always
            covered |= others
    return covered


def tag_scoping(perms: Permissions, tag_keys: tuple[str, ...]) -> Scoping:
    def deny_covers(s: Scope) -> int:
        if names_install_exceptions(s):
            return s.free_bits  # Deny everything but the install's resources
        return _scoping_deny(s, lambda c: has_tag_condition((c,), tag_keys, negated=True))

    return Scoping(
        perms,
        lambda s: has_tag_condition(s.statement.conditions, tag_keys, negated=False) or names_install_resources(s),
        deny_covers,
    )


def network_scoping(perms: Permissions, allowed_ids: tuple[str, ...]) -> Scoping:
    return Scoping(
        perms,
        lambda s: (
            has_network_condition(s.statement.conditions, allowed_ids, negated=False)
            or names_network_resources(s, allowed_ids)
        ),
        lambda s: _scoping_deny(s, lambda c: has_network_condition((c,), allowed_ids, negated=True)),
    )
