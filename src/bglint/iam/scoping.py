"""Is a granted action limited to the install? By tag, by ARN, by subnet/VPC.

A grant is scoped when its own statement carries the condition, when every boundary
Allow that lets it through does, or when a Deny on every resource removes the action
unless the scoping holds (the "Deny StringNotEquals install tag" pattern).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bglint.iam.effective import Permissions, Scope
from bglint.model import PLACEHOLDER, Condition

POSITIVE = ("StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike")
NEGATIVE = ("StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase", "ArnNotEquals", "ArnNotLike")
_INSTALL_SPECIFIC = re.compile(
    r"\.nuon\.install\.(id|name)|\$\{[^}]*install[^}]*\}|\$\{[A-Za-z0-9]+\.[A-Za-z0-9.]+\}|\$\{AWS::Stack(Name|Id)\}",
    re.IGNORECASE,
)
_NETWORK_ID = re.compile(r"\b(?:subnet|vpc)-[0-9a-f]+\b")
_NETWORK_ARN = re.compile(rf":(?:subnet|vpc)/(?:(?:subnet|vpc)-[0-9a-f]+|{PLACEHOLDER})$")


def _operator(condition: Condition) -> str:
    """`ForAnyValue:StringEqualsIfExists` -> `StringEquals`."""
    return condition.operator.split(":")[-1].removesuffix("IfExists")


def has_tag_condition(conditions: Iterable[Condition], tag_keys: Iterable[str], operators: tuple[str, ...]) -> bool:
    wanted = {key.lower() for key in tag_keys}
    for cond in conditions:
        prefix, _, tag = cond.key.partition("/")
        if _operator(cond) in operators and prefix.lower().endswith(":resourcetag") and tag.lower() in wanted:
            return True
    return False


def has_network_condition(
    conditions: Iterable[Condition], allowed_ids: Iterable[str], operators: tuple[str, ...]
) -> bool:
    allowed = set(allowed_ids)
    for cond in conditions:
        limited = not allowed or all(set(_NETWORK_ID.findall(v) or ["?"]) <= allowed for v in cond.values)
        if cond.key.lower() in ("ec2:subnet", "ec2:vpc") and _operator(cond) in operators and limited:
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


@dataclass(frozen=True)
class Scoping:
    """Decides, for one role, which actions granted by a statement are scoped."""

    perms: Permissions
    statement_scoped: Callable[[Scope], bool]  # the statement itself carries the scoping
    deny_scoped: Callable[[Scope], bool]  # a Deny that removes everything outside the scoping

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
            certain = "*" in s.statement.resources and not s.statement.conditional and not s.policy.conditional
            if certain and self.deny_scoped(s):
                covered |= s.bits
        return covered


def tag_scoping(perms: Permissions, tag_keys: tuple[str, ...]) -> Scoping:
    return Scoping(
        perms,
        lambda s: has_tag_condition(s.statement.conditions, tag_keys, POSITIVE) or names_install_resources(s),
        lambda s: has_tag_condition(s.statement.conditions, tag_keys, NEGATIVE),
    )


def network_scoping(perms: Permissions, allowed_ids: tuple[str, ...]) -> Scoping:
    return Scoping(
        perms,
        lambda s: (
            has_network_condition(s.statement.conditions, allowed_ids, POSITIVE)
            or names_network_resources(s, allowed_ids)
        ),
        lambda s: has_network_condition(s.statement.conditions, allowed_ids, NEGATIVE),
    )
