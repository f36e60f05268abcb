"""The questions bglint's rules ask of a GCP or Azure role, answered in each cloud's own words.

Each function takes a role's CloudAccess (and the rule's parameters, where the rule keeps its
data) and returns what it found: where, what the role can do, and the smallest fix. The
predicates turn these into findings; nothing here knows about rules or reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from bglint.clouds.access import PERMISSION_WORD, ROLE_WORD, CloudAccess, Source
from bglint.model import Location

SCOPE_WORD = {"gcp": "project", "azure": "resource group"}

# What changing the network means on each cloud: VPC networks, subnets, firewall rules, routes,
# routers; every write of Microsoft.Network. Azure's wildcards are matched through the probes.
NETWORK = {
    "gcp": (
        "compute.networks.*",
        "compute.subnetworks.*",
        "compute.firewalls.*",
        "compute.routes.*",
        "compute.routers.*",
    ),
    "azure": ("Microsoft.Network/*/write", "Microsoft.Network/*/delete", "Microsoft.Network/*/action"),
}
NETWORK_PROBES = (
    "Microsoft.Network/virtualNetworks/write",
    "Microsoft.Network/virtualNetworks/subnets/write",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
    "Microsoft.Network/networkSecurityGroups/securityRules/write",
    "Microsoft.Network/routeTables/routes/write",
    "Microsoft.Network/publicIPAddresses/write",
    "Microsoft.Network/networkInterfaces/write",
)
# GCP verbs that only read; `use` attaches a resource to a network without changing it.
_GCP_READ = re.compile(r"(get|list|search|query|read|watch|view|lookup|test|check|download)[A-Z]?.*")
_NETWORK_ATTACH = re.compile(r"use[A-Z]?.*")
_SHOWN = 4  # names listed in a message before "and N more"


class Found(NamedTuple):
    loc: Location
    detail: str
    fix: str
    key: str


def admin(access: CloudAccess, params: Mapping[str, Any]) -> Found | None:
    """BG001: a basic or admin built-in role, `*`, or writing the project's / resource group's IAM."""
    cloud: Mapping[str, Any] = params.get(access.platform, {})
    instead: Mapping[str, str] = cloud.get("admin-roles", {})
    scope = SCOPE_WORD[access.platform]
    for source in access.roles():
        smaller = _lookup(instead, source.role)
        if smaller is not None:
            what = _role_power(access, source)
            return Found(
                source.loc,
                f"holds {ROLE_WORD[access.platform]} {source.role} on the whole {scope}{what}",
                f"bind {smaller} instead of {source.role}",
                f"admin:{source.role}",
            )
    for action, source in access.wildcards():
        if action == "*" and not source.role:
            return Found(
                source.loc,
                f"allows every action ('*') on the whole {scope}, through {source.describe(access.platform)}",
                "list the actions the runbook needs instead of '*'",
                "admin:*",
            )
    for permission in cloud.get("grants-any-role", ()):
        granting = access.allowed_by(permission)
        if granting is not None:
            return Found(
                granting.loc,
                f"can write the {scope}'s role bindings ({PERMISSION_WORD[access.platform]} {permission}, through "
                f"{granting.describe(access.platform)}): it can grant itself any role",
                f"remove {permission}; bind the {ROLE_WORD[access.platform]}s the runbook needs directly",
                f"admin:{permission}",
            )
    return None


def _role_power(access: CloudAccess, source: Source) -> str:
    """A few words on what an admin role reaches: its size on GCP, its actions on Azure."""
    unit = next(u for u in access.units if u.source == source)
    if access.platform == "gcp":
        return f" ({len(unit.permissions)} permissions across the project's services)"
    actions = ", ".join(a for block in unit.blocks for a in block.actions)
    excluded = [n for block in unit.blocks for n in block.not_actions]
    less = f" less {_listed(excluded)}" if excluded else ""
    return f" (actions {actions}{less})"


def escalation(access: CloudAccess, params: Mapping[str, Any]) -> Found | None:
    """BG006: the escalation paths of the rule's parameters that the role can take."""
    cloud: Mapping[str, Any] = params.get(access.platform, {})
    paths: list[str] = []
    first: Source | None = None
    for step in cloud.get("paths", ()):
        via = _path_taken(access, step)
        if via is not None:
            paths.append(via[0])
            first = first or via[1]
    if first is None:
        return None
    return Found(
        first.loc,
        f"can escalate beyond its grants on the {SCOPE_WORD[access.platform]}: {'; '.join(paths)}",
        f"remove these {PERMISSION_WORD[access.platform]}s, or bind them only on the resources the runbook names",
        "escalate",
    )


