"""Drift and the AWS loader on the model, without AWS: IAM's answers as boto3 returns them.

The end-to-end cases (an extra policy, a removed boundary, a widened trust, against a real moto
server) are in test_audit.py; these pin the comparison's finer points quickly.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from aws_support import ADMIN, READ_ONLY, RUNNER, TAG_SCOPED
from bglint.audit.discovery import Discovery, parse_role_arn
from bglint.audit.drift import compare, definitions_of, find_definition
from bglint.audit.progress import Progress
from bglint.audit.sessions import Secrets
from bglint.audit.targets import parse_accounts
from bglint.errors import InputError
from bglint.load.aws import Documents, RawPolicy, RawRole, build_role
from bglint.load.discover import LoadOptions, load_paths
from bglint.load.selection import Selection
from bglint.model import BoundaryState, PolicyOrigin, Role
from conftest import write_tree

ACCOUNT = "123456789012"
RESTART = {"Version": "2012-10-17", "Statement": [TAG_SCOPED]}


def _trust(*principals: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def deployed(
    name: str,
    trust: dict[str, Any] | str | None = None,
    inline: dict[str, Any] | None = None,
    attached: tuple[str, ...] = (),
    boundary: RawPolicy | None = None,
    tags: dict[str, str] | None = None,
) -> Role:
    info = {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "AssumeRolePolicyDocument": trust if trust is not None else _trust(RUNNER),
        "MaxSessionDuration": 3600,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    managed = {
        ADMIN: {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        READ_ONLY: {"Statement": [{"Effect": "Allow", "Action": ["ec2:Describe*", "s3:Get*"], "Resource": "*"}]},
    }
    raw = RawRole(
        info,
        tuple(RawPolicy(policy_name, document=doc) for policy_name, doc in (inline or {}).items()),
        tuple(RawPolicy(arn.rsplit("/", 1)[-1], arn, managed[arn], "v1") for arn in attached),
        boundary,
        "test",
    )
    role, errors = build_role(raw, ACCOUNT, Selection(), Documents())
    assert errors == []
    return role


def definitions(tmp_path: Path, files: dict[str, str | bytes]) -> Any:
    write_tree(tmp_path, files)
    loaded = load_paths([tmp_path], LoadOptions())
    assert loaded.errors == []
    return definitions_of(loaded.documents)


TEMPLATE = f"""\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${{AWS::StackName}}-bg"
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{AWS: "111122223333"}}
            Action: sts:AssumeRole
            Condition: {{StringEquals: {{"sts:ExternalId": "x"}}}}
      ManagedPolicyArns: [!Sub "arn:${{AWS::Partition}}:iam::aws:policy/ReadOnlyAccess"]
      PermissionsBoundary: !Ref Boundary
      Policies:
        - PolicyName: restart
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [ec2:RebootInstances, ec2:StartInstances, ec2:StopInstances]
                Resource: "*"
                Condition: {{StringEquals: {{"aws:ResourceTag/install.nuon.co/id": "inst123"}}}}
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - {{Effect: Allow, Action: "ec2:*", Resource: "*"}}
  Generated:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {{Effect: Allow, Principal: {{AWS: "{RUNNER}"}}, Action: sts:AssumeRole}}
