"""The pinned GCP predefined roles and Azure built-in roles, their build script, and how grants match.

Expectations come from Google Cloud's and Microsoft's role references: roles/owner can set the
project's IAM policy and roles/editor cannot; Contributor is `*` less Microsoft.Authorization
writes and deletes; Azure matches actions case-insensitively with `*` spanning `/`.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bglint.clouds.access import _GCP_PERMISSION, cloud_access, globs_overlap
from bglint.clouds.roles import (
    AZURE_FILE,
    GCP_FILE,
    AzureRoles,
    GcpRoles,
    azure_roles,
    decode_indices,
    encode_indices,
    gcp_roles,
    unpack,
)
from bglint.iam.glob import glob_regex
from bglint.model import Location, Policy, PolicyOrigin, Role
from bglint.model.nuon import CloudGrant

ROOT = Path(__file__).resolve().parent.parent
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HERE = Location("roles.toml", 1, 1, "policies[0]")


def role(platform: str, *grants: tuple[str, list[str]]) -> Role:
    made = Role("bg", HERE, "nuon-break-glass", platform=platform)
    for index, (kind, names) in enumerate(grants):
        grant = CloudGrant(kind, tuple(names), (HERE,) * len(names))
        made.policies.append(Policy(f"p{index}", PolicyOrigin.EXTERNAL, HERE, document_known=False, grants=(grant,)))
    return made


@pytest.mark.parametrize("roles", [gcp_roles, azure_roles])
def test_provenance_names_source_version_and_dates(roles: object) -> None:
    found = roles().provenance  # type: ignore[operator]
    assert found["source"] and found["version"]
    assert ISO_DATE.fullmatch(found["date"]) and ISO_DATE.fullmatch(found["built"])


def test_gcp_data_holds_every_role_the_rules_ask_about() -> None:
    roles = gcp_roles()
    assert len(roles.names()) > 2000
    owner, editor = roles.role("roles/owner"), roles.role("roles/editor")
    assert owner is not None and editor is not None
    assert "resourcemanager.projects.setIamPolicy" in owner.permissions
    assert "resourcemanager.projects.setIamPolicy" not in editor.permissions
    creator = roles.role("roles/iam.serviceAccountTokenCreator")
    assert creator is not None
    assert {
        "iam.serviceAccounts.getAccessToken",
        "iam.serviceAccounts.signBlob",
        "iam.serviceAccounts.signJwt",
    } <= creator.permissions
    user = roles.role("roles/iam.serviceAccountUser")
    assert user is not None and "iam.serviceAccounts.actAs" in user.permissions
    viewer = roles.role("roles/monitoring.viewer")
    assert viewer is not None and all(re.search(r"\.(get|list)\w*$", p) for p in viewer.permissions)
    network = roles.role("roles/compute.networkAdmin")
    assert network is not None and "compute.subnetworks.create" in network.permissions


def test_every_gcp_permission_has_the_permission_format() -> None:
    assert all(_GCP_PERMISSION.fullmatch(p) for p in gcp_roles().permissions)


def test_azure_data_holds_the_admin_roles_as_microsoft_defines_them() -> None:
    roles = azure_roles()
    owner, contributor, reader = roles.role("Owner"), roles.role("contributor"), roles.role("Reader")
    assert owner is not None and owner.blocks[0].actions == ("*",) and not owner.blocks[0].not_actions
    assert contributor is not None and contributor.blocks[0].actions == ("*",)
    assert "Microsoft.Authorization/*/Write" in contributor.blocks[0].not_actions
    assert reader is not None and reader.blocks[0].actions == ("*/read",)
    assert roles.role("8e3af657-a8ff-443c-a75c-2fe8c4bcb635") == owner  # the Owner definition id
    for name in ("User Access Administrator", "Role Based Access Control Administrator", "Network Contributor"):
        assert roles.role(name) is not None


def test_azure_wildcards_and_not_actions() -> None:
    contributor = cloud_access(role("azure", ("azure_built_in_roles", ["Contributor"])))
    assert contributor.allowed_by("Microsoft.Network/virtualNetworks/write") is not None
    assert contributor.allowed_by("microsoft.network/VIRTUALNETWORKS/write") is not None  # case-insensitive
    assert contributor.allowed_by("Microsoft.Authorization/roleAssignments/write") is None
    reader = cloud_access(role("azure", ("azure_built_in_roles", ["Reader"])))
    assert reader.allowed_by("Microsoft.Compute/virtualMachines/read") is not None
    assert reader.allowed_by("Microsoft.Compute/virtualMachines/write") is None
    custom = cloud_access(role("azure", ("azure_actions", ["Microsoft.Compute/*"])))
    assert custom.allowed_by("Microsoft.Compute/virtualMachines/extensions/write") is not None  # `*` spans `/`
    assert custom.allowed_by("Microsoft.Network/virtualNetworks/write") is None
    assert list(custom.reaching(["Microsoft.Compute/*/write"])) == ["Microsoft.Compute/*"]
    assert not custom.reaching(["Microsoft.Network/*/write"])


def test_gcp_union_of_predefined_roles_and_permissions() -> None:
    access = cloud_access(
        role("gcp", ("gcp_predefined_role", ["roles/monitoring.viewer"]), ("gcp_permissions", ["logging.logs.list"]))
    )
    assert access.allowed_by("monitoring.timeSeries.list") is not None
    assert access.allowed_by("logging.logs.list") is not None
    assert access.allowed_by("logging.logs.delete") is None


def test_unknown_names_are_reported_with_a_suggestion() -> None:
    gcp = cloud_access(
        role("gcp", ("gcp_predefined_role", ["roles/editr"]), ("gcp_permissions", ["logging.logz.list", "iam.*"]))
    )
    assert [(u.name, u.hint) for u in gcp.unknown_roles] == [("roles/editr", "roles/editor")]
    assert [(u.name, u.hint) for u in gcp.not_permissions] == [
        ("logging.logz.list", "logging.logs.list"),
        ("iam.*", None),
    ]
    azure = cloud_access(
        role(
            "azure", ("azure_built_in_roles", ["Ownr"]), ("azure_actions", ["Microsoft.Netwrk/dnsZones/read", "ec2:*"])
        )
    )
    assert [(u.name, u.hint) for u in azure.unknown_roles] == [("Ownr", "Owner")]
    assert [(u.name, u.hint) for u in azure.not_permissions] == [
        ("Microsoft.Netwrk/dnsZones/read", "Microsoft.Network/dnsZones/read"),
        ("ec2:*", None),
    ]


@given(st.lists(st.integers(0, 50_000), unique=True))
def test_index_encoding_round_trips(indices: list[int]) -> None:
    assert decode_indices(encode_indices(sorted(indices))) == sorted(indices)


@settings(max_examples=200)
@given(st.text("ab*", max_size=5), st.text("ab*", max_size=5))
def test_globs_overlap_when_some_text_matches_both(first: str, second: str) -> None:
    # A shortest common match is no longer than the two patterns' letters together.
    longest = len(first) + len(second)
    texts = ("".join(t) for n in range(longest + 1) for t in itertools.product("ab", repeat=n))
    expected = any(glob_regex(first).fullmatch(text) and glob_regex(second).fullmatch(text) for text in texts)
    assert globs_overlap(first, second) is expected


def build(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_cloud_roles.py"), *args, "--out", str(tmp_path),
         "--gcp-source", "test export", "--azure-source", "test export", "--version", "1", "--date", "2026-01-02"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_build_script_reads_the_clouds_export_formats(tmp_path: Path) -> None:
    described = tmp_path / "gcp"
    described.mkdir()
    for name, permissions in {
        "logging.viewer": ["logging.logs.list", "logging.logEntries.list"],
        "owner": ["a.b.c"],
    }.items():
        body = {
            "name": f"roles/{name}",
            "title": name,
            "stage": "GA",
            "includedPermissions": permissions,
            "etag": "AA==",
        }
        (described / f"{name}.json").write_text(json.dumps(body))
    listed = tmp_path / "az.json"
    definition = {"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": [], "condition": None}
    listed.write_text(json.dumps([{"roleName": "Reader", "name": "acdd72a7", "roleType": "BuiltInRole", "permissions": [definition]},
                                  {"roleName": "Mine", "name": "x", "roleType": "CustomRole", "permissions": [definition]}]))  # fmt: skip
    done = build(tmp_path, "--gcp", str(described), "--azure", str(listed))
    assert done.returncode == 0, done.stderr
    gcp = GcpRoles(unpack((tmp_path / GCP_FILE).read_bytes(), GCP_FILE))
    found = gcp.role("roles/logging.viewer")
    assert found is not None and found.permissions == {"logging.logs.list", "logging.logEntries.list"}
    assert gcp.provenance["source"] == "test export" and gcp.provenance["date"] == "2026-01-02"
    azure = AzureRoles(unpack((tmp_path / AZURE_FILE).read_bytes(), AZURE_FILE))
    assert azure.names() == ["Reader"]  # custom roles are the subscription's own, not built-in


def test_build_script_refuses_a_role_list_without_permissions(tmp_path: Path) -> None:
    basic = tmp_path / "list.json"  # what `gcloud iam roles list --format=json` prints: no includedPermissions
    basic.write_text(json.dumps([{"name": "roles/owner", "title": "Owner", "stage": "GA", "etag": "AA=="}]))
    done = build(tmp_path, "--gcp", str(basic))
    assert done.returncode != 0
    assert "includedPermissions" in done.stderr
    assert not (tmp_path / GCP_FILE).exists()