def _path_taken(access: CloudAccess, step: Mapping[str, Any]) -> tuple[str, Source] | None:
    """One path: any of `any` (globs), together with one of `with` when given. A `custom-role` path
    needs a gcp_permissions / azure_actions entry: Nuon makes a custom role of it, held by the role."""
    if step.get("custom-role") and not any(not unit.source.role for unit in access.units):
        return None
    held = access.reaching(step.get("any", ()), _concrete(step.get("any", ())))
    if not held:
        return None
    text = f"{step.get('why', 'escalation')} ({_listed(list(held))})"
    needed = step.get("with", ())
    if needed:
        also = access.reaching(needed, _concrete(needed))
        if not also:
            return None
        text += f" with {_listed(list(also))}"
    return text, next(iter(held.values()))


def project_wide(access: CloudAccess, params: Mapping[str, Any]) -> Iterator[Found]:
    """BG003: grants that change resources, bound on the whole project / resource group."""
    scope = SCOPE_WORD[access.platform]
    for unit in access.units:
        if access.platform == "gcp":
            changes = sorted(p for p in unit.permissions if not is_gcp_read(p))
        else:
            changes = [a for block in unit.blocks for a in block.actions if not a.lower().endswith("/read")]
        if changes:
            yield Found(
                unit.source.loc,
                f"can change resources anywhere in the {scope}, not only the install's: {_listed(changes)}, "
                f"through {unit.source.describe(access.platform)}",
                f"Nuon binds it on the whole {scope}: give the install a {scope} of its own, or keep to read "
                f"{PERMISSION_WORD[access.platform]}s",
                f"wide:{unit.source.loc.logical}",
            )


def network_changes(access: CloudAccess, attach: bool) -> dict[str, Source]:
    """Network writes the role can use; with `attach`, also GCP's `use` (placing resources in a subnet)."""
    found = access.reaching(NETWORK[access.platform], NETWORK_PROBES if access.platform == "azure" else ())
    if access.platform == "gcp":
        return {
            p: s
            for p, s in found.items()
            if not _GCP_READ.fullmatch(verb := p.rsplit(".", 1)[-1]) and (attach or not _NETWORK_ATTACH.fullmatch(verb))
        }
    return found


def is_gcp_read(permission: str) -> bool:
    return _GCP_READ.fullmatch(permission.rsplit(".", 1)[-1]) is not None


def network_found(access: CloudAccess, changes: dict[str, Source], why: str, fix: str, key: str) -> Found:
    first = next(iter(changes.values()))
    return Found(first.loc, f"{why}: {_listed(list(changes))}, through {first.describe(access.platform)}", fix, key)


def not_permissions(access: CloudAccess) -> Iterator[Found]:
    """BG008: names in gcp_permissions / azure_actions that are not permissions or actions."""
    word = PERMISSION_WORD[access.platform]
    for bad in access.not_permissions:
        hint = f" (did you mean '{bad.hint}'?)" if bad.hint else ""
        fix = f"replace it with '{bad.hint}'" if bad.hint else f"check the {word}'s spelling"
        yield Found(bad.loc, f"names '{bad.name}', {bad.why}{hint}", fix, f"unknown:{bad.name}")


def unknown_roles(access: CloudAccess, data_date: str) -> Iterator[Found]:
    """BG009: predefined or built-in roles the pinned data does not know: never assumed harmless."""
    word = ROLE_WORD[access.platform]
    for bad in access.unknown_roles:
        hint = f" (did you mean '{bad.hint}'?)" if bad.hint else ""
        yield Found(
            bad.loc,
            f"binds {word} '{bad.name}', {bad.why} (dated {data_date}); it is not assumed harmless{hint}",
            f"use '{bad.hint}'" if bad.hint else f"check the {word}'s name, or rebuild the role data",
            f"role:{bad.name}",
        )


def _concrete(names: list[str]) -> list[str]:
    """The names without wildcards: on Azure they stand for themselves against a role's wildcards."""
    return [name for name in names if "*" not in name]


def _lookup(table: Mapping[str, str], name: str) -> str | None:
    """Role names: exact on GCP, case-insensitive on Azure (as the clouds compare them)."""
    if name in table:
        return table[name]
    lowered = name.lower()
    return next((value for key, value in table.items() if key.lower() == lowered), None)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return f"{shown} and {len(names) - _SHOWN} more" if len(names) > _SHOWN else shown
