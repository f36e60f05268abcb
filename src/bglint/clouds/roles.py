"""The pinned GCP predefined roles and Azure built-in roles (scripts/build_cloud_roles.py).

Each cloud has one file (see `bglint.clouds.datafiles` for its header), whose body is read the
first time a role of that cloud is judged:

    gcp_roles.json.gz:   {"permissions": "every permission a predefined role holds, sorted, one a line",
                          "roles": {"roles/x": [title, stage, "delta-encoded permission indices"]}}
    azure_roles.json.gz: {"providers": [resource provider namespaces the roles name],
                          "roles": {roleName: [definition id, [[actions, notActions, dataActions,
                                                                notDataActions, has condition], ...]]}}

A role's permission indices stay a string until that role is asked for: a check names a
handful of the ~2,400 predefined roles.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from itertools import accumulate
from typing import Any, NamedTuple

from bglint.clouds.datafiles import AZURE_FILE, GCP_FILE, unpack
from bglint.paths import data_path


def encode_indices(indices: Iterable[int]) -> str:
    """Sorted indices as base-36 gaps: "0,2,a" for 0, 2, 12."""
    out, previous = [], 0
    for index in indices:
        out.append(_base36(index - previous))
        previous = index
    return ",".join(out)


def decode_indices(text: str) -> list[int]:
    return list(accumulate(int(gap, 36) for gap in text.split(","))) if text else []


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


class GcpRole(NamedTuple):
    name: str  # roles/container.developer
    title: str
    stage: str  # GA | BETA | ALPHA | DEPRECATED
    permissions: frozenset[str]


class AzureBlock(NamedTuple):
    """One entry of a role definition's `permissions`: what it allows and what it takes back."""

    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    conditional: bool = False


class AzureRole(NamedTuple):
    name: str  # roleName, e.g. "Contributor"
    id: str  # the role definition GUID, the same in every Azure cloud
    blocks: tuple[AzureBlock, ...]


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.75) -> str | None:
    import difflib  # only for a "did you mean"

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


class GcpRoles:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.provenance: dict[str, str] = doc["provenance"]
        self._permissions: list[str] = doc["permissions"].split("\n")  # one string: parsed ~4x faster
        self._rows: dict[str, list[Any]] = doc["roles"]
        self._roles: dict[str, GcpRole] = {}

    def role(self, name: str) -> GcpRole | None:
        found = self._roles.get(name)
        row = self._rows.get(name) if found is None else None
        if row is not None:
            perms = frozenset(self._permissions[i] for i in decode_indices(row[2]))
            self._roles[name] = found = GcpRole(name, row[0], row[1], perms)
        return found

    def names(self) -> list[str]:
        return list(self._rows)

    @functools.cached_property
    def permissions(self) -> frozenset[str]:
        """Every permission some predefined role holds."""
        return frozenset(self._permissions)

    def suggest_role(self, name: str) -> str | None:
        if not name.startswith("roles/") and f"roles/{name}" in self._rows:
            return f"roles/{name}"
        lowered = {known.lower(): known for known in self._rows}
        if name.lower() in lowered:
            return lowered[name.lower()]
        hit = closest(name.lower(), lowered)
        return lowered[hit] if hit else None

    def suggest_permission(self, permission: str) -> str | None:
        """The closest permission of the same service, a misspelled service corrected first."""
        service, _, rest = permission.partition(".")
        if service not in self._by_service:
            service = closest(service, self._by_service) or ""
        near = self._by_service.get(service, ())
        return closest(f"{service}.{rest}", near, 0.8)

    @functools.cached_property
    def _by_service(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for permission in self._permissions:
            grouped.setdefault(permission.split(".", 1)[0], []).append(permission)
        return grouped


class AzureRoles:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.provenance: dict[str, str] = doc["provenance"]
        self.providers: dict[str, str] = {p.lower(): p for p in doc["providers"]}  # lower case -> as written
        self._rows: dict[str, list[Any]] = doc["roles"]
        # Role names are matched case-insensitively, and a role may be named by its definition id.
        self._keys = {name.lower(): name for name in self._rows}
        self._keys.update({row[0].lower(): name for name, row in self._rows.items() if row[0]})

    def role(self, name: str) -> AzureRole | None:
        key = self._keys.get(name.strip().lower())
        if key is None:
            return None
        definition, blocks = self._rows[key]
        return AzureRole(
            key,
            definition,
            tuple(AzureBlock(tuple(a), tuple(n), tuple(d), tuple(nd), bool(c)) for a, n, d, nd, c in blocks),
        )

    def names(self) -> list[str]:
        return list(self._rows)

    def suggest_role(self, name: str) -> str | None:
        hit = closest(name.lower(), [n.lower() for n in self._rows], 0.6)
        return self._keys[hit] if hit else None

    def suggest_provider(self, namespace: str) -> str | None:
        hit = closest(namespace.lower(), self.providers, 0.8)
        return self.providers[hit] if hit else None


def _read(name: str) -> dict[str, Any]:
    return unpack(data_path("data", name).read_bytes(), name)


@functools.cache
def gcp_roles() -> GcpRoles:
    return GcpRoles(_read(GCP_FILE))


@functools.cache
def azure_roles() -> AzureRoles:
    return AzureRoles(_read(AZURE_FILE))
