"""The questions bglint's rules ask of a GCP or Azure role, answered in each cloud's own words.

One function per rule, each taking the role's CloudAccess, the role and the rule's parameters
(where the rule keeps its data), and yielding a Hit for what it finds: where, what the role can
do, and the smallest fix. The role predicates hand GCP and Azure roles to these.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bglint.clouds.access import PERMISSION_WORD, ROLE_WORD, CloudAccess, Source
from bglint.clouds.datafiles import provenance
from bglint.findings import Hit
from bglint.model import Role
from bglint.regex import Regex

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
_GCP_READ = Regex(r"(get|list|search|query|read|watch|view|lookup|test|check|download)([A-Z].*)?")
_NETWORK_ATTACH = Regex(r"use([A-Z].*)?")
_SHOWN = 4  # names listed in a message before "and N more"
# GCP services named first when a finding lists a few of many permissions: those an install is made of.
_PROMINENT = ("compute", "container", "iam", "storage", "secretmanager", "cloudsql", "resourcemanager")


# Admin on the project / resource group: the basic roles and Azure's admin built-in roles, and the
# permission or action that lets a role grant itself any role there.
ADMIN_ROLES = {
    "gcp": ("roles/owner", "roles/editor"),
    "azure": ("Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"),
}
GRANTS_ANY_ROLE = {
    "gcp": ("resourcemanager.projects.setIamPolicy",),
    "azure": ("Microsoft.Authorization/roleAssignments/write",),
}


def admin(access: CloudAccess, role: Role, params: Mapping[str, Any]) -> Iterator[Hit]:
    """BG001: a basic or admin built-in role, `*`, or writing the project's / resource group's role
    bindings. The rule's parameters name, per admin role, the smaller role to bind instead."""
    found = _admin(access, params.get(access.platform, {}).get("instead", {}))
    if found is not None:
        yield found


def _admin(access: CloudAccess, instead: Mapping[str, str]) -> Hit | None:
    scope = SCOPE_WORD[access.platform]
    word = ROLE_WORD[access.platform]
    for source in access.roles():
        if source.role.lower() in (name.lower() for name in ADMIN_ROLES[access.platform]):
            smaller = _lookup(instead, source.role) or f"the narrowest {word}s the runbook needs"
            return Hit(
                source.loc,
                f"holds {word} {source.role} on the whole {scope}{_role_power(access, source)}",
                f"bind {smaller} instead of {source.role}",
                f"admin:{source.role}",
            )
    for action, source in access.wildcards():
        if action == "*" and not source.role:
            return Hit(
                source.loc,
                f"allows every action ('*') on the whole {scope}, through {source.describe(access.platform)}",
                "list the actions the runbook needs instead of '*'",
                "admin:*",
            )
    for permission in GRANTS_ANY_ROLE[access.platform]:
        granting = access.allowed_by(permission)
        if granting is not None:
            return Hit(
                granting.loc,
                f"can write the {scope}'s role bindings ({PERMISSION_WORD[access.platform]} {permission}, through "
                f"{granting.describe(access.platform)}): it can grant itself any role",
                f"remove {permission}; bind the {word}s the runbook needs directly",
                f"admin:{permission}",
            )
    return None


def _role_power(access: CloudAccess, source: Source) -> str:
    """A few words on what an admin role reaches: its size on GCP, its actions on Azure."""
    unit = next(u for u in access.units if u.source == source)
    if access.platform == "gcp":
        return f" ({len(unit.permissions)} permissions across the project's services)"
    actions = ", ".join(f"'{a}'" for block in unit.blocks for a in block.actions)
    excluded = [n for block in unit.blocks for n in block.not_actions]
    less = f" less {_listed(excluded)}" if excluded else ""
    return f" (actions {actions}{less})"


