"""`bglint audit` as a user runs it: the real CLI in a subprocess against a real moto server.

The roles are created through boto3 as a deployment would create them, in several accounts:
admin roles, bounded tag-scoped roles, roles that drifted from their template, and an account
with more roles than one page of ListRoles.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aws_support import (
    ADMIN,
    DEFAULT_ACCOUNT,
    READ_ONLY,
    RUNNER,
    TAG_SCOPED,
    FaultProxy,
    MotoServer,
    audit,
    by_role,
    client,
    document,
    fault_proxy,
    into_account,
    moto_with,
    session,
    trust,
)

pytestmark = pytest.mark.slow  # a moto server and the real CLI

DRIFT_ACCOUNT = "111111111111"
PAGED_ACCOUNT = "222222222222"
DENIED_ACCOUNT = "333333333333"
PAGED_ROLES = 120  # more than one page of ListRoles (100)
AUDITOR = "BglintAuditor"

# The definitions the drift account's roles are compared with.
TEMPLATE = f"""\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  CleanRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: clean-break-glass
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{AWS: "{RUNNER}"}}
            Action: sts:AssumeRole
            Condition: {{StringEquals: {{"sts:ExternalId": "inst123"}}}}
      ManagedPolicyArns: ["{READ_ONLY}"]
      Policies:
        - PolicyName: restart
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: ["ec2:RebootInstances", "ec2:StartInstances", "ec2:StopInstances"]
                Resource: "*"
                Condition: {{StringEquals: {{"aws:ResourceTag/install.nuon.co/id": "inst123"}}}}
  ExtraRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: extra-break-glass
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{AWS: "{RUNNER}"}}
            Action: sts:AssumeRole
      ManagedPolicyArns: ["{READ_ONLY}"]
  UnboundedRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${{AWS::StackName}}-unbounded-break-glass"
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{AWS: "{RUNNER}"}}
            Action: sts:AssumeRole
      PermissionsBoundary: !Ref Boundary
      ManagedPolicyArns: ["{READ_ONLY}"]
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: ["ec2:Describe*", "ec2:RebootInstances"]
            Resource: "*"
  WidenedRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: widened-break-glass
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{AWS: "{RUNNER}"}}
            Action: sts:AssumeRole
            Condition: {{StringEquals: {{"sts:ExternalId": "inst123"}}}}
      ManagedPolicyArns: ["{READ_ONLY}"]