"""
BOUNDARY = RawPolicy(
    "stack-Boundary-ABC",
    f"arn:aws:iam::{ACCOUNT}:policy/stack-Boundary-ABC",
    {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]},
    "v1",
)
AS_DEFINED: dict[str, Any] = {
    "trust": _trust("arn:aws:iam::111122223333:root", condition={"StringEquals": {"sts:ExternalId": "x"}}),
    "inline": {"restart": RESTART},
    "attached": (READ_ONLY,),
    "boundary": BOUNDARY,
}


def _kinds(role: Role, tmp_path: Path) -> list[tuple[str, str]]:
    defs = definitions(tmp_path, {"stack.yaml": TEMPLATE})
    definition = find_definition(role.role_name, dict(role.deployed.tags if role.deployed else ()), defs)
    assert definition is not None
    return [(d.kind, d.subject) for d in compare(role, definition)]


def test_the_deployed_rendering_of_a_templated_definition_has_no_drift(tmp_path: Path) -> None:
    # A bare account id in the definition is the account's root ARN in IAM; ${AWS::StackName} is "install".
    assert _kinds(deployed("install-bg", **AS_DEFINED), tmp_path) == []


def test_an_inline_policy_with_another_document_is_changed(tmp_path: Path) -> None:
    """Same name, other document. (A name written with !Sub is not rendered by the template loader:
    such a policy, once changed, shows as one missing and one added.)"""
    wider = {"Statement": [{**TAG_SCOPED, "Condition": {}}]}
    role = deployed("install-bg", **{**AS_DEFINED, "inline": {"restart": wider}})
    assert _kinds(role, tmp_path) == [("policy-changed", "restart")]


def test_a_missing_policy_and_another_boundary(tmp_path: Path) -> None:
    other = RawPolicy("b2", f"arn:aws:iam::{ACCOUNT}:policy/b2", {"Statement": [TAG_SCOPED]}, "v1")
    role = deployed("install-bg", **{**AS_DEFINED, "attached": (), "boundary": other})
    assert _kinds(role, tmp_path) == [
        ("policy-missing", "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"),
        ("boundary-changed", other.arn),
    ]


def test_a_dropped_trust_condition_and_an_everyone_trust_are_widened(tmp_path: Path) -> None:
    role = deployed("install-bg", **{**AS_DEFINED, "trust": _trust("arn:aws:iam::111122223333:root", "*")})
    assert _kinds(role, tmp_path) == [
        ("trust-widened", "AWS arn:aws:iam::111122223333:root"),
        ("trust-widened", "AWS *"),
    ]


def test_a_url_encoded_trust_policy_is_read() -> None:
    encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22*%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"
    role = deployed("r", trust=encoded)
    assert [(p.kind, p.value) for s in role.trust for p in s.principals] == [("AWS", "*")]


def test_a_cloudformation_generated_name_matches_its_logical_id(tmp_path: Path) -> None:
    defs = definitions(tmp_path, {"stack.yaml": TEMPLATE})
    found = find_definition("install-Generated-1A2B3C4D5E6F", {}, defs)
    assert found is not None and found.role.name == "Generated"
    tagged = find_definition("anything", {"aws:cloudformation:logical-id": "Generated"}, defs)
    assert tagged is not None and tagged.role.name == "Generated"
    assert find_definition("unrelated", {}, defs) is None


def test_app_config_definition_matches_the_install_rendering(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "app/metadata.toml": 'version = "v2"\n',
        "app/break_glass.toml": (
            '[[role]]\nname = "{{.nuon.install.id}}-sandbox-break-glass"\ndescription = "d"\n\n'
            '[[role.policies]]\nmanaged_policy_name = "AdministratorAccess"\n'
        ),
    }
    defs = definitions(tmp_path, files)
    found = find_definition("inst0123456789abcdefghijkl-sandbox-break-glass", {}, defs)
    assert found is not None
    role = deployed("inst0123456789abcdefghijkl-sandbox-break-glass", attached=(ADMIN, READ_ONLY))
    assert [(d.kind, d.subject) for d in compare(role, found)] == [("policy-added", READ_ONLY)]


def test_managed_documents_are_normalised_once_and_placed_on_each_role() -> None:
    documents = Documents()
    raw = RawPolicy(
        "ReadOnlyAccess", READ_ONLY, {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}, "v9"
    )
    one, _ = documents.statements(raw, "arn:aws:iam::1:role/a", "AttachedPolicy/ReadOnlyAccess")
    two, _ = documents.statements(raw, "arn:aws:iam::1:role/b", "AttachedPolicy/ReadOnlyAccess")
    assert one[0].loc.path == "arn:aws:iam::1:role/a" and two[0].loc.path == "arn:aws:iam::1:role/b"
    assert one[0].actions == two[0].actions and one[0].loc.line == 0
    role = deployed("r", attached=(ADMIN,), boundary=BOUNDARY)
    assert [p.origin for p in role.policies] == [PolicyOrigin.AWS_MANAGED]
    assert role.boundary is not None and role.boundary.state is BoundaryState.DOCUMENT
    assert role.boundary.policies[0].origin is PolicyOrigin.ATTACHED


def test_unreadable_managed_policy_is_unknown_not_harmless() -> None:
    raw = RawRole(
        {"RoleName": "r", "Arn": f"arn:aws:iam::{ACCOUNT}:role/r", "AssumeRolePolicyDocument": _trust(RUNNER)},
        attached=(RawPolicy("Gone", f"arn:aws:iam::{ACCOUNT}:policy/Gone"),),
    )
    role, _ = build_role(raw, ACCOUNT, Selection())
    assert not role.policies[0].document_known


# -- discovery, accounts, secrets, progress -----------------------------------------------


def test_discovery_by_name_tag_and_config_patterns() -> None:
    discovery = Discovery(
        tags=("runner.nuon.co/assumable=true", "team"), names=("ops-*",), selection=Selection(patterns=("*-admin",))
    )
    assert discovery.by_name("ops-support") == "name matches --name 'ops-*'"
    assert discovery.by_name("x-admin") == "matches selector '*-admin'"
    assert discovery.by_name("install-break-glass").startswith("name ")
    assert discovery.by_name("app-service") == ""
    assert discovery.by_tags({"runner.nuon.co/assumable": "true"}) == "tag runner.nuon.co/assumable=true"
    assert discovery.by_tags({"runner.nuon.co/assumable": "false"}) == ""
    assert discovery.by_tags({"team": "sre"}) == "tag team=sre"
    assert discovery.by_tags({"purpose": "Break Glass"}) == "tag purpose=Break Glass"
    assert parse_role_arn("arn:aws:iam::123456789012:role/path/to/Name") == ("123456789012", "Name")
    with pytest.raises(ValueError):
        parse_role_arn("arn:aws:iam::123456789012:user/Name")


def test_accounts_from_a_list_and_a_file(tmp_path: Path) -> None:
    listing = tmp_path / "accounts.txt"
    listing.write_text("# prod\n111111111111, 222222222222\n\n333333333333  # eu\n111111111111\n")
    assert parse_accounts(("444444444444,111111111111", str(listing))) == [
        "444444444444",
        "111111111111",
        "222222222222",
        "333333333333",
    ]
    with pytest.raises(InputError) as bad:
        parse_accounts(("1234",))
    assert "'1234' is not an AWS account id" in bad.value.message


def test_secrets_and_access_key_ids_are_redacted() -> None:
    secrets = Secrets()
    secrets.add("s3cr3t-value-123", None, "")
    text = secrets.redact(
        "denied for s3cr3t-value-123 with AKIAABCDEFGHIJKLMNOP and ASIA1234567890ABCDEF, role AROA123456789012"
    )
    assert text == "denied for [redacted] with [redacted] and [redacted], role AROA123456789012"


def test_progress_draws_only_when_enabled() -> None:
    shown, hidden = io.StringIO(), io.StringIO()
    for stream, enabled in ((shown, True), (hidden, False)):
        progress = Progress(2, enabled, stream)
        progress.found(3)
        progress.read()
        progress.account_done(True)
        progress.close()
    assert "1/2 accounts" in shown.getvalue() and "1/3 roles read" in shown.getvalue()
    assert hidden.getvalue() == ""
