"""What a GCP or Azure role can do: the union of what its policy entries bind.

On GCP a role's permissions are those of its predefined roles plus its `gcp_permissions` (Nuon
makes a project custom role of them). On Azure they are the actions of its built-in roles plus
its `azure_actions` (a custom role definition). Nuon binds both at project or resource-group
level with no condition, so every grant here reaches the whole project or resource group.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from bglint.clouds.roles import AzureBlock, azure_roles, gcp_roles
from bglint.iam.glob import glob_regex
from bglint.model import Location, Policy, Role
from bglint.model.nuon import CloudGrant
from bglint.regex import Regex

# A GCP permission is service.resource.verb; partner services write domain/resource.verb.
_GCP_PERMISSION = Regex(r"[a-z][a-zA-Z0-9]*\.[a-zA-Z0-9_]+\.[a-zA-Z0-9]+|[a-z][a-z0-9.-]*/[a-zA-Z0-9]+\.[a-zA-Z0-9]+")
# An Azure action is Namespace.Provider/resourceType[/...]/operation, `*` anywhere, or `*` alone.
_AZURE_NAMESPACE = Regex(r"\*|[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9*-]+)+\*?")
_AZURE_SEGMENT = Regex(r"[A-Za-z0-9.*_{}:-]+")

# What each cloud calls the things a role binds, for messages.
ROLE_WORD = {"gcp": "predefined role", "azure": "built-in role"}
PERMISSION_WORD = {"gcp": "permission", "azure": "action"}


class Source(NamedTuple):
    """Where a grant comes from: a predefined/built-in role, or a policy's own permission list."""

    policy: Policy
    role: str  # the predefined or built-in role; "" for gcp_permissions / azure_actions
    loc: Location

    def describe(self, platform: str) -> str:
        if self.role:
            return f"{ROLE_WORD[platform]} {self.role} (policy '{self.policy.name}')"
        key = "gcp_permissions" if platform == "gcp" else "azure_actions"
        return f"the {key} of policy '{self.policy.name}'"


class Unit(NamedTuple):
    """One bound role: concrete permissions on GCP, role-definition blocks on Azure."""

    source: Source
    permissions: frozenset[str] = frozenset()
    blocks: tuple[AzureBlock, ...] = ()


class Unknown(NamedTuple):
    """A name bglint cannot vouch for: an unknown role, or a permission/action that is not one."""

    name: str
    loc: Location
    why: str
    hint: str | None


@dataclass
class CloudAccess:
    platform: str  # gcp | azure
    units: list[Unit] = field(default_factory=list)
    unknown_roles: list[Unknown] = field(default_factory=list)
    not_permissions: list[Unknown] = field(default_factory=list)

    def roles(self) -> list[Source]:
        """The predefined or built-in roles bound, in order."""
        return [unit.source for unit in self.units if unit.source.role]

    def allowed_by(self, action: str) -> Source | None:
        """The first grant that allows a concrete permission or action, else None."""
        for unit in self.units:
            if _unit_allows(self.platform, unit, action):
                return unit.source
        return None

    def reaching(self, patterns: Iterable[str], probes: Iterable[str] = ()) -> dict[str, Source]:
        """Concrete permissions/actions matching `patterns` that the role can use, with their source.

        GCP grants are concrete sets. Azure grants are patterns: a granted action is reported as
        written (`Microsoft.Network/*`, `*`) when it overlaps a pattern and, if some of `probes`
        (concrete actions that stand for the patterns) fall in the overlap, the role's notActions
        leave one of them allowed; the probes the role allows are reported too.
        """
        patterns = tuple(patterns)
        matcher = _matcher(patterns)
        found: dict[str, Source] = {}
        for unit in self.units:
            for name in sorted(unit.permissions or {a for block in unit.blocks for a in block.actions}):
                if name in found or not _unit_allows(self.platform, unit, name):
                    continue
                if matcher(name) or ("*" in name and _wildcard_reaches(unit, name, patterns, probes)):
                    found[name] = unit.source
        for probe in probes:
            source = self.allowed_by(probe)
            if probe not in found and source is not None and matcher(probe):
                found[probe] = source
        return found

    def wildcards(self) -> Iterator[tuple[str, Source]]:
        """Azure actions with `*` that a grant allows, with their source (all actions on GCP are concrete)."""
        for unit in self.units:
            for block in unit.blocks:
                for action in block.actions:
                    if "*" in action:
                        yield action, unit.source


def cloud_access(role: Role) -> CloudAccess:
    access = CloudAccess(role.platform)
    for policy in role.policies:
        for grant in policy.grants:
            if not grant.names or not grant.kind.startswith(role.platform):
                continue  # an entry may carry another cloud's keys too
            if grant.kind in ("gcp_predefined_role", "azure_built_in_roles"):
                _bind_roles(access, policy, grant)
            else:
                _bind_list(access, policy, grant)
    return access


_HINTS = 20  # "did you mean"s per role: each costs a few ms, and a file may list thousands of names


def _bind_roles(access: CloudAccess, policy: Policy, grant: CloudGrant) -> None:
    """Predefined or built-in roles: each known one is a unit, an unknown one is kept as unknown."""
    for index, name in enumerate(grant.names):
        loc = grant.loc_of(index)
        unit = _role_unit(access.platform, policy, name, loc)
        if unit is not None:
            access.units.append(unit)
            continue
        roles = gcp_roles() if access.platform == "gcp" else azure_roles()
        why = f"which is not a {ROLE_WORD[access.platform]} in bglint's role data"
        hint = roles.suggest_role(name) if len(access.unknown_roles) < _HINTS else None
        access.unknown_roles.append(Unknown(name, loc, why, hint))