"""


# -- the accounts ----------------------------------------------------------------------


def _setup(endpoint: str) -> None:
    iam = client(session(endpoint), "iam", endpoint)
    # The caller's account: an admin break-glass role, a bounded tag-scoped one found by its tag,
    # and a role that is not break-glass.
    iam.create_role(RoleName="demo-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
    iam.attach_role_policy(RoleName="demo-break-glass", PolicyArn=ADMIN)
    boundary = iam.create_policy(PolicyName="install-boundary", PolicyDocument=document(TAG_SCOPED))["Policy"]["Arn"]
    iam.create_role(
        RoleName="ops-support",
        AssumeRolePolicyDocument=trust(RUNNER, conditions={"StringEquals": {"sts:ExternalId": "inst123"}}),
        PermissionsBoundary=boundary,
        Tags=[{"Key": "runner.nuon.co/assumable", "Value": "true"}, {"Key": "install.nuon.co/id", "Value": "inst123"}],
    )
    iam.put_role_policy(RoleName="ops-support", PolicyName="restart", PolicyDocument=document(TAG_SCOPED))
    iam.create_role(RoleName="app-service", AssumeRolePolicyDocument=trust(RUNNER))
    iam.attach_role_policy(RoleName="app-service", PolicyArn=ADMIN)
    for account in (DEFAULT_ACCOUNT, DRIFT_ACCOUNT, PAGED_ACCOUNT, DENIED_ACCOUNT):
        # The role the audit assumes (moto lets any AssumeRole through without IAM enforcement).
        other = client(into_account(endpoint, account), "iam", endpoint)
        other.create_role(RoleName=AUDITOR, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"))
    _setup_drift(client(into_account(endpoint, DRIFT_ACCOUNT), "iam", endpoint))
    paged = client(into_account(endpoint, PAGED_ACCOUNT), "iam", endpoint)

    def bulk(index: int) -> None:
        paged.create_role(
            RoleName=f"bulk-{index:03d}",
            AssumeRolePolicyDocument=trust(RUNNER),
            # 8 tags, the deciding one last: with --page-size 7 it is on ListRoleTags' second page.
            Tags=[
                *({"Key": f"k{n}", "Value": f"v{index % 7}"} for n in range(7)),
                {"Key": "break-glass", "Value": "true"},
            ],
        )
        paged.put_role_policy(RoleName=f"bulk-{index:03d}", PolicyName="restart", PolicyDocument=document(TAG_SCOPED))

    for index in range(PAGED_ROLES):  # one at a time: moto's IAM is not safe for concurrent writes
        bulk(index)


def _setup_drift(iam: Any) -> None:
    restart = document(TAG_SCOPED)
    external = {"StringEquals": {"sts:ExternalId": "inst123"}}
    # As defined.
    iam.create_role(RoleName="clean-break-glass", AssumeRolePolicyDocument=trust(RUNNER, conditions=external))
    iam.attach_role_policy(RoleName="clean-break-glass", PolicyArn=READ_ONLY)
    iam.put_role_policy(RoleName="clean-break-glass", PolicyName="restart", PolicyDocument=restart)
    # AdministratorAccess attached by hand.
    iam.create_role(RoleName="extra-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
    iam.attach_role_policy(RoleName="extra-break-glass", PolicyArn=READ_ONLY)
    iam.attach_role_policy(RoleName="extra-break-glass", PolicyArn=ADMIN)
    # Boundary removed (the stack name fills ${AWS::StackName}).
    iam.create_role(RoleName="install-unbounded-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
    iam.attach_role_policy(RoleName="install-unbounded-break-glass", PolicyArn=READ_ONLY)
    # Trust widened: another account's root, and no ExternalId.
    iam.create_role(
        RoleName="widened-break-glass", AssumeRolePolicyDocument=trust(RUNNER, "arn:aws:iam::999988887777:root")
    )
    iam.attach_role_policy(RoleName="widened-break-glass", PolicyArn=READ_ONLY)
    # Deployed, defined nowhere.
    iam.create_role(RoleName="handmade-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
    iam.attach_role_policy(RoleName="handmade-break-glass", PolicyArn=READ_ONLY)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_with(tmp_path_factory.mktemp("moto") / "moto.log", _setup) as server:
        yield server


def json_audit(endpoint: str, *args: str | Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = audit(endpoint, "--format", "json", *args, cwd=cwd)
    assert proc.stdout, proc.stderr
    return proc, json.loads(proc.stdout)


# -- what it finds ---------------------------------------------------------------------


def test_admin_role_is_bg001_and_bounded_tag_scoped_role_is_clean(moto: MotoServer, tmp_path: Path) -> None:
    proc, report = json_audit(moto.endpoint, "--tag", "runner.nuon.co/assumable=true", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    roles = by_role(report)
    # Discovery: the name says break glass, the tag was asked for; app-service is neither.
    assert set(roles) == {"demo-break-glass", "ops-support"}
    assert "BG001" in roles["demo-break-glass"]
    assert not roles["ops-support"] & {"BG001", "BG002", "BG003"}, roles["ops-support"]
    (doc,) = report["documents"]
    assert doc["kind"] == "account" and doc["path"] == f"aws://{DEFAULT_ACCOUNT}"
    admin = next(f for f in report["findings"] if f["rule"] == "BG001")
    assert admin["path"] == f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/demo-break-glass"
    assert admin["line"] == 0
    assert "AdministratorAccess" in admin["message"]


def test_without_the_tag_selector_the_tagged_role_is_not_audited(moto: MotoServer, tmp_path: Path) -> None:
    _, report = json_audit(moto.endpoint, cwd=tmp_path)
    assert set(by_role(report)) == {"demo-break-glass"}


def test_name_path_and_explicit_arn_selectors(moto: MotoServer, tmp_path: Path) -> None:
    _, named = json_audit(moto.endpoint, "--name", "app-*", cwd=tmp_path)
    assert set(by_role(named)) == {"app-service", "demo-break-glass"}
    _, nothing = json_audit(moto.endpoint, "--path", "/nowhere/", cwd=tmp_path)
    assert by_role(nothing) == {}
    arn = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/app-service"
    proc, explicit = json_audit(moto.endpoint, "--role-arn", arn, cwd=tmp_path)
    assert set(by_role(explicit)) == {"app-service"} and "BG001" in by_role(explicit)["app-service"], proc.stderr


def test_reads_boundary_tags_session_and_inline_policies(moto: MotoServer, tmp_path: Path) -> None:
    _, report = json_audit(moto.endpoint, "--tag", "runner.nuon.co/assumable", cwd=tmp_path)
    roles = {r["name"]: r for doc in report["documents"] for r in doc["roles"]}
    ops = roles["ops-support"]
    assert ops["boundary"]["state"] == "document"
    assert ops["boundary"]["reference"] == f"arn:aws:iam::{DEFAULT_ACCOUNT}:policy/install-boundary"
    assert [(p["name"], p["origin"], p["statements"]) for p in ops["policies"]] == [("restart", "inline", 1)]
    assert ops["break_glass_reason"] == "tag runner.nuon.co/assumable=true"
    demo = roles["demo-break-glass"]
    assert [(p["name"], p["origin"]) for p in demo["policies"]] == [("AdministratorAccess", "aws-managed")]


# -- drift -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drift_report(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cwd = tmp_path_factory.mktemp("drift")
    (cwd / "stack.yaml").write_text(TEMPLATE)
    proc, report = json_audit(
        moto.endpoint, "--accounts", DRIFT_ACCOUNT, "--assume-role", AUDITOR, "--against", "stack.yaml", cwd=cwd
    )
    assert proc.returncode == 1, proc.stderr
    return report


def _drift(report: dict[str, Any], role: str) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule"] == "BG030" and f["role"] == role]


def test_role_as_defined_has_no_drift(drift_report: dict[str, Any]) -> None:
    assert _drift(drift_report, "clean-break-glass") == []
    assert "clean-break-glass" in by_role(drift_report)


def test_extra_attached_policy_is_drift(drift_report: dict[str, Any]) -> None:
    (message,) = _drift(drift_report, "extra-break-glass")
    assert "AdministratorAccess" in message and "does not attach" in message
    assert "stack.yaml" in message


def test_removed_boundary_is_drift(drift_report: dict[str, Any]) -> None:
    (message,) = _drift(drift_report, "install-unbounded-break-glass")
    assert "no permissions boundary" in message


def test_widened_trust_is_drift(drift_report: dict[str, Any]) -> None:
    messages = _drift(drift_report, "widened-break-glass")
    assert any("arn:aws:iam::999988887777:root" in m and "does not" in m for m in messages), messages
    assert any("without the condition on sts:ExternalId" in m for m in messages), messages


def test_role_defined_nowhere_is_drift(drift_report: dict[str, Any]) -> None:
    (message,) = _drift(drift_report, "handmade-break-glass")
    assert "no app config or template" in message


def test_drift_against_an_app_config(moto: MotoServer, tmp_path: Path) -> None:
    """A Nuon app config defines the role with a templated name; the deployed one lacks its boundary."""
    app = tmp_path / "app"
    (app / "permissions").mkdir(parents=True)
    (app / "metadata.toml").write_text('version = "v2"\n')
    (app / "permissions" / "boundary.json").write_text(document(TAG_SCOPED))
    (app / "break_glass.toml").write_text(
        '[[role]]\nname = "{{.nuon.install.id}}-unbounded-break-glass"\ndescription = "d"\n'
        'permissions_boundary = "./boundary.json"\n\n[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n'
    )
    proc, report = json_audit(
        moto.endpoint,
        "--role-arn",
        f"arn:aws:iam::{DRIFT_ACCOUNT}:role/install-unbounded-break-glass",
        "--assume-role",
        AUDITOR,
        "--against",
        "app",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    (message,) = _drift(report, "install-unbounded-break-glass")
    assert "no permissions boundary" in message and "break_glass.toml" in message


# -- many accounts, failures, pagination -----------------------------------------------


def test_failing_account_is_reported_and_the_others_are_written(moto: MotoServer, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.txt"
    accounts.write_text(f"# audited accounts\n{DEFAULT_ACCOUNT}\n{DENIED_ACCOUNT}  # denied\n{DRIFT_ACCOUNT}\n")
    proxy = FaultProxy(int(moto.port), deny_accounts=(DENIED_ACCOUNT,))
    with fault_proxy(proxy) as endpoint:
        proc = audit(
            endpoint, "--accounts", accounts, "--assume-role", AUDITOR, "--format", "json", "-j", "3", cwd=tmp_path
        )
    assert proc.returncode == 2, proc.stderr
    report = json.loads(proc.stdout)
    assert {d["path"] for d in report["documents"]} == {f"aws://{DEFAULT_ACCOUNT}", f"aws://{DRIFT_ACCOUNT}"}
    assert "BG001" in by_role(report)["demo-break-glass"]
    (error,) = report["errors"]
    assert error["path"] == f"aws://{DENIED_ACCOUNT}"
    assert error["message"].startswith("access denied: sts:AssumeRole"), error
    assert f"aws://{DENIED_ACCOUNT}: error: access denied: sts:AssumeRole" in proc.stderr


def test_unreachable_account_is_reported_after_the_configured_attempts(moto: MotoServer, tmp_path: Path) -> None:
    proxy = FaultProxy(int(moto.port), drop_accounts=(DENIED_ACCOUNT,))
    with fault_proxy(proxy) as endpoint:
        proc = audit(
            endpoint,
            "--accounts",
            f"{DENIED_ACCOUNT},{DEFAULT_ACCOUNT}",
            "--assume-role",
            AUDITOR,
            env={"AWS_MAX_ATTEMPTS": "2"},  # the standard AWS setting, honoured
            cwd=tmp_path,
        )
    assert proc.returncode == 2
    assert f"aws://{DENIED_ACCOUNT}: error: unreachable: " in proc.stderr, proc.stderr
    assert f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/demo-break-glass: BG001" in proc.stdout


def test_accounts_without_assume_role_other_than_the_callers_fail_clearly(moto: MotoServer, tmp_path: Path) -> None:
    proc = audit(moto.endpoint, "--accounts", f"{DEFAULT_ACCOUNT},{DRIFT_ACCOUNT}", cwd=tmp_path)
    assert proc.returncode == 2
    assert f"aws://{DRIFT_ACCOUNT}: error: the credentials are for account {DEFAULT_ACCOUNT}" in proc.stderr
    assert "demo-break-glass" in proc.stdout


def test_bad_account_ids_are_a_usage_error(moto: MotoServer, tmp_path: Path) -> None:
    proc = audit(moto.endpoint, "--accounts", "12345", cwd=tmp_path)
    assert proc.returncode == 2 and "'12345' is not an AWS account id" in proc.stderr


@pytest.mark.parametrize("page_size", [None, 7])
def test_every_page_is_read(moto: MotoServer, tmp_path: Path, page_size: int | None) -> None:
    paging = ["--page-size", str(page_size)] if page_size else []
    proc, report = json_audit(
        moto.endpoint, "--accounts", PAGED_ACCOUNT, "--assume-role", AUDITOR, *paging, cwd=tmp_path
    )
    assert proc.returncode in (0, 1), proc.stderr
    (doc,) = report["documents"]
    names = sorted(r["name"] for r in doc["roles"])
    assert names == [f"bulk-{i:03d}" for i in range(PAGED_ROLES)]
    assert all(r["break_glass_reason"] == "tag break-glass=true" for r in doc["roles"])


def test_organization_accounts_are_all_audited(moto: MotoServer, tmp_path: Path) -> None:
    org = client(session(moto.endpoint), "organizations", moto.endpoint)
    org.create_organization(FeatureSet="ALL")
    created = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    member = created["AccountId"]
    iam = client(into_account(moto.endpoint, member), "iam", moto.endpoint)
    iam.create_role(RoleName="member-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
    iam.attach_role_policy(RoleName="member-break-glass", PolicyArn=ADMIN)
    proc, report = json_audit(moto.endpoint, "--organization", "--assume-role", AUDITOR, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert {d["path"] for d in report["documents"]} == {f"aws://{DEFAULT_ACCOUNT}", f"aws://{member}"}
    assert "BG001" in by_role(report)["member-break-glass"]


def test_throttling_and_server_errors_are_retried_and_nothing_is_lost(moto: MotoServer, tmp_path: Path) -> None:
    args = ("--accounts", f"{DEFAULT_ACCOUNT},{PAGED_ACCOUNT}", "--assume-role", AUDITOR, "--format", "json")
    clean = audit(moto.endpoint, *args, cwd=tmp_path)
    proxy = FaultProxy(int(moto.port), first=90, every=3)
    with fault_proxy(proxy) as endpoint:
        faulty = audit(endpoint, *args, cwd=tmp_path)
    assert faulty.returncode == clean.returncode == 1, faulty.stderr
    assert proxy.injected.get(400) and proxy.injected.get(503) and proxy.injected.get(500), proxy.injected
    expected, got = json.loads(clean.stdout), json.loads(faulty.stdout)
    assert got["errors"] == []
    assert by_role(got) == by_role(expected)
    assert len(by_role(got)) == PAGED_ROLES + 1
    assert [f["fingerprint"] for f in got["findings"]] == [f["fingerprint"] for f in expected["findings"]]


def test_throttling_past_the_retries_fails_the_account_clearly(moto: MotoServer, tmp_path: Path) -> None:
    proxy = FaultProxy(int(moto.port), first=10_000, every=1)
    with fault_proxy(proxy) as endpoint:
        proc = audit(endpoint, env={"AWS_MAX_ATTEMPTS": "2"}, cwd=tmp_path)
    assert proc.returncode == 2
    # The first call (sts:GetCallerIdentity) already fails: one line, after 2 attempts as configured.
    assert "aws: error: " in proc.stderr and "after 2 attempts" in proc.stderr, proc.stderr


# -- reports ---------------------------------------------------------------------------


def test_text_report_names_the_role_arn(moto: MotoServer, tmp_path: Path) -> None:
    proc = audit(moto.endpoint, cwd=tmp_path)
    assert proc.returncode == 1
    arn = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/demo-break-glass"
    assert any(line.startswith(f"{arn}: BG001 error ") for line in proc.stdout.splitlines()), proc.stdout


def test_markdown_and_html_reports_per_account_and_role(moto: MotoServer, tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    proc = audit(
        moto.endpoint,
        "--accounts",
        f"{DEFAULT_ACCOUNT},{DRIFT_ACCOUNT}",
        "--assume-role",
        AUDITOR,
        "--against",
        "stack.yaml",
        "--format",
        "markdown",
        "--report",
        "audit.html",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    markdown = proc.stdout
    assert markdown.startswith("# bglint audit report")
    assert f"## Account {DEFAULT_ACCOUNT}" in markdown and f"## Account {DRIFT_ACCOUNT}" in markdown
    assert "### demo-break-glass" in markdown
    assert "| Permissions management |" in markdown
    assert "**Drift from the definition**" in markdown
    page = (tmp_path / "audit.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert f'<h3 id="role-{DRIFT_ACCOUNT}-extra-break-glass">extra-break-glass</h3>' in page
    assert "<td>Permissions management</td>" in page and '<td class="error">error</td>' in page


def test_reports_escape_what_comes_from_the_account(moto: MotoServer, tmp_path: Path) -> None:
    iam = client(session(moto.endpoint), "iam", moto.endpoint)
    hostile = "<script>alert(1)</script> **bold** [x](http://evil)"
    iam.create_role(
        RoleName="escape-break-glass",
        AssumeRolePolicyDocument=trust(RUNNER),
        Tags=[{"Key": "note", "Value": hostile}],
    )
    try:
        arn = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/escape-break-glass"
        md = audit(moto.endpoint, "--role-arn", arn, "--format", "markdown", cwd=tmp_path).stdout
        page = audit(moto.endpoint, "--role-arn", arn, "--format", "html", cwd=tmp_path).stdout
    finally:
        iam.delete_role(RoleName="escape-break-glass")
    assert "<script>" not in md and "**bold**" not in md and "[x](http" not in md
    assert "\\<script\\>" in md
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_file_name_from_against_makes_no_workflow_command_in_json_or_sarif(moto: MotoServer, tmp_path: Path) -> None:
    # A GitHub Actions runner takes `##[cmd]` anywhere in a log line as a command; `add-mask`
    # would hide text from the rest of the log. The reports still name the file exactly.
    hostile = "##[add-mask]x.yaml"
    (tmp_path / hostile).write_text(TEMPLATE)
    for fmt in ("json", "sarif"):
        args = ("--accounts", DRIFT_ACCOUNT, "--assume-role", AUDITOR, "--against", hostile, "--format", fmt)
        proc = audit(moto.endpoint, *args, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert "##[" not in proc.stdout, fmt
        assert hostile in json.dumps(json.loads(proc.stdout)), fmt  # the same name, only encoded differently


def test_credentials_never_appear_in_any_output(moto: MotoServer, tmp_path: Path) -> None:
    secret = "bglintFAKEsecretKEY0123456789abcdefXYZ"
    token = "bglintFAKEsessionTOKEN0123456789abcdef"
    key_id = "AKIABGLINTFAKEKEY123"
    profile_secret = "bglintFAKEprofileSECRET98765zyxw"
    (tmp_path / "credentials").write_text(
        f"[auditor]\naws_access_key_id = AKIABGLINTPROFILE999\naws_secret_access_key = {profile_secret}\n"
    )
    env = {
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": token,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    proxy = FaultProxy(int(moto.port), deny_accounts=(DENIED_ACCOUNT,))
    outputs = []
    with fault_proxy(proxy) as endpoint:
        for index, fmt in enumerate(("text", "json", "sarif", "markdown", "html")):
            # The environment's credentials, or the profile's (which take precedence when named).
            profile = ("--profile", "auditor") if index % 2 else ()
            proc = audit(
                endpoint,
                "--accounts",
                f"{DEFAULT_ACCOUNT},{DENIED_ACCOUNT}",
                "--assume-role",
                AUDITOR,
                "--format",
                fmt,
                "--report",
                "r.html" if index % 2 else "r.md",
                *profile,
                env=env,
                cwd=tmp_path,
            )
            assert proc.returncode == 2 and "demo-break-glass" in proc.stdout, proc.stderr
            outputs += [proc.stdout, proc.stderr, (tmp_path / ("r.html" if index % 2 else "r.md")).read_text()]
    for text in outputs:
        for value in (secret, token, key_id, profile_secret, "AKIABGLINTPROFILE999"):
            assert value not in text


def test_check_does_not_import_boto3(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bglint", "check", str(root / "examples" / "good-app")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "boto" not in proc.stderr


# -- the machine-readable reports are valid ---------------------------------------------

TOOLS = Path(os.environ.get("BGLINT_TOOLS", Path(__file__).resolve().parents[1] / ".tools"))
MULTITOOL_DIR = TOOLS / "node_modules" / "@microsoft" / "sarif-multitool-linux"
REPORT_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json"


@pytest.fixture(scope="module")
def reports(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """JSON and SARIF of an audit with findings, drift and a failed account."""
    cwd = tmp_path_factory.mktemp("reports")
    (cwd / "stack.yaml").write_text(TEMPLATE)
    accounts = f"{DEFAULT_ACCOUNT},{DRIFT_ACCOUNT},{DENIED_ACCOUNT}"
    found = {}
    with fault_proxy(FaultProxy(int(moto.port), deny_accounts=(DENIED_ACCOUNT,))) as endpoint:
        for fmt in ("json", "sarif"):
            out = cwd / f"audit.{fmt}"
            args = ("--accounts", accounts, "--assume-role", AUDITOR, "--against", "stack.yaml", "--format", fmt)
            proc = audit(endpoint, *args, "-o", out, cwd=cwd)
            assert proc.returncode == 2 and out.is_file(), proc.stderr
            found[fmt] = out
    return found


def test_json_report_validates_against_the_report_schema(reports: dict[str, Path]) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads(REPORT_SCHEMA.read_text()))
    report = json.loads(reports["json"].read_text())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(report)]
    assert not errors, "\n".join(errors)
    assert {d["kind"] for d in report["documents"]} == {"account"}


def test_sarif_results_have_a_file_and_line_and_keep_the_role_arn(reports: dict[str, Path], tmp_path: Path) -> None:
    """GitHub code scanning rejects a whole upload when one result has no physical location: a role
    its definition matches points at the definition's line, any other at its line in the account's
    snapshot written next to the SARIF; the ARN stays as the logical location."""
    from jsonschema import Draft7Validator

    log = json.loads(reports["sarif"].read_text())
    (run,) = log["runs"]
    assert run["results"]
    template_lines = TEMPLATE.splitlines()
    placed = set()
    for result in run["results"]:
        (location,) = result["locations"]
        (logical,) = location["logicalLocations"]
        arn = logical["fullyQualifiedName"]
        assert logical["kind"] == "resource" and arn.startswith("arn:aws:iam::")
        physical = location["physicalLocation"]
        uri, line = physical["artifactLocation"]["uri"], physical["region"]["startLine"]
        assert physical["artifactLocation"]["uriBaseId"] == "SRCROOT"
        if uri == "stack.yaml":  # the definition of the role: its resource's line
            assert re.fullmatch(r"  [A-Za-z]+:", template_lines[line - 1]), (uri, line)
            assert "no definition" not in result["message"]["text"]
        else:
            account = arn.split(":")[4]
            assert uri == f"bglint-audit-{account}.json", uri
            snapshot = reports["sarif"].parent / uri
            assert f'"Arn": "{arn}"' in snapshot.read_text().splitlines()[line - 1]
        if arn.endswith(":role/clean-break-glass"):
            assert (uri, line) == ("stack.yaml", 3)
        placed.add(uri)
    assert "stack.yaml" in placed and len(placed) > 1
    assert not (reports["sarif"].parent / f"bglint-audit-{DENIED_ACCOUNT}.json").exists()
    assert {r["ruleId"] for r in run["results"]} >= {"BG001", "BG030"}
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith(f"aws://{DENIED_ACCOUNT}: access denied") and "locations" not in note
    schema_file, multitool = MULTITOOL_DIR / "sarif-2.1.0.json", MULTITOOL_DIR / "Sarif.Multitool"
    if not multitool.is_file():
        pytest.fail(f"{multitool} is missing: run scripts/fetch_sarif_tools.sh")
    errors = [e.message for e in Draft7Validator(json.loads(schema_file.read_text())).iter_errors(log)]
    assert not errors, errors
    verdict = tmp_path / "verdict.sarif"
    args = ["validate", "--rule-kind", "Gh;Sarif", "--log", "ForceOverwrite", "--output", str(verdict)]
    proc = subprocess.run([str(multitool), *args, str(reports["sarif"])], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and verdict.is_file(), proc.stdout + proc.stderr
    flagged = [r for r in json.loads(verdict.read_text())["runs"][0].get("results", []) if r.get("level") == "error"]
    assert not flagged, flagged


def test_every_audit_format_offered_has_a_formatter(tmp_path: Path) -> None:
    from bglint.report.formats import AUDIT_FORMATS

    help_text = subprocess.run(
        [sys.executable, "-m", "bglint", "audit", "--help"], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    offered = re.search(r"--format \[([a-z|]+)\]", help_text)
    assert offered is not None, help_text
    assert offered.group(1).split("|") == list(AUDIT_FORMATS)
