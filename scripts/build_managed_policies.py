"""Build src/bglint/data/aws_managed_policies.json.gz from moto's bundled AWS-managed policies.

moto keeps the documents of every AWS-managed policy (~1,600) as one JSON string in
moto/iam/aws_managed_policies.py. All of them are pinned, each with its path and default
version; `bglint.iam.managed.pack` lays them out. The module is parsed, not imported: importing
it pulls in all of moto. The data date is the newest policy update in moto's copy; the build
date comes from SOURCE_DATE_EPOCH when set, else today.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from bglint.iam.managed import POLICIES_FILE, pack

OUT = Path(__file__).resolve().parent.parent / "src" / "bglint" / "data" / POLICIES_FILE
PACKAGE = "moto"
MODULE = "moto/iam/aws_managed_policies.py"
VARIABLE = "aws_managed_policies_data"
MEMBER_SIZE = 64_000  # characters of JSON per gzip member: ~540 KB in all, a lookup inflates ~1/60


def moto_policies() -> dict[str, Any]:
    spec = importlib.util.find_spec("moto")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("moto is not installed")
    source = Path(spec.submodule_search_locations[0]).parent / MODULE
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == VARIABLE for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            policies: dict[str, Any] = json.loads(node.value.value)
            return policies
    raise SystemExit(f"{source}: no string assigned to {VARIABLE}")


def build_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return now.date().isoformat()


def pinned(policies: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"path": entry["Path"], "version": entry.get("DefaultVersionId", ""), "document": entry["Document"]}
        for name, entry in policies.items()
    }


def provenance(policies: dict[str, Any]) -> dict[str, str]:
    updates = [entry["UpdateDate"][:10] for entry in policies.values() if entry.get("UpdateDate")]
    return {
        "source": PACKAGE,
        "version": importlib.metadata.version(PACKAGE),
        "file": MODULE,
        "date": max(updates),
        "built": build_date(),
    }


def build() -> bytes:
    policies = moto_policies()
    return pack(provenance(policies), pinned(policies), MEMBER_SIZE)


def main() -> int:
    blob = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(blob)
    print(f"wrote {OUT} ({len(blob):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