def escalation(access: CloudAccess, role: Role, params: Mapping[str, Any]) -> Iterator[Hit]:
    """BG006: the escalation paths of the rule's parameters that the role can take (an admin role,
    BG001's, is not reported again)."""
    if _admin(access, {}) is not None:
        return
    cloud: Mapping[str, Any] = params.get(access.platform, {})
    paths: list[str] = []
    first: Source | None = None
    for step in cloud.get("paths", ()):
        via = _path_taken(access, step)
        if via is not None:
            paths.append(via[0])
            first = first or via[1]
    if first is not None:
        yield Hit(
            first.loc,
            f"can escalate beyond its grants on the {SCOPE_WORD[access.platform]} by {'; '.join(paths)}",
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
    text = f"{step.get('why', 'a path the rule names')} ({_listed(list(held))})"
    needed = step.get("with", ())
    if needed:
        also = access.reaching(needed, _concrete(needed))
        if not also:
            return None
        text += f" with {_listed(list(also))}"
    return text, next(iter(held.values()))


def project_wide(access: CloudAccess, role: Role, params: Mapping[str, Any]) -> Iterator[Hit]:
    """BG003: grants that change resources, bound on the whole project / resource group."""
    scope = SCOPE_WORD[access.platform]
    for unit in access.units:
        if access.platform == "gcp":
            changes = sorted((p for p in unit.permissions if not is_gcp_read(p)), key=_prominent_first)
        else:
            changes = [a for block in unit.blocks for a in block.actions if not a.lower().endswith("/read")]
        if changes:
            yield Hit(
                unit.source.loc,
                f"can change resources anywhere in the {scope}, not only the install's: {_listed(changes)}, "
                f"through {unit.source.describe(access.platform)}",
                f"give the install a {scope} of its own (Nuon binds the role on the whole {scope}), or keep the "
                f"role to read {PERMISSION_WORD[access.platform]}s",
                f"wide:{unit.source.loc.logical}",
            )


def network_in_customer_network(access: CloudAccess, role: Role, params: Mapping[str, Any]) -> Iterator[Hit]:
    """BG004: network writes (and GCP's `use`, placing resources in a subnet) in the customer's network."""
    changes = _network_changes(access, attach=True)
    if changes:
        scope = SCOPE_WORD[access.platform]
        yield _network_hit(
            access,
            changes,
            f"can change or use any network of the customer's {scope}, not only the install's",
            f"remove the network {PERMISSION_WORD[access.platform]}s: Nuon binds them on the whole {scope}",
            "subnet",
        )


def network_beyond_level(access: CloudAccess, role: Role, params: Mapping[str, Any]) -> Iterator[Hit]:
    """BG007: a role declared below the network level that can change the network."""
    if role.level not in ("component", "runner", "sandbox"):
        return
    changes = _network_changes(access, attach=False)
    if changes:
        yield _network_hit(
            access,
            changes,
            f"can change the network, which a '{role.level}' role should not ({role.level_source})",
            f"drop the network {PERMISSION_WORD[access.platform]}s or declare the role 'network'",
            "level",
        )


def _network_changes(access: CloudAccess, attach: bool) -> dict[str, Source]:
    found = access.reaching(NETWORK[access.platform], NETWORK_PROBES if access.platform == "azure" else ())
    if access.platform == "gcp":
        return {
            p: s
            for p, s in found.items()
            if not is_gcp_read(p) and (attach or not _NETWORK_ATTACH.fullmatch(p.rsplit(".", 1)[-1]))
        }
    return found


def is_gcp_read(permission: str) -> bool:
    return _GCP_READ.fullmatch(permission.rsplit(".", 1)[-1]) is not None


def _network_hit(access: CloudAccess, changes: dict[str, Source], why: str, fix: str, key: str) -> Hit:
    first = next(iter(changes.values()))
    return Hit(first.loc, f"{why}: {_listed(list(changes))}, through {first.describe(access.platform)}", fix, key)


def not_permissions(access: CloudAccess, role: Role, params: Mapping[str, Any]) -> Iterator[Hit]:
    """BG008: names in gcp_permissions / azure_actions that are not permissions or actions."""
    word = PERMISSION_WORD[access.platform]
    for bad in access.not_permissions:
        hint = f" (did you mean '{bad.hint}'?)" if bad.hint else ""
        fix = f"replace it with '{bad.hint}'" if bad.hint else f"check the {word}'s spelling"
        yield Hit(bad.loc, f"names '{bad.name}', {bad.why}{hint}", fix, f"unknown:{bad.name}")


def unknown_roles(access: CloudAccess, role: Role, params: Mapping[str, Any]) -> Iterator[Hit]:
    """BG009: predefined or built-in roles the pinned data does not know: never assumed harmless."""
    word = ROLE_WORD[access.platform]
    data_date = provenance()[f"{access.platform}_roles"]["date"]
    for bad in access.unknown_roles:
        hint = f" (did you mean '{bad.hint}'?)" if bad.hint else ""
        yield Hit(
            bad.loc,
            f"binds {word} '{bad.name}', {bad.why} (dated {data_date}); it is not assumed harmless{hint}",
            f"use '{bad.hint}'" if bad.hint else f"check the {word}'s name, or rebuild the role data",
            f"role:{bad.name}",
        )


def _prominent_first(permission: str) -> tuple[int, str]:
    service = permission.split(".", 1)[0]
    return (_PROMINENT.index(service) if service in _PROMINENT else len(_PROMINENT), permission)


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