def _role_unit(platform: str, policy: Policy, name: str, loc: Location) -> Unit | None:
    if platform == "gcp":
        predefined = gcp_roles().role(name)
        return Unit(Source(policy, name, loc), predefined.permissions) if predefined else None
    built_in = azure_roles().role(name)
    return Unit(Source(policy, built_in.name, loc), blocks=built_in.blocks) if built_in else None


def _bind_list(access: CloudAccess, policy: Policy, grant: CloudGrant) -> None:
    """gcp_permissions / azure_actions: one custom role of the names that are permissions/actions."""
    gcp = access.platform == "gcp"
    kept = []
    for index, name in enumerate(grant.names):
        why = _gcp_problem(name) if gcp else _azure_problem(name)
        if not why:
            kept.append(name)
            continue
        hint = _suggest(gcp, name) if len(access.not_permissions) < _HINTS else None
        access.not_permissions.append(Unknown(name, grant.loc_of(index), why, hint))
    source = Source(policy, "", grant.loc_of(0))
    access.units.append(Unit(source, frozenset(kept)) if gcp else Unit(source, blocks=(AzureBlock(tuple(kept)),)))


def _gcp_problem(name: str) -> str:
    """Why a gcp_permissions name is not a permission; "" when it is one."""
    if "*" in name:
        return "which is not a GCP permission: custom roles take no wildcards"
    if not _GCP_PERMISSION.fullmatch(name):
        return "which is not a GCP permission (service.resource.verb)"
    if name in gcp_roles().permissions:
        return ""
    return "which no predefined role holds, so it is not a GCP permission bglint knows"


def _azure_problem(name: str) -> str:
    """Why an azure_actions name is not an action; "" when it is one (or a wildcard over providers)."""
    if not _azure_well_formed(name):
        return "which is not an Azure action (Provider.Namespace/resourceType/operation)"
    namespace = name.partition("/")[0]
    if "*" in namespace or namespace.lower() in azure_roles().providers:
        return ""
    return f"whose resource provider {namespace} no built-in role names, so it is not an Azure action bglint knows"


def _azure_well_formed(name: str) -> bool:
    namespace, _, rest = name.partition("/")
    if name == "*":
        return True
    segments = rest.split("/")
    return bool(_AZURE_NAMESPACE.fullmatch(namespace)) and bool(rest) and all(map(_AZURE_SEGMENT.fullmatch, segments))


def _suggest(gcp: bool, name: str) -> str | None:
    """A "did you mean": the closest permission, or the action with its provider corrected."""
    if gcp:
        return None if "*" in name else gcp_roles().suggest_permission(name)
    if not _azure_well_formed(name):
        return None
    namespace, _, rest = name.partition("/")
    provider = azure_roles().suggest_provider(namespace)
    return f"{provider}/{rest}" if provider else None


def _wildcard_reaches(unit: Unit, granted: str, patterns: tuple[str, ...], probes: Iterable[str]) -> bool:
    if not any(globs_overlap(granted.lower(), p.lower()) for p in patterns):
        return False
    inside = glob_regex(granted.lower())
    relevant = [p for p in probes if inside.fullmatch(p.lower()) and _matcher(patterns)(p)]
    return not relevant or any(_unit_allows("azure", unit, p) for p in relevant)


def globs_overlap(first: str, second: str) -> bool:
    """Whether two `*` patterns match some common text (dynamic programming, no backtracking)."""
    if len(first) * len(second) > 200_000:  # patterns come from files: bound the table, assume the worse
        return True
    n, m = len(first), len(second)
    # reach[j]: first[:i] and second[:j] can match a common text (row i, updated in place).
    reach = [False] * (m + 1)
    reach[0] = True
    for j in range(1, m + 1):
        reach[j] = reach[j - 1] and second[j - 1] == "*"
    for i in range(1, n + 1):
        a = first[i - 1]
        previous_diagonal, reach[0] = reach[0], reach[0] and a == "*"
        for j in range(1, m + 1):
            b, above = second[j - 1], reach[j]
            if a == "*" or b == "*":  # a star may match nothing, or swallow the other side's next character
                reach[j] = previous_diagonal or above or reach[j - 1]
            else:
                reach[j] = previous_diagonal and a == b
            previous_diagonal = above
    return reach[m]


def _unit_allows(platform: str, unit: Unit, action: str) -> bool:
    if platform == "gcp":
        return action in unit.permissions
    return any(_block_allows(block, action) for block in unit.blocks)


def _block_allows(block: AzureBlock, action: str) -> bool:
    """Azure: an action is allowed when one of `actions` matches it and none of `notActions` does."""
    lowered = action.lower()
    return any(_azure_glob(a).fullmatch(lowered) for a in block.actions) and not any(
        _azure_glob(n).fullmatch(lowered) for n in block.not_actions
    )


def _azure_glob(pattern: str) -> re.Pattern[str]:
    """Azure matches case-insensitively, and its `*` spans `/`."""
    return glob_regex(pattern.strip().lower())


@functools.lru_cache(maxsize=256)
def _matcher(patterns: tuple[str, ...]) -> functools.partial[bool]:
    """One test for a set of globs (from rule parameters), case-insensitive as both clouds are."""
    combined = re.compile("|".join(f"(?:{glob_regex(p.lower()).pattern})" for p in patterns) or r"(?!)", re.DOTALL)
    return functools.partial(_fullmatch, combined)


def _fullmatch(regex: re.Pattern[str], text: str) -> bool:
    return regex.fullmatch(text.lower()) is not None
