"""The app config as Nuon reads it, through the real CLI: every file and directory form, the
configs Nuon refuses (input errors: exit 2, one line naming file and line, the rest still
checked), references resolved by Nuon's rules, and `bglint render`.

Expectations come from Nuon's parser and stack generator (nuonco/nuon pkg/config, pkg/config/parse,
services/ctl-api/internal/pkg/stacks/cloudformation) as summarised in the project's reference.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import run_bglint, write_tree

METADATA = 'version = "v1"\n'
VENDOR_STACK = (
    'name = "s"\ndescription = "d"\n'
    'vpc_nested_template_url = "https://nuon-artifacts.s3.us-west-2.amazonaws.com/aws-cloudformation-templates/vpc/eks/stack.yaml"\n'
)
ADMIN_ROLE = """\
name        = "{{.nuon.install.id}}-break-glass"
description = "incident access"

[[policies]]
managed_policy_name = "AdministratorAccess"
"""
READ_ROLE = 'name = "{{.nuon.install.id}}-read"\ndescription = "d"\n\n[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n'
S3_GET = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}\n'
SANDBOX = 'terraform_version = "1.11.3"\n[public_repo]\nrepo = "o/r"\ndirectory = "."\nbranch = "main"\n'
ERROR_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.+)$")


def make_app(root: Path, files: dict[str, str]) -> Path:
    return write_tree(root, {"metadata.toml": METADATA, "stack.toml": VENDOR_STACK, **files})


def check(cwd: Path, *args: str) -> tuple[int, dict[str, Any], list[str]]:
    run = run_bglint("check", *args, "--format", "json", cwd=cwd)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, json.loads(run.stdout), run.stderr.splitlines()


def rules_of(report: dict[str, Any]) -> list[str]:
    return sorted(f["rule"] for f in report["findings"] if f["rule"] != "BG020")


def one_error(stderr: list[str], path: str, *pieces: str) -> re.Match[str]:
    (line,) = [text for text in stderr if text.startswith(f"{path}:")]
    match = ERROR_LINE.match(line)
    assert match, line
    for piece in pieces:
        assert piece in match.group("message"), line
    return match


# -- break_glass/ directory form ---------------------------------------------------------------


def test_break_glass_directory_form_is_loaded(tmp_path: Path) -> None:
    make_app(tmp_path / "app", {"break_glass/admin.toml": ADMIN_ROLE})
    code, report, stderr = check(tmp_path, "app")
    assert (code, stderr) == (1, [])
    (finding,) = [f for f in report["findings"] if f["rule"] == "BG001"]
    assert finding["path"] == "app/break_glass/admin.toml" and finding["line"] == 5


def test_break_glass_directory_form_with_a_read_only_role_passes(tmp_path: Path) -> None:
    make_app(
        tmp_path / "app",
        {"break_glass/read.toml": ADMIN_ROLE.replace("AdministratorAccess", "ReadOnlyAccess"), "RUNBOOK.md": ""},
    )
    code, report, stderr = check(tmp_path, "app", "--fail-on", "error")
    assert stderr == [] and code == 0
    assert "BG001" not in rules_of(report)


def test_both_break_glass_forms_are_refused_and_both_still_checked(tmp_path: Path) -> None:
    make_app(tmp_path / "app", {"break_glass.toml": "[[role]]\n" + READ_ROLE, "break_glass/admin.toml": ADMIN_ROLE})
    code, report, stderr = check(tmp_path, "app")
    assert code == 2
    one_error(stderr, "app/break_glass.toml", "break_glass/", "refuses")
    assert "BG001" in rules_of(report)  # the directory's admin role is still judged


def test_an_empty_break_glass_toml_counts_as_absent(tmp_path: Path) -> None:
    make_app(tmp_path / "app", {"break_glass.toml": "\n", "break_glass/admin.toml": ADMIN_ROLE})
    code, report, stderr = check(tmp_path, "app")
    assert (code, stderr) == (1, [])
    assert "BG001" in rules_of(report)


# -- permissions/ ------------------------------------------------------------------------------

PROVISION = """\
type        = "provision"
name        = "{{.nuon.install.id}}-provision"
description = "d"

