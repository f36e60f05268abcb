"""What each role can do, action by action, with how (or whether) each grant is scoped.

This is the data behind `bglint permissions`; it judges nothing beyond the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bglint.iam.catalog import Catalog
from bglint.iam.effective import Permissions
from bglint.iam.scoping import tag_scoping

SCOPED, NOT_SCOPED, UNSCOPABLE = "scoped", "not scoped", "unscopable"


@dataclass(frozen=True)
class Grant:
    action: str  # canonical case, service:Name
    access_level: str
    scoping: str  # scoped | not scoped | unscopable (the action takes no resource-tag condition)
    conditional: bool  # every statement granting it has IAM conditions that can fail


@dataclass
class RoleSummary:
    services: dict[str, list[Grant]] = field(default_factory=dict)
    unknown_policies: list[str] = field(default_factory=list)  # documents not available: may grant more


def summarise(perms: Permissions, catalog: Catalog, tag_keys: tuple[str, ...]) -> RoleSummary:
    scoping = tag_scoping(perms, tag_keys)
    worst: dict[str, str] = {}
    conditional: dict[str, bool] = {}
    scopable = catalog.tag_scopable_bits
    for scope in perms.allows:
        granted_bits = perms.effective_bits(scope)
        loose = catalog.to_keys(scoping.loose(scope, granted_bits & scopable))
        tagged = catalog.to_keys(granted_bits & scopable)
        for key in catalog.to_keys(granted_bits):
            state = UNSCOPABLE if key not in tagged else NOT_SCOPED if key in loose else SCOPED
            # One unscoped grant is enough for the action to be unscoped.
            if worst.get(key) != NOT_SCOPED:
                worst[key] = state
            # Conditions that always hold for this action (see effective.py) do not count.
            conditional[key] = conditional.get(key, True) and not catalog.bit(key) & scope.free_bits
    summary = RoleSummary(unknown_policies=[p.arn or p.name for p in perms.unknown_policies])
    for key in sorted(worst):
        action = catalog.lookup(key)
        name = f"{action.service}:{action.name}" if action else key
        level = action.access_level if action else ""
        summary.services.setdefault(key.split(":")[0], []).append(Grant(name, level, worst[key], conditional[key]))
    return summary
