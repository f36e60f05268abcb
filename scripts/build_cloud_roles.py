"""Build src/bglint/data/gcp_roles.json.gz and azure_roles.json.gz from role exports.

No package found on PyPI, npm or Debian carries Google Cloud's predefined roles or
Azure's built-in roles with their permissions, so the data comes from the clouds' own export
formats, which anyone with read access to a project or subscription can produce:

GCP, predefined roles with their permissions (`gcloud iam roles list` alone omits them):
    gcloud iam roles list --format='value(name)' > names.txt
    mkdir gcp-roles && while read r; do
        gcloud iam roles describe "$r" --format=json > "gcp-roles/${r#roles/}.json"; done < names.txt
  or the IAM API's roles.list with view=FULL (a JSON object with "roles", or a list of roles).

Azure, built-in role definitions:
    az role definition list --output json > azure-roles.json

Then:
    python scripts/build_cloud_roles.py --gcp gcp-roles --gcp-source "gcloud export, project P" \\
        --azure azure-roles.json --azure-source "az export, subscription S" --version "<export id>" --date 2026-08-22

The pinned data was built so from iann0036/iam-dataset (MIT), which keeps exports of exactly these
two formats up to date (gcp/roles/*.json and azure/built-in-roles-raw.json):
    python scripts/build_cloud_roles.py --gcp iam-dataset/gcp/roles \\
        --gcp-source "iann0036/iam-dataset gcp/roles (gcloud iam roles describe)" \\
        --azure iam-dataset/azure/built-in-roles-raw.json \\
        --azure-source "iann0036/iam-dataset azure/built-in-roles-raw.json (az role definition list)" \\
        --version <iam-dataset commit> --date <that commit's date>

Either cloud may be given alone; the other file is left as it is. The build date comes from
SOURCE_DATE_EPOCH when set (reproducible builds), else today. The layout is described in
`bglint.clouds.roles`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from bglint.clouds.datafiles import AZURE_FILE, FORMAT, GCP_FILE, pack
from bglint.clouds.roles import encode_indices

DATA = Path(__file__).resolve().parent.parent / "src" / "bglint" / "data"

Json = dict[str, Any]


def read_gcp(path: Path) -> list[Json]:
    """Role objects from a directory of `gcloud iam roles describe` files or one JSON file."""
    if path.is_dir():
        roles = [json.loads(file.read_text(encoding="utf-8")) for file in sorted(path.glob("*.json"))]
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        roles = data.get("roles", []) if isinstance(data, dict) else data
    roles = [role for role in roles if isinstance(role, dict) and str(role.get("name", "")).startswith("roles/")]
    if not roles:
        sys.exit(f"{path}: no predefined role (name roles/...) found")
    if not any(role.get("includedPermissions") for role in roles):
        sys.exit(
            f"{path}: no role lists includedPermissions; `gcloud iam roles list` gives the basic view only: "
            "use `gcloud iam roles describe` per role, or roles.list with view=FULL"
        )
    return roles


def pack_gcp(roles: list[Json], provenance: Json) -> Json:
    permissions = sorted({p for role in roles for p in role.get("includedPermissions", ())})
    index = {permission: i for i, permission in enumerate(permissions)}
    packed = {
        role["name"]: [
            role.get("title", ""),
            role.get("stage", ""),
            encode_indices(sorted(index[p] for p in set(role.get("includedPermissions", ())))),
        ]
        for role in sorted(roles, key=lambda r: r["name"])
    }
    return {"format": FORMAT, "provenance": provenance, "permissions": "\n".join(permissions), "roles": packed}


def read_azure(path: Path) -> list[Json]:
    data = json.loads(path.read_text(encoding="utf-8"))
    roles = [r for r in data if isinstance(r, dict) and r.get("roleType") == "BuiltInRole" and r.get("roleName")]
    if not roles:
        sys.exit(f"{path}: no built-in role definition found (expected `az role definition list --output json`)")
    return roles


def pack_azure(roles: list[Json], provenance: Json) -> Json:
    packed = {}
    for role in sorted(roles, key=lambda r: r["roleName"].lower()):
        blocks = [
            [
                list(block.get("actions") or ()),
                list(block.get("notActions") or ()),
                list(block.get("dataActions") or ()),
                list(block.get("notDataActions") or ()),
                1 if block.get("condition") else 0,
            ]
            for block in role.get("permissions", ())
        ]
        packed[role["roleName"]] = [role.get("name", ""), blocks]
    spellings: dict[str, str] = {}  # lower case -> as Microsoft first writes it
    for _, blocks in packed.values():
        for block in blocks:
            for part in block[:4]:
                for action in part:
                    namespace = action.split("/", 1)[0]
                    if "/" in action and "*" not in namespace:
                        spellings.setdefault(namespace.lower(), namespace)
    providers = sorted(spellings.values(), key=str.lower)
    return {"format": FORMAT, "provenance": provenance, "providers": providers, "roles": packed}


def write(folder: Path, name: str, doc: Json) -> None:
    out = folder / name
    out.write_bytes(pack(doc))
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(doc['roles'])} roles)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--gcp", type=Path, help="directory of `gcloud iam roles describe` JSON files, or one JSON file"
    )
    parser.add_argument("--azure", type=Path, help="`az role definition list --output json` output")
    parser.add_argument("--gcp-source", help="where the GCP export comes from (required with --gcp)")
    parser.add_argument("--azure-source", help="where the Azure export comes from (required with --azure)")
    parser.add_argument("--version", required=True, help="the exports' version (a commit, an export id)")
    parser.add_argument("--date", required=True, help="the date of the data, YYYY-MM-DD")
    parser.add_argument("--out", type=Path, default=DATA, help="where to write the files (default: bglint's data)")
    args = parser.parse_args()
    if not args.gcp and not args.azure:
        parser.error("give --gcp, --azure or both")
    if (args.gcp and not args.gcp_source) or (args.azure and not args.azure_source):
        parser.error("say where each export comes from: --gcp-source, --azure-source")
    dt.date.fromisoformat(args.date)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    built = dt.datetime.fromtimestamp(int(epoch), dt.UTC).date() if epoch else dt.date.today()
    dates = {"version": args.version, "date": args.date, "built": built.isoformat()}
    if args.gcp:
        write(args.out, GCP_FILE, pack_gcp(read_gcp(args.gcp), {"source": args.gcp_source, **dates}))
    if args.azure:
        write(args.out, AZURE_FILE, pack_azure(read_azure(args.azure), {"source": args.azure_source, **dates}))


if __name__ == "__main__":
    main()
