"""What each audited role can reach, by IAM access level: the facts behind the readable report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field

from bglint.iam.catalog import Catalog
from bglint.iam.effective import analyse
from bglint.model import Policy, Role, Statement

# The most consequential first.
ORDER = ("Permissions management", "Write", "Tagging", "Read", "List")


@dataclass(frozen=True)
class LevelReach:
    level: str  # an IAM access level: List, Read, Tagging, Write, Permissions management
    actions: int  # actions the role holds at this level (after Denies and the boundary)
    on_everything: int  # of them, held on every resource with no condition
    services: tuple[str, ...]  # services with the most such actions first


@dataclass(frozen=True)
class Reach:
    levels: tuple[LevelReach, ...]
    unknown_policies: tuple[str, ...]  # documents bglint could not read: the role may reach more


@dataclass
class Reacher:
    """Computes reaches, once per distinct set of documents: an account's roles mostly share them."""

    catalog: Catalog
    _seen: dict[Hashable, Reach] = field(default_factory=dict)

    def __call__(self, role: Role) -> Reach:
        key = _signature(role)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = reach(role, self.catalog)
        return found


def reach(role: Role, catalog: Catalog) -> Reach:
    perms = analyse(role, catalog)
    held = perms.all_effective
    loose = perms.unconditional_on_star
    levels = []
    for level in ORDER:
        at = held & catalog.at_level(level)
        if not at:
            continue
        services = Counter(key.partition(":")[0] for key in at)
        ranked = tuple(name for name, _ in sorted(services.items(), key=lambda item: (-item[1], item[0])))
        levels.append(LevelReach(level, len(at), len(at & loose), ranked))
    return Reach(tuple(levels), tuple(p.arn or p.name for p in perms.unknown_policies))


def _signature(role: Role) -> Hashable:
    """Everything effective permissions depend on, and nothing else (no names, no locations)."""
    boundary = role.boundary
    bound = tuple(_policy(p) for p in boundary.policies) if boundary is not None and boundary.bounds else None
    return tuple(_policy(p) for p in role.policies), bound


def _policy(policy: Policy) -> Hashable:
    unknown = "" if policy.document_known else policy.arn or policy.name
    return unknown, policy.conditional, tuple(_statement(s) for s in policy.statements)


def _statement(s: Statement) -> Hashable:
    return s.effect, s.actions, s.resources, s.not_action, s.not_resource, s.conditions, s.conditional
