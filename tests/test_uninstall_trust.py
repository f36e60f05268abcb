"""BG022 (the uninstall revokes access) and BG023 (the break-glass trust profile), end to end.

Every case is a template in its own directory; all are checked in one run of the real CLI and
each finding must point at the line holding a given piece of text.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent, indent
from typing import Any

import pytest
import yaml

from conftest import run_bglint, write_tree
from runbooks import ROOT

VENDOR = "arn:aws:iam::111122223333:role/vendor-support"
SPECIFIC = f"- Effect: Allow\n  Principal: {{AWS: {VENDOR}}}\n  Action: sts:AssumeRole\n"


def stack(
    trust: str = SPECIFIC,
    *,
    role_head: str = "",
    props: str = "",
    resources: str = "",
    head: str = "",
    role: str = "BreakglassSupportRole",
) -> str:
    """A break-glass stack: one role (read-only, so no IAM findings), plus `resources`."""
    text = 'AWSTemplateFormatVersion: "2010-09-09"\n' + dedent(head) + "Resources:\n"
    text += f"  {role}:\n    Type: AWS::IAM::Role\n{indent(dedent(role_head), '    ')}    Properties:\n"
    text += '      AssumeRolePolicyDocument:\n        Version: "2012-10-17"\n        Statement:\n'
    text += indent(dedent(trust), " " * 10)
    text += "      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"
    text += indent(dedent(props), " " * 6)
    return text + indent(dedent(resources), "  ")


BOUNDARY = """\
Boundary:
  Type: AWS::IAM::ManagedPolicy
  DeletionPolicy: Retain
  Properties:
    PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ec2:Describe*", Resource: "*"}]}
"""
FUNCTION = """\
TrustPatcher:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.12
    Handler: index.handler
    Role: !GetAtt PatcherRole.Arn
    Code:
      ZipFile: |
        import boto3
        def handler(event, context):
            boto3.client("iam").update_assume_role_policy(RoleName="ops", PolicyDocument="...")
PatcherRole:
  Type: AWS::IAM::Role
  Properties:
    AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]}