[[policies]]
managed_policy_name = "AdministratorAccess"
"""


def test_roles_in_permissions_subfolders_are_loaded_but_not_named_policies(tmp_path: Path) -> None:
    make_app(
        tmp_path / "app",
        {
            "break_glass.toml": "[[role]]\n" + READ_ROLE,
            "permissions/ops/provision.toml": PROVISION,
            "permissions/policies/shared.toml": f"name = \"shared\"\ncontents = '{S3_GET.strip()}'\n",
        },
    )
    code, report, stderr = check(tmp_path, "app", "--all-roles")
    assert stderr == [] and code == 1
    (finding,) = [f for f in report["findings"] if f["rule"] == "BG001"]
    assert finding["path"] == "app/permissions/ops/provision.toml"
    roles = {r["name"] for d in report["documents"] for r in d["roles"]}
    assert roles == {"{{.nuon.install.id}}-read", "{{.nuon.install.id}}-provision"}


def test_permissions_toml_roles_and_named_policies(tmp_path: Path) -> None:
    legacy = (
        "[[roles]]\n"
        + PROVISION.replace("AdministratorAccess", "ReadOnlyAccess").replace("[[policies]]", "[[roles.policies]]")
        + '\n[[roles.named_policies]]\nname = "shared"\n'
        + f"\n[[named_policies]]\nname = \"shared\"\ncontents = '{S3_GET.strip()}'\n"
    )
    make_app(tmp_path / "app", {"break_glass.toml": "[[role]]\n" + READ_ROLE, "permissions.toml": legacy})
    code, report, stderr = check(tmp_path, "app")
    assert stderr == [] and code == 0, stderr
    (provision,) = [r for d in report["documents"] for r in d["roles"] if r["name"].endswith("-provision")]
    assert len(provision["policies"]) == 2


def test_a_role_that_grants_nothing_is_refused_and_the_rest_still_checked(tmp_path: Path) -> None:
    make_app(
        tmp_path / "app",
        {"break_glass.toml": '[[role]]\nname = "empty"\ndescription = "d"\n', "break_glass/admin.toml": ""},
    )
    make_app(tmp_path / "other", {"break_glass/admin.toml": ADMIN_ROLE})
    code, report, stderr = check(tmp_path, "app", "other")
    assert code == 2
    match = one_error(stderr, "app/break_glass.toml", "'empty'", "no permissions")
    assert (match.group("line"), match.group("col")) == ("1", "1")
    assert [f["path"] for f in report["findings"] if f["rule"] == "BG001"] == ["other/break_glass/admin.toml"]


# -- policy entries and sandboxes Nuon accepts -----------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        'managed_policy_name = "ReadOnlyAccess"\ncontents = ""\n',
        'managed_policy_name = "ReadOnlyAccess"\ngcp_predefined_role = "roles/viewer"\n',
        'managed_policy_name = "ReadOnlyAccess"\nazure_built_in_roles = ["Reader"]\n',
    ],
    ids=["managed-with-empty-contents", "aws-and-gcp", "aws-and-azure"],
)
def test_policy_entries_nuon_accepts(tmp_path: Path, entry: str) -> None:
    text = f'[[role]]\nname = "r"\ndescription = "d"\n\n[[role.policies]]\n{entry}'
    make_app(tmp_path / "app", {"break_glass.toml": text})
    code, _, stderr = check(tmp_path, "app")
    assert stderr == [] and code in (0, 1)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (
            'managed_policy_name = "ReadOnlyAccess"\ncontents = \'{"Statement": []}\'\n',
            "'managed_policy_name' and 'contents'",
        ),
        (
            'gcp_predefined_role = "roles/viewer"\ngcp_permissions = ["a.b.c"]\n',
            "'gcp_predefined_role' and 'gcp_permissions'",
        ),
    ],
    ids=["managed-and-contents", "two-gcp-fields"],
)
def test_same_cloud_pairs_are_refused(tmp_path: Path, entry: str, says: str) -> None:
    text = f'[[role]]\nname = "r"\ndescription = "d"\n\n[[role.policies]]\n{entry}'
    make_app(tmp_path / "app", {"break_glass.toml": text})
    code, _, stderr = check(tmp_path, "app")
    assert code == 2
    match = one_error(stderr, "app/break_glass.toml", says)
    assert match.group("line") == "5"


@pytest.mark.parametrize(
    ("statement", "refused"), [('{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}', True), ("[]", False)]
)
def test_an_inline_statement_must_be_a_list(tmp_path: Path, statement: str, refused: bool) -> None:
    make_app(
        tmp_path / "app",
        {"break_glass.toml": inline_role("./p.json"), "permissions/p.json": f'{{"Statement": {statement}}}'},
    )
    code, _, stderr = check(tmp_path, "app")
    if refused:
        assert code == 2
        one_error(stderr, "app/permissions/p.json", "'Statement' must be a list")
    else:
        assert (code, stderr) == (0, [])


def test_pulumi_sandbox_is_valid(tmp_path: Path) -> None:
    pulumi = 'type = "pulumi"\nruntime = "go"\n[public_repo]\nrepo = "o/r"\ndirectory = "."\nbranch = "main"\n'
    pulumi += '[pulumi_config]\n"gcp:project" = "p"\n'
    make_app(tmp_path / "app", {"break_glass.toml": "[[role]]\n" + READ_ROLE, "sandbox.toml": pulumi})
    code, _, stderr = check(tmp_path, "app")
    assert stderr == [] and code == 0


def test_a_terraform_sandbox_still_needs_terraform_version(tmp_path: Path) -> None:
    sandbox = SANDBOX.replace('terraform_version = "1.11.3"\n', "")
    make_app(tmp_path / "app", {"break_glass.toml": "[[role]]\n" + READ_ROLE, "sandbox.toml": sandbox})
    code, _, stderr = check(tmp_path, "app")
    assert code == 2
    one_error(stderr, "app/sandbox.toml", "terraform_version")


# -- references ----------------------------------------------------------------------------------


def inline_role(contents: str) -> str:
    return f'[[role]]\nname = "r"\ndescription = "d"\n\n[[role.policies]]\nname = "p"\ncontents = "{contents}"\n'


def test_with_permissions_present_a_reference_resolves_there_only(tmp_path: Path) -> None:
    make_app(
        tmp_path / "app",
        {"break_glass.toml": inline_role("./p.json"), "p.json": S3_GET, "permissions/boundary.json": S3_GET},
    )
    code, _, stderr = check(tmp_path, "app")
    assert code == 2
    match = one_error(stderr, "app/break_glass.toml", "Nuon reads permissions/p.json", "p.json exists")
    assert match.group("line") == "7"


def test_the_report_names_the_file_used(tmp_path: Path) -> None:
    make_app(tmp_path / "app", {"break_glass.toml": inline_role("./p.json"), "permissions/p.json": S3_GET})
    code, report, stderr = check(tmp_path, "app")
    assert (code, stderr) == (0, [])
    (doc,) = report["documents"]
    assert doc["references"] == [{"reference": "./p.json", "file": "app/permissions/p.json"}]


def test_a_named_policy_resolves_next_to_its_own_file(tmp_path: Path) -> None:
    role = '[[role]]\nname = "r"\ndescription = "d"\n\n[[role.named_policies]]\nname = "shared"\n'
    make_app(
        tmp_path / "app",
        {
            "break_glass.toml": role,
            "permissions/policies/shared.toml": 'name = "shared"\ncontents = "./shared.json"\n',
            "permissions/policies/shared.json": S3_GET,
        },
    )
    code, report, stderr = check(tmp_path, "app")
    assert (code, stderr) == (0, [])
    assert report["documents"][0]["references"] == [
        {"reference": "./shared.json", "file": "app/permissions/policies/shared.json"}
    ]


def test_dot_slash_nuon_is_a_literal(tmp_path: Path) -> None:
    make_app(
        tmp_path / "app",
        {"break_glass.toml": inline_role("./nuon-policy.json"), "permissions/nuon-policy.json": S3_GET},
    )
    code, report, stderr = check(tmp_path, "app")
    assert code == 2  # the literal text is not JSON: Nuon would fail the same way
    one_error(stderr, "app/break_glass.toml")
    assert report["documents"][0]["references"] == []


def git_init(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


@pytest.mark.slow
def test_a_shared_folder_of_the_repository_is_followed(tmp_path: Path) -> None:
    git_init(tmp_path)
    # Resolved against permissions/ (it exists): up to the app, to apps/, to the repository.
    reference = "../../../shared/p.json"
    make_app(tmp_path / "apps" / "a", {"break_glass.toml": inline_role(reference), "permissions/x.json": S3_GET})
    write_tree(tmp_path, {"shared/p.json": S3_GET})
    code, report, stderr = check(tmp_path / "apps", "a")
    assert (code, stderr) == (0, [])
    assert report["documents"][0]["references"] == [{"reference": reference, "file": "../shared/p.json"}]


@pytest.mark.slow
def test_outside_git_the_directory_given_bounds_references(tmp_path: Path) -> None:
    make_app(
        tmp_path / "apps" / "a", {"break_glass.toml": inline_role("../../shared/p.json"), "permissions/x.json": S3_GET}
    )
    write_tree(tmp_path, {"apps/shared/p.json": S3_GET})
    code, _, stderr = check(tmp_path, "apps")  # the shared folder is inside the directory given
    assert (code, stderr) == (0, [])
    code, _, stderr = check(tmp_path / "apps", "a")  # now it is not
    assert code == 2
    one_error(stderr, "a/break_glass.toml", "leads outside the checked directory")


def test_a_symlinked_folder_inside_the_tree_is_followed(tmp_path: Path) -> None:
    git_init(tmp_path)
    write_tree(tmp_path, {"common/ops/provision.toml": PROVISION})
    make_app(tmp_path / "app", {"break_glass.toml": "[[role]]\n" + READ_ROLE, "permissions/boundary.json": S3_GET})
    (tmp_path / "app" / "permissions" / "ops").symlink_to(tmp_path / "common" / "ops")
    code, report, stderr = check(tmp_path, "app", "--all-roles")
    assert stderr == [] and code == 1
    assert [f["path"] for f in report["findings"] if f["rule"] == "BG001"] == ["app/permissions/ops/provision.toml"]


# -- bglint render -----------------------------------------------------------------------------


def test_render_prints_the_generated_stack_as_cloudformation_yaml(tmp_path: Path) -> None:
    role = ADMIN_ROLE.replace("[[policies]]", "[[role.policies]]")
    role += (
        '\n[[role.policies]]\nname = "deny-secrets"\ncontents = \'' + S3_GET.strip().replace("Allow", "Deny") + "'\n"
    )
    make_app(tmp_path / "app", {"break_glass.toml": "[[role]]\n" + role})
    run = run_bglint("render", "app", cwd=tmp_path)
    assert (run.returncode, run.stderr) == (0, "")
    text = run.stdout
    assert "!GetAtt [RunnerAutoScalingGroup, Outputs.RunnerInstanceRoleARN]" in text
    logical = "BreakglassNuonInstallIdBreakGlass"
    assert f"Enable{logical}:" in text and "Default: 'false'" in text
    # What it prints is a template bglint (and CloudFormation) reads: checked as one, with every
    # role taken as break-glass, the admin role is found at its logical id.
    write_tree(tmp_path, {"rendered/stack.yaml": text})
    code, report, _ = check(tmp_path, "rendered/stack.yaml", "--all-roles")
    assert code == 1
    (role_doc,) = [r for r in report["documents"][0]["roles"] if r["name"] == logical]
    assert {"BG001"} <= {f["rule"] for f in report["findings"] if f.get("role") == logical}
    assert role_doc["gate_condition"] == f"Enable{logical}"


def test_render_refuses_what_nuon_refuses(tmp_path: Path) -> None:
    make_app(tmp_path / "app", {"break_glass.toml": '[[role]]\nname = "r"\ndescription = "d"\n'})
    run = run_bglint("render", "app", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("app/break_glass.toml:1:1: error:")
