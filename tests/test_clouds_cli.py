"""GCP and Azure break-glass roles through the real CLI, both directions, on fixtures written here.

Expectations follow Google Cloud's and Microsoft's role references (what a predefined or built-in
role holds) and Nuon's binding: a project- or resource-group-wide binding with no condition.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from conftest import write_tree

GCP_META = {
    "metadata.toml": 'version = "v1"\n',
    "runner.toml": 'runner_type = "gcp"\n',
    "stack.toml": 'type = "gcp-terraform"\nname = "s"\ndescription = "install stack"\n',
}
AZURE_META = {
    "metadata.toml": 'version = "v1"\n',
    "runner.toml": 'runner_type = "azure"\n',
    "stack.toml": 'type = "azure-bicep"\nname = "s"\ndescription = "install stack"\n',
}
# The customer's network, named by an install input: the signal that the network is customer-managed.
GCP_BYO_NETWORK = 'terraform_version = "1.11.3"\n\n[public_repo]\nrepo = "acme/gke-sandbox"\ndirectory = "."\nbranch = "main"\n\n[vars]\nnetwork = "{{.nuon.install.inputs.network}}"\n'
AZURE_BYO_NETWORK = 'terraform_version = "1.11.3"\n\n[public_repo]\nrepo = "acme/aks-sandbox"\ndirectory = "."\nbranch = "main"\n\n[vars]\nvnet_name = "{{.nuon.install.inputs.vnet_name}}"\n'


def break_glass(platform: str, *policies: str, name: str = "{{.nuon.install.id}}-bg") -> str:
    """One break-glass role; each policy is the body of a [[role.policies]] table."""
    text = f'[[role]]\nname = "{name}"\ndescription = "incident access"\ncloud_platform = "{platform}"\n'
    for index, body in enumerate(policies):
        text += f'\n[[role.policies]]\nname = "p{index}"\n{body}\n'
    return text


def gcp_app(*policies: str, sandbox: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    files = {**GCP_META, "break_glass.toml": break_glass("gcp", *policies), **(extra or {})}
    if sandbox is not None:
        files["sandbox.toml"] = sandbox
    return files


def azure_app(*policies: str, sandbox: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    files = {**AZURE_META, "break_glass.toml": break_glass("azure", *policies), **(extra or {})}
    if sandbox is not None:
        files["sandbox.toml"] = sandbox
    return files


def strings(values: list[str]) -> str:
    return json.dumps(values)


APPS: dict[str, dict[str, str]] = {
    # GCP ----------------------------------------------------------------------------------
    "gcp-observability": gcp_app(
        'gcp_predefined_role = "roles/monitoring.viewer"',
        "gcp_permissions = "
        + strings(["logging.buckets.get", "logging.buckets.list", "logging.logEntries.list", "logging.logs.list"]),
        sandbox=GCP_BYO_NETWORK,
    ),
    "gcp-editor": gcp_app('gcp_predefined_role = "roles/editor"'),
    "gcp-owner": gcp_app('gcp_predefined_role = "roles/owner"'),
    "gcp-project-iam": gcp_app("gcp_permissions = " + strings(["resourcemanager.projects.setIamPolicy"])),
    "gcp-token-creator": gcp_app('gcp_predefined_role = "roles/iam.serviceAccountTokenCreator"'),
    "gcp-sa-keys": gcp_app(
        "gcp_permissions = " + strings(["iam.serviceAccountKeys.create", "iam.serviceAccounts.list"])
    ),
    "gcp-act-as-compute": gcp_app(
        "gcp_permissions = " + strings(["iam.serviceAccounts.actAs", "compute.instances.create"])
    ),
    "gcp-act-as-alone": gcp_app(
        "gcp_permissions = " + strings(["iam.serviceAccounts.actAs", "iam.serviceAccounts.get"])
    ),
    "gcp-role-update": gcp_app("gcp_permissions = " + strings(["iam.roles.update", "iam.roles.get"])),
    "gcp-bucket-iam": gcp_app("gcp_permissions = " + strings(["storage.buckets.setIamPolicy"])),
    "gcp-developer": gcp_app('gcp_predefined_role = "roles/container.developer"'),
    "gcp-network-byo": gcp_app(
        "gcp_permissions = " + strings(["compute.subnetworks.update", "compute.firewalls.create"]),
        sandbox=GCP_BYO_NETWORK,
    ),
    "gcp-network-unknown": gcp_app(
        "gcp_permissions = " + strings(["compute.subnetworks.update", "compute.firewalls.create"])
    ),
    "gcp-typos": gcp_app(
        'gcp_predefined_role = "roles/editr"',
        "gcp_permissions = " + strings(["logging.logz.list", "logging.*"]),
    ),
    # Azure --------------------------------------------------------------------------------
    "azure-owner": azure_app('azure_built_in_roles = ["Owner"]'),
    "azure-contributor": azure_app('azure_built_in_roles = ["Contributor"]'),
    "azure-uaa": azure_app('azure_built_in_roles = ["User Access Administrator"]'),
    "azure-star": azure_app('azure_actions = ["*"]'),
    "azure-assignments": azure_app(
        "azure_actions = " + strings(["Microsoft.Authorization/roleAssignments/write", "*/read"])
    ),
    "azure-reader": azure_app('azure_built_in_roles = ["Reader"]', sandbox=AZURE_BYO_NETWORK),
    "azure-definitions": azure_app("azure_actions = " + strings(["Microsoft.Authorization/roleDefinitions/write"])),
    "azure-identity-compute": azure_app(
        "azure_actions = "
        + strings(
            [
                "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
                "Microsoft.Compute/virtualMachines/write",
            ]
        )
    ),
    "azure-identity-alone": azure_app(
        "azure_actions = " + strings(["Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"])
    ),
    "azure-network-byo": azure_app('azure_built_in_roles = ["Network Contributor"]', sandbox=AZURE_BYO_NETWORK),
    "azure-dns-byo": azure_app(
        "azure_actions = " + strings(["Microsoft.Network/dnsZones/*"]), sandbox=AZURE_BYO_NETWORK
    ),
    "azure-typos": azure_app(
        'azure_built_in_roles = ["Ownr"]',
        "azure_actions = " + strings(["Microsoft.Netwrk/dnsZones/read", "ec2:RunInstances"]),
    ),
    "azure-aks-user": azure_app('azure_built_in_roles = ["Azure Kubernetes Service Cluster User Role"]'),
}


def bglint(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bglint", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


Findings = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Findings, dict[str, Any]]:
    """Every app checked in one run; findings and documents per app."""
    base = tmp_path_factory.mktemp("clouds")
    for name, files in APPS.items():
        write_tree(base / name, dict(files))
    proc = bglint("check", *(base / name for name in APPS), "--format", "json")
    report = json.loads(proc.stdout)
    assert not report["errors"], proc.stderr
    findings: Findings = {name: [] for name in APPS}
    for finding in report["findings"]:
        findings[Path(finding["path"]).relative_to(base).parts[0]].append(finding)
    documents = {Path(doc["path"]).name: doc for doc in report["documents"]}
    return findings, documents


def rules_of(checked: tuple[Findings, dict[str, Any]], app: str) -> dict[str, list[str]]:
    """The role findings per rule (the app's own, e.g. a missing runbook, are not the role's)."""
    out: dict[str, list[str]] = {}
    for finding in checked[0][app]:
        if not finding.get("role"):
            continue
        out.setdefault(finding["rule"], []).append(finding["message"])
    return out


def only(checked: tuple[Findings, dict[str, Any]], app: str, rule: str) -> dict[str, Any]:
    (finding,) = [f for f in checked[0][app] if f["rule"] == rule]
    return finding


# -- GCP ---------------------------------------------------------------------------------------


def test_gcp_observability_role_stays_clean_even_in_a_customer_network(checked: Any) -> None:
    assert checked[1]["gcp-observability"]["network"]["kind"] == "customer-managed"
    assert rules_of(checked, "gcp-observability") == {}
    (role,) = checked[1]["gcp-observability"]["roles"]
    assert [p["grants"] for p in role["policies"]] == [
        [{"key": "gcp_predefined_role", "names": ["roles/monitoring.viewer"]}],
        [
            {
                "key": "gcp_permissions",
                "names": [
                    "logging.buckets.get",
                    "logging.buckets.list",
                    "logging.logEntries.list",
                    "logging.logs.list",
                ],
            }
        ],
    ]


@pytest.mark.parametrize("app, role", [("gcp-editor", "roles/editor"), ("gcp-owner", "roles/owner")])
def test_gcp_basic_roles_are_admin(checked: Any, app: str, role: str) -> None:
    finding = only(checked, app, "BG001")
    assert finding["severity"] == "error"
    assert f"predefined role {role}" in finding["message"]
    assert "roles/container.developer" in finding["message"]  # the smallest fix
    assert finding["line"] == 8  # the gcp_predefined_role line
    assert "BG006" not in rules_of(checked, app)  # BG001 already says it all


def test_gcp_setting_the_project_iam_policy_is_admin(checked: Any) -> None:
    finding = only(checked, "gcp-project-iam", "BG001")
    assert "resourcemanager.projects.setIamPolicy" in finding["message"]
    assert "grant itself any role" in finding["message"]


@pytest.mark.parametrize(
    "app, permission",
    [
        ("gcp-token-creator", "iam.serviceAccounts.getAccessToken"),
        ("gcp-sa-keys", "iam.serviceAccountKeys.create"),
        ("gcp-act-as-compute", "iam.serviceAccounts.actAs"),
        ("gcp-role-update", "iam.roles.update"),
        ("gcp-bucket-iam", "storage.buckets.setIamPolicy"),
    ],
)
def test_gcp_escalation_paths(checked: Any, app: str, permission: str) -> None:
    finding = only(checked, app, "BG006")
    assert finding["severity"] == "error"
    assert permission in finding["message"]
    assert "BG001" not in rules_of(checked, app)


def test_gcp_act_as_without_compute_is_no_escalation(checked: Any) -> None:
    assert "BG006" not in rules_of(checked, "gcp-act-as-alone")
    assert "compute.instances.create" in only(checked, "gcp-act-as-compute", "BG006")["message"]


def test_gcp_container_developer_is_no_admin_and_no_escalation(checked: Any) -> None:
    found = rules_of(checked, "gcp-developer")
    assert "BG001" not in found and "BG006" not in found


def test_gcp_network_writes_in_a_customer_network(checked: Any) -> None:
    found = rules_of(checked, "gcp-network-byo")
    assert checked[1]["gcp-network-byo"]["network"]["signal"].startswith("sandbox.toml vars.network")
    assert "compute.subnetworks.update" in found["BG004"][0]
    assert "compute.firewalls.create" in found["BG004"][0]
    assert only(checked, "gcp-network-byo", "BG003")["severity"] == "error"
    unknown = rules_of(checked, "gcp-network-unknown")
    assert "BG004" not in unknown  # only in customer-managed networks
    assert only(checked, "gcp-network-unknown", "BG003")["severity"] == "note"


def test_gcp_unknown_role_and_not_permissions(checked: Any) -> None:
    found = rules_of(checked, "gcp-typos")
    (unknown_role,) = found["BG009"]
    assert "roles/editr" in unknown_role and "did you mean 'roles/editor'" in unknown_role
    assert "not assumed harmless" in unknown_role
    wildcard, typo = sorted(found["BG008"])  # 'logging.*' sorts before 'logging.logz.list'
    assert "did you mean 'logging.logs.list'" in typo
    assert "'logging.*'" in wildcard and "wildcards" in wildcard
    assert "BG001" not in found  # an unknown role is reported as unknown, not guessed


# -- Azure -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "app, role",
    [("azure-owner", "Owner"), ("azure-contributor", "Contributor"), ("azure-uaa", "User Access Administrator")],
)
def test_azure_admin_built_in_roles(checked: Any, app: str, role: str) -> None:
    finding = only(checked, app, "BG001")
    assert f"built-in role {role}" in finding["message"]
    assert "resource group" in finding["message"]


def test_azure_contributor_finding_names_what_it_takes_back(checked: Any) -> None:
    assert "Microsoft.Authorization/*/Write" in only(checked, "azure-contributor", "BG001")["message"]


def test_azure_star_and_role_assignment_writes_are_admin(checked: Any) -> None:
    assert "'*'" in only(checked, "azure-star", "BG001")["message"]
    assert "Microsoft.Authorization/roleAssignments/write" in only(checked, "azure-assignments", "BG001")["message"]


def test_azure_reader_stays_clean_even_in_a_customer_network(checked: Any) -> None:
    assert checked[1]["azure-reader"]["network"]["kind"] == "customer-managed"
    assert rules_of(checked, "azure-reader") == {}


def test_azure_escalation_paths(checked: Any) -> None:
    assert "roleDefinitions/write" in only(checked, "azure-definitions", "BG006")["message"]
    message = only(checked, "azure-identity-compute", "BG006")["message"]
    assert "userAssignedIdentities/assign/action" in message and "virtualMachines/write" in message
    assert "BG006" not in rules_of(checked, "azure-identity-alone")


def test_azure_network_writes_in_a_customer_network(checked: Any) -> None:
    assert "Microsoft.Network/*" in only(checked, "azure-network-byo", "BG004")["message"]
    assert "Microsoft.Network/dnsZones/*" in only(checked, "azure-dns-byo", "BG004")["message"]


def test_azure_unknown_role_and_not_actions(checked: Any) -> None:
    found = rules_of(checked, "azure-typos")
    (unknown_role,) = found["BG009"]
    assert "'Ownr'" in unknown_role and "did you mean 'Owner'" in unknown_role
    provider, aws_style = sorted(found["BG008"])  # upper case 'Microsoft' sorts before 'ec2'
    assert "did you mean 'Microsoft.Network/dnsZones/read'" in provider
    assert "'ec2:RunInstances'" in aws_style


def test_azure_aks_user_role_is_clean_outside_a_customer_network(checked: Any) -> None:
    assert {rule for rule in rules_of(checked, "azure-aks-user")} <= {"BG003"}


# -- the level, the permissions command and the version ----------------------------------------


def test_declared_sandbox_level_with_network_writes(tmp_path: Path) -> None:
    files = gcp_app(
        "gcp_permissions = " + strings(["compute.routes.create", "compute.networks.use"]),
        extra={".bglint.yaml": 'levels: {"*-bg": sandbox}\n'},
    )
    write_tree(tmp_path, dict(files))
    report = json.loads(bglint("check", tmp_path, "--format", "json").stdout)
    (finding,) = [f for f in report["findings"] if f["rule"] == "BG007"]
    assert "compute.routes.create" in finding["message"]
    assert "compute.networks.use" not in finding["message"]  # attaching is not changing the network


@pytest.mark.slow
def test_permissions_command_lists_gcp_and_azure_roles(tmp_path: Path) -> None:
    write_tree(tmp_path / "g", dict(APPS["gcp-observability"]))
    write_tree(tmp_path / "a", dict(APPS["azure-contributor"]))
    text = bglint("permissions", tmp_path / "g", tmp_path / "a")
    assert text.returncode == 0, text.stderr
    assert "predefined role roles/monitoring.viewer" in text.stdout
    assert "bound on the whole project" in text.stdout and "bound on the whole resource group" in text.stdout
    assert "built-in role Contributor" in text.stdout
    data = json.loads(bglint("permissions", tmp_path / "g", "--format", "json").stdout)
    (role,) = data
    assert role["platform"] == "gcp"
    assert {"action": "logging.logs.list", "change": False} in role["services"]["logging"]
    assert role["scope"] == "project"


def test_version_names_the_gcp_and_azure_role_data() -> None:
    out = bglint("--version").stdout
    assert "GCP predefined roles:" in out and "Azure built-in roles:" in out
    assert "iam-dataset" in out


def test_an_aws_app_is_unchanged_by_the_cloud_data(tmp_path: Path) -> None:
    """No GCP or Azure data is read for an AWS-only check (start-up stays fast)."""
    write_tree(
        tmp_path,
        {
            "metadata.toml": 'version = "v1"\n',
            "break_glass.toml": dedent(
                """\
                [[role]]
                name = "{{.nuon.install.id}}-bg"
                description = "incident access"

                [[role.policies]]
                managed_policy_name = "ReadOnlyAccess"
                """
            ),
        },
    )
    probe = (
        "import sys, bglint.cli.main as c\n"
        "try:\n    c.main(['check', sys.argv[1], '--format', 'json', '-o', sys.argv[2]])\n"
        "except SystemExit:\n    pass\n"
        "import bglint.clouds.roles as r\n"
        "print(r.gcp_roles.cache_info().currsize, r.azure_roles.cache_info().currsize)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path), str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.split() == ["0", "0"], proc.stderr


def test_many_misspelled_permissions_are_all_reported_and_the_first_twenty_get_a_suggestion(tmp_path: Path) -> None:
    """Files come from pull requests: a list of thousands of bad names costs a suggestion for 20 only."""
    misspelled = [f"logging.logz{n}.list" for n in range(30)]
    write_tree(tmp_path, dict(gcp_app("gcp_permissions = " + strings(misspelled))))
    report = json.loads(bglint("check", tmp_path, "--format", "json").stdout)
    unknown = [f["message"] for f in report["findings"] if f["rule"] == "BG008"]
    assert len(unknown) == 30
    assert sum("did you mean" in message for message in unknown) == 20


@pytest.mark.slow
def test_permissions_that_differ_only_by_case_are_listed_in_one_order(tmp_path: Path) -> None:
    """GCP has such pairs (networkservices.httpFilters.create, .httpfilters.create); a set's order varies by run."""
    pair = ["networkservices.httpfilters.create", "networkservices.httpFilters.create"]
    write_tree(tmp_path, gcp_app("gcp_permissions = " + strings(pair)))
    outputs = set()
    for seed in range(6):
        done = subprocess.run(
            [sys.executable, "-m", "bglint", "permissions", str(tmp_path), "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        )
        outputs.add(done.stdout)
    (output,) = outputs
    (role,) = json.loads(output)
    assert [held["action"] for held in role["services"]["networkservices"]] == sorted(pair)