"""

# name -> (template, [(rule, text on the finding's line, piece of its message)], rules that must not appear)
CASES: dict[str, tuple[str, list[tuple[str, str, str]], tuple[str, ...]]] = {
    # BG022 ------------------------------------------------------------------------------
    # The finding points at the attribute that keeps the resource: the line to change
    # (CloudFormation User Guide, DeletionPolicy and UpdateReplacePolicy attributes).
    "role-retain": (
        stack(role_head="DeletionPolicy: Retain\n"),
        [
            (
                "BG022",
                "DeletionPolicy: Retain",
                "has DeletionPolicy: Retain: deleting (or replacing) the stack leaves the role",
            )
        ],
        (),
    ),
    "role-retain-except-on-create": (
        stack(role_head="DeletionPolicy: RetainExceptOnCreate\n"),
        [("BG022", "DeletionPolicy: RetainExceptOnCreate", "DeletionPolicy: RetainExceptOnCreate")],
        (),
    ),
    "role-replace-retain": (
        stack(role_head="UpdateReplacePolicy: Retain\n"),
        [("BG022", "UpdateReplacePolicy: Retain", "UpdateReplacePolicy: Retain")],
        (),
    ),
    "role-delete-but-replace-retain": (
        stack(role_head="DeletionPolicy: Delete\nUpdateReplacePolicy: Retain\n"),
        [("BG022", "UpdateReplacePolicy: Retain", "has UpdateReplacePolicy: Retain:")],
        (),
    ),
    "role-retain-both": (
        stack(role_head="UpdateReplacePolicy: Retain\nDeletionPolicy: Retain\n"),
        [("BG022", "DeletionPolicy: Retain", "has DeletionPolicy: Retain and UpdateReplacePolicy: Retain")],
        (),
    ),
    "role-retain-from-a-parameter": (
        stack(
            head="Transform: AWS::LanguageExtensions\nParameters:\n  Keep: {Type: String}\n",
            role_head="DeletionPolicy: !Ref Keep\n",
        ),
        [("BG022", "DeletionPolicy: !Ref Keep", "DeletionPolicy: Retain (parameter Keep may be Retain)")],
        (),
    ),
    "boundary-retain": (
        stack(props="PermissionsBoundary: !Ref Boundary\n", resources=BOUNDARY),
        [
            (
                "BG022",
                "DeletionPolicy: Retain",
                "permissions boundary 'Boundary' of break-glass role 'BreakglassSupportRole'",
            )
        ],
        (),
    ),
    "policy-retain": (
        stack(
            resources="""\
            Extra:
              Type: AWS::IAM::Policy
              UpdateReplacePolicy: Retain
              Properties:
                PolicyName: extra
                Roles: [!Ref BreakglassSupportRole]
                PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]}
            """
        ),
        [
            (
                "BG022",
                "UpdateReplacePolicy: Retain",
                "policy 'Extra' of break-glass role 'BreakglassSupportRole' has UpdateReplacePolicy",
            )
        ],
        (),
    ),
    "user-and-access-key": (
        stack(
            resources="""\
            SupportUser:
              Type: AWS::IAM::User
            SupportKey:
              Type: AWS::IAM::AccessKey
              Properties:
                UserName: !Ref SupportUser
            """
        ),
        [
            ("BG022", "  SupportUser:", "creates IAM user 'SupportUser'"),
            ("BG022", "  SupportKey:", "creates access key 'SupportKey'"),
        ],
        (),
    ),
    "policy-on-a-role-outside-the-stack": (
        stack(
            resources="""\
            OpsGrant:
              Type: AWS::IAM::ManagedPolicy
              Properties:
                Roles: [customer-ops-role]
                PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]}
            """
        ),
        [("BG022", "  OpsGrant:", "grants access to role 'customer-ops-role', which this stack does not create")],
        (),
    ),
    "custom-resource-changing-trust": (
        stack(
            resources="""\
            AddTrust:
              Type: Custom::TrustPatcher
              Properties:
                ServiceToken: arn:aws:lambda:us-east-1:111122223333:function:patcher
                TargetRoleName: customer-ops-role
            """
        ),
        [
            (
                "BG022",
                "  AddTrust:",
                "custom resource 'AddTrust' (Custom::TrustPatcher) is given IAM inputs (TargetRoleName)",
            )
        ],
        (),
    ),
    # CloudFormation declares an intrinsic function as an object with one key, the function's
    # name; a mapping with other keys beside `Fn::Sub` is data, and its keys are inputs.
    "custom-resource-iam-key-beside-a-function-name": (
        stack(
            resources="""\
            AddTrust:
              Type: Custom::TrustPatcher
              Properties:
                ServiceToken: arn:aws:lambda:us-east-1:111122223333:function:patcher
                Patch: {"Fn::Sub": "${AWS::StackName}-patch", TargetRoleName: customer-ops-role}
            """
        ),
        [
            (
                "BG022",
                "  AddTrust:",
                "custom resource 'AddTrust' (Custom::TrustPatcher) is given IAM inputs (Patch.TargetRoleName)",
            )
        ],
        (),
    ),
    "inline-lambda-calling-iam": (
        stack(resources=FUNCTION),
        [
            (
                "BG022",
                "  TrustPatcher:",
                "function 'TrustPatcher' calls IAM in its inline code (update_assume_role_policy)",
            )
        ],
        (),
    ),
    "another-role-retained": (
        stack(
            resources="""\
            OtherRole:
              Type: AWS::IAM::Role
              DeletionPolicy: Retain
              Properties:
                AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: "sts:AssumeRole"}]}
            """
        ),
        [("BG022", "DeletionPolicy: Retain", "AWS::IAM::Role 'OtherRole' has DeletionPolicy: Retain")],
        (),
    ),
    "clean-stack": (
        stack(
            props="PermissionsBoundary: !Ref Bound\n",
            resources="""\
            Bound:
              Type: AWS::IAM::ManagedPolicy
              DeletionPolicy: Delete
              Properties:
                PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ec2:Describe*", Resource: "*"}]}
            Read:
              Type: AWS::IAM::Policy
              Properties:
                PolicyName: read
                Roles: [!Ref BreakglassSupportRole]
                PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]}
            Bucket:
              Type: AWS::S3::Bucket
              DeletionPolicy: Retain
            """,
        ),
        [],
        ("BG022", "BG023"),
    ),
    # Issue 16: BG022 runs on any stack that creates IAM principals or access, break-glass
    # role or not (an IAM user is the worst break-glass stack whatever its roles are called).
    "not-a-break-glass-stack-still-creates-access": (
        stack(role="AppRole", role_head="DeletionPolicy: Retain\n", resources="U:\n  Type: AWS::IAM::User\n"),
        [
            ("BG022", "  U:", "creates IAM user 'U'"),
            ("BG022", "DeletionPolicy: Retain", "AWS::IAM::Role 'AppRole' has DeletionPolicy: Retain"),
        ],
        ("BG023",),
    ),
    "not-a-break-glass-stack-without-iam": (
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n",
        [],
        ("BG022", "BG023"),
    ),
    # BG023 ------------------------------------------------------------------------------
    "trust-star": (
        stack("- Effect: Allow\n  Principal: '*'\n  Action: sts:AssumeRole\n"),
        [("BG023", "- Effect: Allow", 'trusts Principal "*"')],
        (),
    ),
    "trust-aws-star": (
        stack("- Effect: Allow\n  Principal: {AWS: '*'}\n  Action: sts:AssumeRole\n"),
        [("BG023", "- Effect: Allow", 'trusts Principal {AWS: "*"}')],
        (),
    ),
    "trust-root-unguarded": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Sub 'arn:${AWS::Partition}:iam::111122223333:root'}\n  Action: sts:AssumeRole\n"
        ),
        [("BG023", "- Effect: Allow", "trusts account root arn:${AWS::Partition}:iam::111122223333:root with neither")],
        (),
    ),
    "trust-root-mfa-if-exists": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: '111122223333'}\n  Action: sts:AssumeRole\n"
            "  Condition: {BoolIfExists: {aws:MultiFactorAuthPresent: 'true'}}\n"
        ),
        [("BG023", "- Effect: Allow", "trusts account root 111122223333")],
        (),
    ),
    "trust-not-principal": (
        stack("- Effect: Allow\n  NotPrincipal: {AWS: " + VENDOR + "}\n  Action: sts:AssumeRole\n"),
        [("BG023", "- Effect: Allow", "uses NotPrincipal")],
        (),
    ),
    "session-12-hours": (
        stack(props="MaxSessionDuration: 43200\n"),
        [("BG023", "MaxSessionDuration: 43200", "allows sessions of 43200 s (12 h), over the 3600 s ceiling")],
        (),
    ),
    "session-from-a-parameter": (
        stack(
            head="Parameters:\n  Duration: {Type: Number, Default: 7200}\n",
            props="MaxSessionDuration: !Ref Duration\n",
        ),
        [("BG023", "MaxSessionDuration: !Ref Duration", "allows sessions of 7200 s (2 h)")],
        (),
    ),
    # A parameter with no Default is whatever the installer enters, and IAM takes MaxSessionDuration
    # up to 43200 s (IAM API Reference, CreateRole); MaxValue bounds a Number parameter
    # (CloudFormation User Guide, Parameters).
    "session-from-a-parameter-without-default": (
        stack(head="Parameters:\n  Duration: {Type: Number}\n", props="MaxSessionDuration: !Ref Duration\n"),
        [
            (
                "BG023",
                "MaxSessionDuration: !Ref Duration",
                "allows sessions of 43200 s (12 h) (MaxSessionDuration ${Duration}: parameter Duration, which has no "
                "Default and no AllowedValues or MaxValue: whoever installs the stack chooses it), over the 3600 s",
            )
        ],
        (),
    ),
    "session-from-a-parameter-allowed-values": (
        stack(
            head="Parameters:\n  Duration: {Type: Number, AllowedValues: [3600, 7200]}\n",
            props="MaxSessionDuration: !Ref Duration\n",
        ),
        [("BG023", "MaxSessionDuration: !Ref Duration", "allows sessions of 7200 s (2 h) (MaxSessionDuration")],
        (),
    ),
    "session-from-a-parameter-max-value-one-hour": (
        stack(
            head="Parameters:\n  Duration: {Type: Number, MinValue: 3600, MaxValue: 3600}\n",
            props="MaxSessionDuration: !Ref Duration\n",
        ),
        [],
        ("BG023",),
    ),
    "session-from-a-parameter-allowed-values-one-hour": (
        stack(
            head="Parameters:\n  Duration: {Type: Number, AllowedValues: ['1800', '3600']}\n",
            props="MaxSessionDuration: !Ref Duration\n",
        ),
        [],
        ("BG023",),
    ),
    "root-with-external-id-and-one-hour": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: arn:aws:iam::111122223333:root}\n  Action: sts:AssumeRole\n"
            "  Condition: {StringEquals: {sts:ExternalId: acme-7f3a}}\n",
            props="MaxSessionDuration: 3600\n",
        ),
        [],
        ("BG023",),
    ),
    "root-with-mfa": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Ref AWS::AccountId}\n  Action: sts:AssumeRole\n"
            "  Condition: {Bool: {aws:MultiFactorAuthPresent: 'true'}}\n"
        ),
        [],
        ("BG023",),
    ),
    "star-pinned-by-principal-arn": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: '*'}\n  Action: sts:AssumeRole\n"
            f"  Condition: {{ArnEquals: {{aws:PrincipalArn: {VENDOR}}}}}\n"
        ),
        [],
        ("BG023",),
    ),
    # A parameter with no Default is whatever the person installing the stack enters
    # (CloudFormation User Guide, Parameters), "*" included unless AllowedValues or an
    # AllowedPattern (matched against the entire value) rule it out: judged as its widest value.
    "trust-parameter-without-default": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Ref VendorPrincipal}\n  Action: sts:AssumeRole\n"
            "  Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}\n",
            head="Parameters:\n  VendorPrincipal: {Type: String}\n  ExternalId: {Type: String, NoEcho: true}\n",
        ),
        [
            (
                "BG023",
                "- Effect: Allow",
                'trusts Principal ${VendorPrincipal} (may be "*": parameter VendorPrincipal, which has no Default and '
                "no AllowedValues or AllowedPattern: whoever installs the stack chooses it)",
            )
        ],
        (),
    ),
    "trust-import-value": (
        stack("- Effect: Allow\n  Principal: {AWS: !ImportValue VendorPrincipalArn}\n  Action: sts:AssumeRole\n"),
        [("BG023", "- Effect: Allow", 'may be "*": bglint could not resolve Fn::ImportValue')],
        (),
    ),
    # The whole Principal element from one function: IAM takes only "*" or a map there, and a
    # parameter with no Default may be "*" (IAM User Guide, Principal element: "Principal": "*").
    "trust-whole-principal-parameter": (
        stack(
            "- Effect: Allow\n  Principal: !Ref VendorPrincipal\n  Action: sts:AssumeRole\n",
            head="Parameters:\n  VendorPrincipal: {Type: String}\n",
        ),
        [
            (
                "BG023",
                "- Effect: Allow",
                'trusts Principal ${VendorPrincipal} (may be "*": parameter VendorPrincipal, which has no Default',
            )
        ],
        (),
    ),
    "trust-whole-principal-if-between-a-role-and-star": (
        stack(
            f"- Effect: Allow\n  Principal: !If [Pinned, {{AWS: {VENDOR}}}, '*']\n  Action: sts:AssumeRole\n",
            head="Conditions:\n  Pinned: !Equals [!Ref 'AWS::Region', us-east-1]\n",
        ),
        [("BG023", "- Effect: Allow", 'trusts Principal "*"')],
        (),
    ),
    "trust-whole-principal-if-between-roles": (
        stack(
            f"- Effect: Allow\n  Principal: !If [Pinned, {{AWS: {VENDOR}}}, {{AWS: {VENDOR}-eu}}]\n"
            "  Action: sts:AssumeRole\n",
            head="Conditions:\n  Pinned: !Equals [!Ref 'AWS::Region', us-east-1]\n",
        ),
        [],
        ("BG023",),
    ),
    # An external ID parameter the customer sets at install is a secret shared with the vendor
    # (IAM User Guide, access for third parties: StringEquals sts:ExternalId); under StringLike a
    # parameter with no Default may be "*", which every external ID matches.
    "trust-root-external-id-string-like-parameter": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: arn:aws:iam::111122223333:root}\n  Action: sts:AssumeRole\n"
            "  Condition: {StringLike: {sts:ExternalId: !Ref ExternalId}}\n",
            head="Parameters:\n  ExternalId: {Type: String, NoEcho: true}\n",
        ),
        [
            (
                "BG023",
                "- Effect: Allow",
                "trusts account root arn:aws:iam::111122223333:root with Condition StringLike sts:ExternalId "
                '${ExternalId}, which may be "*" (parameter ExternalId, which has no Default',
            )
        ],
        (),
    ),
    "trust-root-external-id-string-equals-parameter": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: arn:aws:iam::111122223333:root}\n  Action: sts:AssumeRole\n"
            "  Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}\n",
            head="Parameters:\n  ExternalId: {Type: String, NoEcho: true}\n",
        ),
        [],
        ("BG023",),
    ),
    "trust-root-external-id-string-like-pattern-without-wildcards": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: arn:aws:iam::111122223333:root}\n  Action: sts:AssumeRole\n"
            "  Condition: {StringLike: {sts:ExternalId: !Ref ExternalId}}\n",
            head="Parameters:\n  ExternalId: {Type: String, AllowedPattern: '^[A-Za-z0-9-]{16,64}$'}\n",
        ),
        [],
        ("BG023",),
    ),
    "trust-account-parameter-of-digits-unguarded": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Ref VendorAccountId}\n  Action: sts:AssumeRole\n",
            head="Parameters:\n  VendorAccountId: {Type: String, AllowedPattern: '^\\d{12}$'}\n",
        ),
        [
            (
                "BG023",
                "- Effect: Allow",
                "trusts account root ${VendorAccountId} (may be an account root: parameter VendorAccountId, which has "
                "no Default and its AllowedPattern admits it) with neither an sts:ExternalId nor an MFA condition",
            )
        ],
        (),
    ),
    "trust-sub-account-parameter-unguarded": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Sub 'arn:aws:iam::${VendorAccountId}:root'}\n  Action: sts:AssumeRole\n",
            head="Parameters:\n  VendorAccountId: {Type: String}\n",
        ),
        [("BG023", "- Effect: Allow", "trusts account root arn:aws:iam::${VendorAccountId}:root with neither")],
        (),
    ),
    "trust-parameter-allowed-values-one-role": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Ref VendorPrincipal}\n  Action: sts:AssumeRole\n",
            head=f"Parameters:\n  VendorPrincipal: {{Type: String, AllowedValues: ['{VENDOR}']}}\n",
        ),
        [],
        ("BG023",),
    ),
    "trust-parameter-pattern-admits-only-vendor-roles": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Ref VendorPrincipal}\n  Action: sts:AssumeRole\n",
            head="Parameters:\n  VendorPrincipal: {Type: String, AllowedPattern: '^arn:aws:iam::111122223333:role/[\\w+=,.@-]+$'}\n",
        ),
        [],
        ("BG023",),
    ),
    "trust-account-parameter-default-with-external-id": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Sub 'arn:aws:iam::${VendorAccountId}:root'}\n  Action: sts:AssumeRole\n"
            "  Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}\n",
            head="Parameters:\n  VendorAccountId: {Type: String, Default: '111122223333'}\n"
            "  ExternalId: {Type: String, NoEcho: true}\n",
        ),
        [],
        ("BG023",),
    ),
    "trust-account-parameter-pinned-with-external-id": (
        stack(
            "- Effect: Allow\n  Principal: {AWS: !Ref VendorAccountId}\n  Action: sts:AssumeRole\n"
            "  Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}\n",
            head="Parameters:\n  VendorAccountId: {Type: String, AllowedPattern: '^111122223333$'}\n"
            "  ExternalId: {Type: String, NoEcho: true}\n",
        ),
        [],
        ("BG023",),
    ),
    "service-principal-and-deny-not-allowed": (
        stack(
            "- Effect: Allow\n  Principal: {Service: ec2.amazonaws.com}\n  Action: sts:AssumeRole\n"
            "- Effect: Deny\n  Principal: {AWS: '*'}\n  Action: sts:AssumeRole\n"
        ),
        [],
        ("BG023",),
    ),
}


def line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"{needle!r} must occur exactly once"
    return text[: text.index(needle)].count("\n") + 1


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    base = tmp_path_factory.mktemp("stacks")
    for name, (text, _, _) in CASES.items():
        write_tree(base / name, {"stack.yaml": text})
    result = run_bglint("check", "--format", "json", *CASES, cwd=base)
    data = json.loads(result.stdout)
    assert data["errors"] == [], result.stderr
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in CASES}
    for finding in data["findings"]:
        found[finding["path"].split("/")[0]].append(finding)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_case(name: str, findings: dict[str, list[dict[str, Any]]]) -> None:
    text, wanted, never = CASES[name]
    mine = [f for f in findings[name] if f["rule"] in ("BG022", "BG023")]
    assert len(mine) == len(wanted), [f["message"] for f in mine]
    for rule, at, says in wanted:
        line = line_of(text, at)
        placed = [f for f in mine if f["rule"] == rule and f["line"] == line]
        assert placed, (rule, line, [(f["rule"], f["line"], f["message"]) for f in mine])
        assert says in placed[0]["message"], placed[0]["message"]
        assert placed[0]["severity"] == "error"
        assert " Fix: " in placed[0]["message"] and placed[0]["fix"]
    for rule in never:
        assert not [f for f in findings[name] if f["rule"] == rule]


def test_every_bg023_finding_names_the_role(findings: dict[str, list[dict[str, Any]]]) -> None:
    bg023 = [f for found in findings.values() for f in found if f["rule"] == "BG023"]
    assert bg023 and all(f["message"].startswith("break-glass role 'BreakglassSupportRole' ") for f in bg023)


@pytest.mark.slow
def test_app_config_roles_have_no_trust_to_judge(tmp_path: Path) -> None:
    """Nuon generates the trust and session length: break_glass.toml gives BG022/BG023 nothing to judge."""
    write_tree(
        tmp_path / "app",
        {
            "metadata.toml": 'version = "v2"\n',
            "break_glass.toml": '[[role]]\nname = "x-bg"\ndescription = "d"\n\n[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n',
        },
    )
    data = json.loads(run_bglint("check", "--format", "json", "app", cwd=tmp_path).stdout)
    assert [f for f in data["findings"] if f["rule"] in ("BG022", "BG023")] == []


@pytest.mark.slow
def test_the_session_ceiling_is_a_rule_parameter(tmp_path: Path) -> None:
    """A team allows two hours: a copy of BG023 with its own ceiling, BG023 itself disabled."""
    rule = yaml.safe_load((ROOT / "rules" / "BG023.yaml").read_text())
    rule.update(id="ACME023", name="acme-trust", help="docs/acme/ACME023.md")
    rule["check"]["params"]["max_session_seconds"] = 7200
    write_tree(
        tmp_path,
        {
            "rules/ACME023.yaml": yaml.safe_dump(rule),
            ".bglint.yaml": "rules: [rules]\ndisable: [BG023]\n",
            "two-hours.yaml": stack(props="MaxSessionDuration: 7200\n"),
            "three-hours.yaml": stack(props="MaxSessionDuration: 10800\n"),
        },
    )
    data = json.loads(
        run_bglint("check", "--format", "json", "two-hours.yaml", "three-hours.yaml", cwd=tmp_path).stdout
    )
    assert data["errors"] == []
    hits = [(f["rule"], f["path"]) for f in data["findings"] if f["rule"] in ("BG023", "ACME023")]
    assert hits == [("ACME023", "three-hours.yaml")]


@pytest.mark.slow
def test_deeply_nested_custom_resource_properties_do_not_crash(tmp_path: Path) -> None:
    """Templates may nest as deep as the parser allows, deeper than Python's recursion limit."""
    deep = "{A: " * 990 + "1" + "}" * 990
    write_tree(tmp_path, {"stack.yaml": stack(resources=f"Deep:\n  Type: Custom::Deep\n  Properties: {deep}\n")})
    result = run_bglint("check", "--format", "json", "stack.yaml", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["errors"] == []


# IAM User Guide, IAM JSON policy elements: Principal: a whole Principal element is "*" or a map
# of principal kinds (AWS, Service, Federated, CanonicalUser); CloudFormation's create fails on
# any other text. A parameter may be "*" and stays judged by BG023 as its widest value.
REFUSED_PRINCIPALS = {
    "plain-arn": "Principal: 'arn:aws:iam::111122223333:root'",
    "sub-arn": "Principal: !Sub 'arn:aws:iam::${AWS::AccountId}:root'",
    "if-branch-arn": f"Principal: !If [Pinned, {{AWS: {VENDOR}}}, '{VENDOR}']",
}


@pytest.mark.slow
def test_a_whole_principal_text_iam_refuses_is_an_input_error(tmp_path: Path) -> None:
    head = "Conditions:\n  Pinned: !Equals [!Ref 'AWS::Region', us-east-1]\n"
    texts = {
        f"{name}.yaml": stack(f"- Effect: Allow\n  {principal}\n  Action: sts:AssumeRole\n", head=head)
        for name, principal in REFUSED_PRINCIPALS.items()
    }
    texts["star.yaml"] = stack("- Effect: Allow\n  Principal: '*'\n  Action: sts:AssumeRole\n")
    write_tree(tmp_path, texts)
    result = run_bglint("check", *texts, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = sorted(line for line in result.stderr.splitlines() if ": error: " in line)
    wanted = []
    for name, principal in sorted(REFUSED_PRINCIPALS.items()):
        text = texts[f"{name}.yaml"]
        line = line_of(text, principal)
        column = text.splitlines()[line - 1].index(principal.split(": ", 1)[1]) + 1
        wanted.append(f"{name}.yaml:{line}:{column}: error: ")
    assert [error[: len(prefix)] for error, prefix in zip(errors, wanted, strict=True)] == wanted
    assert all('IAM accepts only "*" or a map' in error for error in errors)
    # The other file is still checked: its "*" trust is BG023's.
    assert "star.yaml:" in result.stdout and "BG023" in result.stdout


@pytest.mark.slow
def test_valid_whole_principals_are_no_input_error(tmp_path: Path) -> None:
    texts = {
        "star.yaml": stack("- Effect: Allow\n  Principal: '*'\n  Action: sts:AssumeRole\n"),
        "map.yaml": stack(),
        "parameter.yaml": stack(
            "- Effect: Allow\n  Principal: !Ref VendorPrincipal\n  Action: sts:AssumeRole\n",
            head="Parameters:\n  VendorPrincipal: {Type: String}\n",
        ),
    }
    write_tree(tmp_path, texts)
    data = json.loads(run_bglint("check", "--format", "json", *texts, cwd=tmp_path).stdout)
    assert data["errors"] == []
    trusted = sorted(f["path"] for f in data["findings"] if f["rule"] == "BG023")
    assert trusted == ["parameter.yaml", "star.yaml"]
