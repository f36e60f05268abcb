"""What a GCP or Azure role can do, grant by grant and service by service: `bglint permissions`.

It judges nothing beyond the facts; every grant reaches the whole project or resource group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from bglint.clouds.access import CloudAccess, cloud_access
from bglint.clouds.questions import SCOPE_WORD, is_gcp_read
from bglint.model import Role


class Bound(NamedTuple):
    """One grant: a predefined/built-in role or a policy's own list, and what it holds."""

    source: str  # in the cloud's words, e.g. "predefined role roles/monitoring.viewer (policy 'p0')"
    actions: tuple[str, ...]  # GCP permissions, or Azure actions as written (patterns)
    not_actions: tuple[str, ...] = ()


class Held(NamedTuple):
    name: str  # a GCP permission, or an Azure action pattern
    change: bool  # False: it only reads


@dataclass
class CloudSummary:
    platform: str
    scope: str  # project | resource group
    bound: list[Bound] = field(default_factory=list)
    services: dict[str, list[Held]] = field(default_factory=dict)  # service / resource provider -> held
    unknown_roles: list[str] = field(default_factory=list)  # may grant more


def summarise_cloud(role: Role) -> CloudSummary:
    access = cloud_access(role)
    summary = CloudSummary(
        role.platform, SCOPE_WORD[role.platform], unknown_roles=[u.name for u in access.unknown_roles]
    )
    held: dict[str, bool] = {}
    for unit in access.units:
        source = unit.source.describe(role.platform)
        if access.platform == "gcp":
            summary.bound.append(Bound(source, tuple(sorted(unit.permissions))))
            held.update((p, not is_gcp_read(p)) for p in unit.permissions)
            continue
        actions = tuple(a for block in unit.blocks for a in block.actions)
        summary.bound.append(Bound(source, actions, tuple(n for block in unit.blocks for n in block.not_actions)))
        held.update((a, not a.lower().endswith("/read")) for a in actions)
    for name in sorted(held, key=lambda n: (n.lower(), n)):  # GCP has names that differ only by case
        summary.services.setdefault(_service(access, name), []).append(Held(name, held[name]))
    return summary


def _service(access: CloudAccess, name: str) -> str:
    return name.split(".", 1)[0] if access.platform == "gcp" else name.split("/", 1)[0]
