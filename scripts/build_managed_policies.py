"""Build src/bglint/data/aws_managed_policies.json from moto's bundled AWS-managed policies.

moto keeps the documents of ~1,600 AWS-managed policies as one JSON string in
moto/iam/aws_managed_policies.py. We pin only the ones break-glass roles attach, each with its
path, default version and update date. The module is parsed, not imported: importing it pulls
in all of moto. The build date comes from SOURCE_DATE_EPOCH when set, else today.
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

OUT = Path(__file__).resolve().parent.parent / "src" / "bglint" / "data" / "aws_managed_policies.json"
MODULE = "moto/iam/aws_managed_policies.py"
VARIABLE = "aws_managed_policies_data"

POLICIES = (
    # Broad or admin-like: what a break-glass role is most often given.
    "AdministratorAccess",
    "PowerUserAccess",
    "IAMFullAccess",
    "ReadOnlyAccess",
    "ViewOnlyAccess",
    "SecurityAudit",
    "SystemAdministrator",
    "NetworkAdministrator",
    "DatabaseAdministrator",
    "SupportUser",
    "AWSSupportAccess",
    "AWSOrganizationsFullAccess",
    "AWSOrganizationsReadOnlyAccess",
    "AWSCloudShellFullAccess",
    # Service full-access policies used to repair a broken install.
    "AmazonEC2FullAccess",
    "AmazonVPCFullAccess",
    "AmazonS3FullAccess",
    "AmazonRDSFullAccess",
    "AmazonDynamoDBFullAccess",
    "AWSCloudFormationFullAccess",
    "AWSLambda_FullAccess",
    "AmazonECS_FullAccess",
    "CloudWatchLogsFullAccess",
    "CloudWatchReadOnlyAccess",
    "SecretsManagerReadWrite",
    # EKS cluster and node roles, and instance or function roles.
    "AmazonEKSClusterPolicy",
    "AmazonEKSServicePolicy",
    "AmazonEKSVPCResourceController",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
    "AmazonEC2RoleforSSM",
    "AWSLambdaBasicExecutionRole",
)


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


def pinned(policies: dict[str, Any]) -> dict[str, Any]:
    """The pinned policies present in this moto release (absent ones are reported, not fatal)."""
    missing = [name for name in POLICIES if name not in policies]
    if missing:
        print(f"not in moto, skipped: {', '.join(missing)}", file=sys.stderr)
    return {
        name: {
            "path": policies[name]["Path"],
            "version": policies[name].get("DefaultVersionId", ""),
            "updated": policies[name].get("UpdateDate", ""),
            "document": policies[name]["Document"],
        }
        for name in sorted(POLICIES)
        if name in policies
    }


def build() -> str:
    doc = {
        "provenance": {
            "source": f"moto {importlib.metadata.version('moto')} {MODULE}",
            "built": build_date(),
        },
        "policies": pinned(moto_policies()),
    }
    # One entry per line keeps a regenerated file reviewable as a diff.
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    text = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
