"""Every rule, end to end: the real CLI on fixtures written here, JSON report parsed.

Each case is a small Nuon app directory or CloudFormation template. Positive cases say which
finding must appear, with its severity for the network kind and the line it must point at
(given as a piece of text that occurs once in the fixture file). Negative cases are ones a
string-matching linter would get wrong. Cases that share CLI flags are checked in one run
(the CLI is the expensive part); cases that need their own config or exit code run alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent, indent
from typing import Any

import pytest

CUSTOMER, VENDOR = "customer-managed", "vendor-managed"
STACK_URL = {
    CUSTOMER: "https://nuon-artifacts.s3.us-west-2.amazonaws.com/aws-cloudformation-templates/byo-vpc/stack.yaml",
    VENDOR: "https://nuon-artifacts.s3.us-west-2.amazonaws.com/aws-cloudformation-templates/vpc/eks/stack.yaml",
}
ROLE = "{{.nuon.install.id}}-break-glass"
# Role findings in a template point at the role's logical id.
ROLE_BODY = "  BreakGlassRole:"
INSTALL_TAG = {"StringEquals": {"aws:ResourceTag/install.nuon.co/id": "{{.nuon.install.id}}"}}


# -- fixtures as text ----------------------------------------------------------------------


def stmt(effect: str, action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> str:
    """One policy statement as one line of JSON, so a finding's line is the statement's line."""
    key = "NotAction" if extra.pop("not_action", False) else "Action"
    return json.dumps({"Effect": effect, key: action, "Resource": resource, **extra})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> str:
    return stmt("Allow", action, resource, **extra)


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> str:
    return stmt("Deny", action, resource, **extra)


def document(*statements: str) -> str:
    return '{\n  "Version": "2012-10-17",\n  "Statement": [\n    ' + ",\n    ".join(statements) + "\n  ]\n}\n"


def app(
    *,
    network: str | None = CUSTOMER,
    name: str = ROLE,
    policies: dict[str, list[str]] | None = None,
    managed: tuple[str, ...] = (),
    boundary: list[str] | str | None = None,
    role_extra: str = "",
    more_roles: str = "",
    files: dict[str, str] | None = None,
) -> dict[str, str]:
    """A Nuon app dir with one break-glass role.

    `policies` become permissions/<name>.json files referenced as ./<name>.json (as real apps
    write them); `boundary` is statements (written to permissions/boundary.json) or a literal
    TOML value such as '""'.
    """
    out = {"metadata.toml": 'version = "v1"\n'}
    if network is not None:
        out["stack.toml"] = (
            f'name = "stack"\ndescription = "install stack"\nvpc_nested_template_url = "{STACK_URL[network]}"\n'
        )
    toml = f'[[role]]\nname = "{name}"\ndescription = "incident access"\n{role_extra}'
    if isinstance(boundary, list):
        out["permissions/boundary.json"] = document(*boundary)
        toml += 'permissions_boundary = "./boundary.json"\n'
    elif isinstance(boundary, str):
        toml += f"permissions_boundary = {boundary}\n"
    for policy in managed:
        toml += f'\n[[role.policies]]\nmanaged_policy_name = "{policy}"\n'
    for policy, statements in (policies or {}).items():
        out[f"permissions/{policy}.json"] = document(*statements)
        toml += f'\n[[role.policies]]\nname = "{policy}"\ncontents = "./{policy}.json"\n'
    out["break_glass.toml"] = toml + more_roles
    out.update(files or {})
    return out


TRUST = "{Version: '2012-10-17', Statement: [{Effect: Allow, Principal: {AWS: arn:aws:iam::123456789012:root}, Action: 'sts:AssumeRole'}]}"


def template(
    statements: str = "",
    *,
    props: str = "",
    resources: str = "",
    head: str = "",
    metadata: str = "",
    name: str = "BreakGlassRole",
) -> dict[str, str]:
    """A CloudFormation template (short-form tags) with one role; `statements` is YAML."""
    text = f'AWSTemplateFormatVersion: "2010-09-09"\n{dedent(head)}Resources:\n{indent(dedent(resources), "  ")}'
    text += f"  {name}:\n    Type: AWS::IAM::Role\n{indent(dedent(metadata), '    ')}    Properties:\n"
    text += f"      AssumeRolePolicyDocument: {TRUST}\n{indent(dedent(props), '      ')}"
    if statements:
        text += "      Policies:\n        - PolicyName: ops\n          PolicyDocument:\n"
        text += '            Version: "2012-10-17"\n            Statement:\n'
        text += indent(dedent(statements), " " * 14)
    return {"template.yaml": text}


# -- expectations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Want:
    """A finding that must appear: rule, severity, and the line holding `at` in `file`."""

    rule: str
    severity: str
    file: str
    at: str
    says: tuple[str, ...] = ()  # pieces its message must contain


@dataclass(frozen=True)
class Never:
    """No finding of `rule` (whose message contains `says`, at the line holding `at`)."""

    rule: str
    says: str = ""
    file: str = ""
    at: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    want: tuple[Want, ...] = ()
    never: tuple[Never, ...] = ()
    flags: tuple[str, ...] = ()  # CLI flags; templates alone are in a network of unknown kind


def line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"{needle!r} must occur exactly once in the fixture"
    return text[: text.index(needle)].count("\n") + 1


def _rel(finding: dict[str, Any], root: Path) -> str:
    return str(Path(finding["path"]).resolve().relative_to(root.resolve()))


def assert_expectations(case: Case, root: Path, findings: list[dict[str, Any]]) -> None:
    for want in case.want:
        line = line_of(case.files[want.file], want.at)
        hits = [f for f in findings if f["rule"] == want.rule]
        placed = [f for f in hits if _rel(f, root) == want.file and f["line"] == line]
        assert placed, f"{want.rule} expected at {want.file}:{line}; got {[(f['path'], f['line']) for f in hits]}"
        finding = placed[0]
        assert finding["severity"] == want.severity, finding["message"]
        for piece in want.says:
            assert piece in finding["message"], finding["message"]
    for never in case.never:
        line = line_of(case.files[never.file], never.at) if never.at else None
        bad = [
            f
            for f in findings
            if f["rule"] == never.rule
            and never.says in f["message"]
            and (line is None or (_rel(f, root) == never.file and f["line"] == line))
        ]
        assert not bad, [f["message"] for f in bad]


# -- running the CLI -----------------------------------------------------------------------


def bglint(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "bglint", "check", *map(str, args), "--format", "json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _under(item: dict[str, Any], root: Path) -> bool:
    return Path(item["path"]).resolve().is_relative_to(root.resolve())


# -- the cases -----------------------------------------------------------------------------


def ec2_on_star(case_id: str, actions: list[str], says: str) -> Case:
    """BG004 on a customer-managed app whose policy grants `actions` on "*" (its boundary ec2:*)."""
    return Case(
        case_id,
        app(boundary=[allow("ec2:*")], policies={"ops": [allow(actions)]}),
        want=(Want("BG004", "error", "permissions/ops.json", f'"{actions[0]}"', (says,)),),
    )


CUSTOMER_FLAG = ("--network", CUSTOMER)
VENDOR_FLAG = ("--network", VENDOR)

CASES: list[Case] = [
    # BG001 ---------------------------------------------------------------------------
    Case(
        "BG001-star-inside-fn-if",
        template(
            """\
            - Sid: MaybeEverything
              Effect: Allow
              Action: !If [IsProd, "s3:GetObject", "*"]
              Resource: "*"
            """,
            head="Conditions:\n  IsProd: !Equals [!Ref AWS::AccountId, '123456789012']\n",
        ),
        want=(Want("BG001", "error", "template.yaml", "Sid: MaybeEverything", ("every action on every resource",)),),
        flags=CUSTOMER_FLAG,
    ),
    Case(
        "BG001-not-action-all-but-iam-and-organizations",
        app(policies={"ops": [allow(["iam:*", "organizations:*"], not_action=True)]}),
        want=(Want("BG001", "error", "permissions/ops.json", '"NotAction"', ("all but", "iam", "organizations")),),
    ),
    Case(
        "BG001-administrator-access-via-sub-partition",
        template(props="ManagedPolicyArns:\n  - !Sub arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess\n"),
        want=(Want("BG001", "error", "template.yaml", "policy/AdministratorAccess", ("AdministratorAccess",)),),
        flags=VENDOR_FLAG,
    ),
    Case(
        "BG001-administrator-access-by-name",
        app(network=VENDOR, managed=("AdministratorAccess",)),
        want=(Want("BG001", "error", "break_glass.toml", '"AdministratorAccess"', ("AdministratorAccess",)),),
        never=(Never("BG010"), Never("BG009")),
    ),
    Case(
        "BG001-power-user-access-by-name",
        app(network=VENDOR, managed=("PowerUserAccess",)),
        want=(Want("BG001", "error", "break_glass.toml", '"PowerUserAccess"', ("PowerUserAccess",)),),
    ),
    Case(
        # The same AWS-managed policy, however the ARN is spelled.
        "BG001-administrator-access-arn-spellings",
        {
            "join.yaml": template(
                props='ManagedPolicyArns:\n  - !Join ["", ["arn:", !Ref "AWS::Partition", ":iam::aws:policy/AdministratorAccess"]]\n'
            )["template.yaml"],
            "china.yaml": template(props="ManagedPolicyArns: [arn:aws-cn:iam::aws:policy/AdministratorAccess]\n")[
                "template.yaml"
            ],
            # a parameter whose default names the policy, used inside !Sub
            "param.yaml": template(
                head="Parameters:\n  AdminPolicy: {Type: String, Default: AdministratorAccess}\n",
                props='ManagedPolicyArns:\n  - !Sub "arn:${AWS::Partition}:iam::aws:policy/${AdminPolicy}"\n',
            )["template.yaml"],
        },
        want=(
            Want("BG001", "error", "join.yaml", "policy/AdministratorAccess"),
            Want("BG001", "error", "china.yaml", "policy/AdministratorAccess"),
            Want("BG001", "error", "param.yaml", "policy/${AdminPolicy}"),
        ),
        flags=VENDOR_FLAG,
    ),
    Case(
        # Not a break-glass role: BG001 is not its business, BG008 (all roles) is.
        "BG001-not-for-a-role-that-is-not-break-glass",
        template(
            """\
            - Effect: Allow
              Action: ["*", "s3:GetObjekt"]
              Resource: "*"
            """,
            name="AppRole",
        ),
        want=(Want("BG008", "warning", "template.yaml", "s3:GetObjekt", ("did you mean 's3:GetObject'",)),),
        never=(Never("BG001"), Never("BG002"), Never("BG003")),
        flags=CUSTOMER_FLAG,
    ),
    Case(
        "BG001-iam-full-access-is-admin-equivalent",
        template(props="ManagedPolicyArns:\n  - arn:aws-us-gov:iam::aws:policy/IAMFullAccess\n"),
        want=(Want("BG001", "error", "template.yaml", "policy/IAMFullAccess", ("full IAM write",)),),
    ),
    Case(
        # A naive linter sees AdministratorAccess; the boundary leaves only reads.
        "BG001-not-under-a-limiting-boundary",
        app(managed=("AdministratorAccess",), boundary=[allow(["ec2:Describe*", "s3:GetObject"])]),
        never=(Never("BG001"), Never("BG005")),
    ),
    Case(
        # "*" on one bucket is not admin; neither is "*" whose Deny removes all but reads.
        "BG001-not-when-resource-or-deny-limits-it",
        template(
            """\
            - Sid: OneBucket
              Effect: Allow
              Action: "*"
              Resource: arn:aws:s3:::install-artifacts/*
            """
        )
        | {
            "other.yaml": template(
                """\
                - Effect: Allow
                  Action: "*"
                  Resource: "*"
                - Effect: Deny
                  NotAction: ["ec2:Describe*", "s3:Get*"]
                  Resource: "*"
                """
            )["template.yaml"]
        },
        never=(Never("BG001"),),
        flags=CUSTOMER_FLAG,
    ),
    Case(
        # A Deny policy attached only under a condition may not apply: the role can still be
        # admin (ManagedPolicyArns entry under !If).
        "BG001-deny-in-a-conditionally-attached-policy-does-not-count",
        template(
            """\
            - Sid: Everything
              Effect: Allow
              Action: "*"
              Resource: "*"
            """,
            head="Conditions:\n  Lockdown: !Equals [!Ref AWS::Region, us-east-1]\n",
            resources="""\
            DenyAll:
              Type: AWS::IAM::ManagedPolicy
              Properties:
                PolicyDocument:
                  Version: "2012-10-17"
                  Statement:
                    - Effect: Deny
                      Action: "*"
                      Resource: "*"
            """,
            props='ManagedPolicyArns:\n  - !If [Lockdown, !Ref DenyAll, !Ref "AWS::NoValue"]\n',
        ),
        want=(Want("BG001", "error", "template.yaml", "Sid: Everything"),),
        flags=CUSTOMER_FLAG,
    ),
    # BG002 ---------------------------------------------------------------------------
    Case(
        "BG002-braces-boundary-in-customer-network",
        app(boundary='"{}"', policies={"ops": [allow("ec2:DescribeInstances")]}),
        want=(Want("BG002", "error", "break_glass.toml", "permissions_boundary", ("empty permissions boundary",)),),
    ),
    Case(
        "BG002-empty-string-boundary-in-customer-network",
        app(boundary='""', policies={"ops": [allow("ec2:DescribeInstances")]}),
        want=(Want("BG002", "error", "break_glass.toml", "permissions_boundary"),),
    ),
    Case(
        "BG002-note-in-vendor-network",
        app(network=VENDOR, policies={"ops": [allow("ec2:DescribeInstances")]}),
        want=(Want("BG002", "note", "break_glass.toml", "[[role]]", ("has no permissions boundary",)),),
    ),
    Case(
        "BG002-template-role-without-boundary",
        template(props="ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"),
        want=(Want("BG002", "error", "template.yaml", ROLE_BODY),),
        flags=CUSTOMER_FLAG,
    ),
    Case(
        # The boundary is a policy of the same template, not an ARN string.
        "BG002-not-with-a-boundary-by-ref-or-reference",
        template(
            props="PermissionsBoundary: !Ref Bound\nManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n",
            resources="""\
            Bound:
              Type: AWS::IAM::ManagedPolicy
              Properties:
                PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ec2:Describe*", Resource: "*"}]}
            """,
        )
        | {
            "app/" + rel: text
            for rel, text in app(boundary=[allow("ec2:Describe*")], managed=("ReadOnlyAccess",)).items()
        },
        never=(Never("BG002"),),
        flags=CUSTOMER_FLAG,
    ),
    # BG003 ---------------------------------------------------------------------------
    Case(
        "BG003-rds-delete-on-star",
        app(
            boundary=[allow("rds:*")],
            policies={"ops": [allow("ec2:DescribeInstances"), allow("rds:DeleteDBInstance")]},
        ),
        want=(
            Want(
                "BG003",
                "error",
                "permissions/ops.json",
                '"rds:DeleteDBInstance"',
                ("rds:DeleteDBInstance", "aws:ResourceTag/install.nuon.co/id"),
            ),
        ),
        # ec2:DescribeInstances cannot take a tag condition and has no resource type.
        never=(
            Never("BG003", file="permissions/ops.json", at='"ec2:DescribeInstances"'),
            Never("BG004"),
        ),
    ),
    Case(
        "BG003-note-in-unknown-network",
        template(
            """\
            - Sid: Databases
              Effect: Allow
              Action: rds:DeleteDBInstance
              Resource: "*"
            """
        ),
        want=(Want("BG003", "note", "template.yaml", "Sid: Databases"),),
    ),
    Case(
        "BG003-not-for-describe-instances",
        app(boundary=[allow("ec2:Describe*")], policies={"ops": [allow("ec2:DescribeInstances")]}),
        never=(Never("BG003"), Never("BG004")),
    ),
    Case(
        "BG003-not-with-aws-resource-tag",
        app(boundary=[allow("rds:*")], policies={"ops": [allow("rds:*", Condition=INSTALL_TAG)]}),
        never=(Never("BG003"),),
    ),
    Case(
        "BG003-not-with-service-resource-tag",
        app(
            boundary=[allow("rds:*")],
            policies={"ops": [allow("rds:*", Condition={"StringEquals": {"rds:ResourceTag/install.nuon.co/id": "x"}})]},
        ),
        never=(Never("BG003"),),
    ),
    Case(
        # Allow on * looks unscoped, but the Deny removes every untagged secret.
        "BG003-not-with-deny-string-not-equals-on-tag",
        app(
            boundary=[allow("secretsmanager:*")],
            policies={
                "ops": [
                    allow("secretsmanager:GetSecretValue"),
                    deny(
                        "secretsmanager:*",
                        Condition={
                            "StringNotEquals": {"secretsmanager:ResourceTag/install.nuon.co/id": "{{.nuon.install.id}}"}
                        },
                    ),
                ]
            },
        ),
        never=(Never("BG003"),),
    ),
    Case(
        "BG003-not-for-install-specific-arns",
        app(
            boundary=[allow("s3:*")],
            policies={
                "ops": [
                    allow(
                        "s3:*", ["arn:aws:s3:::{{.nuon.install.id}}-data", "arn:aws:s3:::{{.nuon.install.id}}-data/*"]
                    )
                ]
            },
        ),
        never=(Never("BG003"),),
    ),
    Case(
        # The statement has no condition, but the boundary only lets tagged databases through.
        "BG003-not-when-the-boundary-scopes-it",
        app(boundary=[allow("rds:*", Condition=INSTALL_TAG)], policies={"ops": [allow("rds:*")]}),
        never=(Never("BG003"),),
    ),
    Case(
        "BG003-not-in-a-vendor-network",
        app(network=VENDOR, policies={"ops": [allow("rds:DeleteDBInstance")]}),
        never=(Never("BG003"),),
    ),
    Case(
        # The bucket is a resource of the install's own stack: its ARN is install-specific.
        "BG003-not-for-a-resource-of-the-same-stack",
        template(
            """\
            - Sid: OwnBucket
              Effect: Allow
              Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
              Resource: !Sub "${DataBucket.Arn}/*"
            """,
            resources="DataBucket:\n  Type: AWS::S3::Bucket\n",
        ),
        never=(Never("BG003"),),
        flags=CUSTOMER_FLAG,
    ),
    Case(
        # The tag-scoping Deny sits under !If: when the condition is false nothing scopes the Allow.
        "BG003-deny-scoping-under-fn-if-does-not-count",
        template(
            """\
            - Sid: ReadSecrets
              Effect: Allow
              Action: secretsmanager:GetSecretValue
              Resource: "*"
            - Sid: OnlyInstallSecrets
              Effect: Deny
              Action: !If [Strict, "secretsmanager:*", !Ref "AWS::NoValue"]
              Resource: "*"
              Condition:
                StringNotEquals:
                  aws:ResourceTag/install.nuon.co/id: !Ref InstallId
            """,
            head="Parameters:\n  InstallId: {Type: String}\nConditions:\n  Strict: !Equals [!Ref InstallId, prod]\n",
        ),
        want=(Want("BG003", "error", "template.yaml", "Sid: ReadSecrets", ("secretsmanager:GetSecretValue",)),),
        flags=CUSTOMER_FLAG,
    ),
    # BG004 ---------------------------------------------------------------------------
    Case(
        # ec2:CreateNetworkInterface acts in a subnet and carries ec2:Subnet/ec2:Vpc (Service
        # Authorization Reference, Amazon EC2): on "*" it reaches every subnet of the customer.
        "BG004-create-network-interface-on-star",
        app(boundary=[allow("ec2:*")], policies={"ops": [allow("ec2:CreateNetworkInterface")]}),
        want=(
            Want(
                "BG004",
                "error",
                "permissions/ops.json",
                '"ec2:CreateNetworkInterface"',
                ("ec2:CreateNetworkInterface", "ec2:Subnet or ec2:Vpc"),
            ),
        ),
    ),
    Case(
        # ec2:TerminateInstances never carries ec2:Vpc/ec2:Subnet (its only resource type,
        # instance, has neither key): only a tag or instance ARNs can limit it, which is BG003's.
        "BG004-terminate-instances-on-star-is-a-tag-finding",
        app(boundary=[allow("ec2:*")], policies={"ops": [allow("ec2:TerminateInstances")]}),
        want=(
            Want(
                "BG003",
                "error",
                "permissions/ops.json",
                '"ec2:TerminateInstances"',
                ("ec2:TerminateInstances", "aws:ResourceTag/install.nuon.co/id"),
            ),
        ),
        never=(Never("BG004"),),
    ),
    Case(
        # A condition on a key the action never carries is false: this statement grants
        # nothing, so there is nothing to scope (IAM User Guide, condition operators: a
        # missing key does not match).
        "BG004-vpc-condition-on-terminate-grants-nothing",
        app(
            boundary=[allow("ec2:*")],
            policies={
                "ops": [
                    allow(
                        "ec2:TerminateInstances",
                        Condition={"StringEquals": {"ec2:Vpc": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc"}},
                    )
                ]
            },
        ),
        never=(Never("BG004"), Never("BG003")),
    ),
    Case(
        "BG004-not-with-vpc-condition",
        app(
            boundary=[allow("ec2:*")],
            policies={
                "ops": [
                    allow(
                        "ec2:CreateNetworkInterface",
                        Condition={"StringEquals": {"ec2:Vpc": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc"}},
                    )
                ]
            },
        ),
        never=(Never("BG004"),),
    ),
    Case(
        "BG004-not-in-a-vendor-network",
        app(network=VENDOR, boundary=[allow("ec2:*")], policies={"ops": [allow("ec2:TerminateInstances")]}),
        never=(Never("BG004"),),
    ),
    Case(
        # Naively "ec2:*" is an EC2 grant in any subnet; the boundary leaves only Describe*.
        "BG004-not-when-boundary-leaves-only-describe",
        app(boundary=[allow("ec2:Describe*")], policies={"ops": [allow("ec2:*")]}),
        never=(Never("BG004"),),
    ),
    Case(
        # ReadOnlyAccess grants ec2:GetRouteServerPropagations and
        # ec2:ValidateSecurityGroupQuotasForInterface, whose requests carry ec2:Vpc but which are
        # Read-level in the Service Authorization Reference: they change no network, so BG004
        # has nothing to limit (reads of tag-scopable resources are BG003's).
        "BG004-not-for-read-only-access",
        app(managed=("ReadOnlyAccess",)),
        never=(Never("BG004"),),
    ),
    Case(
        "BG004-not-for-read-actions-that-carry-ec2-vpc",
        app(
            boundary=[allow("ec2:*")],
            policies={
                "ops": [allow(["ec2:GetRouteServerPropagations", "ec2:ValidateSecurityGroupQuotasForInterface"])]
            },
        ),
        never=(Never("BG004"),),
    ),
    # ec2:CreateRoute (Write; its route-table resource carries ec2:Vpc) on "*" changes the routes
    # of every VPC of the customer's; one action "acts", several "act".
    ec2_on_star(
        "BG004-create-route-on-star", ["ec2:CreateRoute"], "allows 1 EC2 action that acts in subnets (ec2:CreateRoute)"
    ),
    ec2_on_star(
        "BG004-route-subnet-and-security-group-writes-on-star",
        ["ec2:CreateRoute", "ec2:ModifySubnetAttribute", "ec2:AuthorizeSecurityGroupIngress"],
        "allows 3 EC2 actions that act in subnets (ec2:AuthorizeSecurityGroupIngress, ec2:CreateRoute, ec2:ModifySubnetAttribute)",
    ),
    # Network ACL entries and NAT gateways live in the customer's VPCs and their requests carry
    # ec2:Vpc (Service Authorization Reference, resource types network-acl and natgateway).
    ec2_on_star(
        "BG004-network-acl-entry-and-nat-gateway-on-star",
        ["ec2:CreateNetworkAclEntry", "ec2:DeleteNatGateway"],
        "allows 2 EC2 actions that act in subnets (ec2:CreateNetworkAclEntry, ec2:DeleteNatGateway)",
    ),
    # BG005 ---------------------------------------------------------------------------
    Case(
        "BG005-boundary-allows-iam-star",
        app(boundary=[allow(["ec2:*", "iam:*"])], policies={"ops": [allow("ec2:DescribeInstances")]}),
        want=(Want("BG005", "error", "break_glass.toml", "permissions_boundary", ("iam:*",)),),
    ),
    Case(
        "BG005-boundary-allows-star",
        template(
            props="PermissionsBoundary: !Ref Bound\nManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n",
            resources="""\
            Bound:
              Type: AWS::IAM::ManagedPolicy
              Properties:
                PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}
            """,
        ),
        want=(Want("BG005", "error", "template.yaml", "PermissionsBoundary", ("every action",)),),
        flags=VENDOR_FLAG,
    ),
    Case(
        # Boundary = the role's own grants: it removes nothing.
        "BG005-boundary-mirrors-the-role",
        app(boundary=[allow(["ec2:*", "s3:*"])], policies={"ops": [allow(["ec2:*", "s3:*"])]}),
        want=(Want("BG005", "error", "break_glass.toml", "permissions_boundary", ("removes nothing",)),),
    ),
    Case(
        # "iam:" appears in the boundary, but only reads; ec2:* mirrors a read-only role.
        "BG005-not-for-iam-reads-or-mirror-of-read-only-role",
        # In a vendor-managed network: in a customer-managed one the boundary must itself be
        # scoped to the install (issue 16), which the next case checks.
        app(
            boundary=[allow(["iam:Get*", "iam:List*", "ec2:*"])],
            policies={"ops": [allow(["ec2:Describe*", "iam:GetRole"])]},
        ),
        never=(Never("BG005"),),
        flags=VENDOR_FLAG,
    ),
    Case(
        # A boundary caps what is added later: in a customer-managed network, ec2:* on every
        # resource lets a later ec2:TerminateInstances reach every instance of the customer.
        "BG005-unscoped-boundary-in-a-customer-managed-network",
        app(
            boundary=[allow(["iam:Get*", "iam:List*", "ec2:*"])],
            policies={"ops": [allow(["ec2:Describe*", "iam:GetRole"])]},
        ),
        want=(Want("BG005", "error", "break_glass.toml", "permissions_boundary", ("not scoped to the install",)),),
    ),
    Case(
        # The boundary allows "*" but denies IAM: it does not allow every action, and it does
        # remove the role's iam:PassRole.
        "BG005-not-when-the-boundary-denies-what-it-must",
        app(
            boundary=[allow("*"), deny(["iam:*", "organizations:*", "account:*"])],
            policies={"ops": [allow(["ec2:RunInstances", "iam:PassRole"], Condition=INSTALL_TAG)]},
        ),
        never=(Never("BG005"),),
        flags=VENDOR_FLAG,  # in a customer-managed network "*" on every resource is not scoped (issue 16)
    ),
    # BG006 ---------------------------------------------------------------------------
    Case(
        "BG006-put-role-permissions-boundary-on-star",
        app(boundary=[allow("iam:*Role*")], policies={"ops": [allow("iam:PutRolePermissionsBoundary")]}),
        want=(Want("BG006", "error", "break_glass.toml", "[[role]]", ("iam:PutRolePermissionsBoundary",)),),
    ),
    Case(
        # A naive linter sees iam:PutRolePermissionsBoundary; it only applies to another role.
        "BG006-not-on-another-roles-arn",
        app(
            boundary=[allow("iam:*Role*")],
            policies={
                "ops": [
                    allow(
                        ["iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"],
                        "arn:aws:iam::*:role/{{.nuon.install.id}}-workers",
                    )
                ]
            },
        ),
        never=(Never("BG006"),),
    ),
    Case(
        "BG006-create-role-without-boundary-condition",
        app(boundary=[allow("iam:CreateRole")], policies={"ops": [allow("iam:CreateRole")]}),
        want=(Want("BG006", "error", "break_glass.toml", "[[role]]", ("iam:CreateRole (without",)),),
    ),
    Case(
        "BG006-not-for-create-role-requiring-a-boundary",
        app(
            boundary=[allow("iam:CreateRole")],
            policies={
                "ops": [
                    allow(
                        "iam:CreateRole",
                        Condition={
                            "StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/bound"}
                        },
                    )
                ]
            },
        ),
        never=(Never("BG006", says="CreateRole"),),
    ),
    Case(
        "BG006-create-policy-version-on-any-policy",
        app(
            boundary=[allow(["iam:CreatePolicyVersion", "iam:GetPolicy"])],
            policies={"ops": [allow(["iam:CreatePolicyVersion", "iam:GetPolicy"], "arn:aws:iam::*:policy/*")]},
        ),
        want=(Want("BG006", "error", "break_glass.toml", "[[role]]", ("iam:CreatePolicyVersion",)),),
    ),
    Case(
        "BG006-pass-role-on-star-with-run-instances",
        app(
            boundary=[allow(["iam:PassRole", "ec2:RunInstances"])],
            policies={"ops": [allow("iam:PassRole"), allow("ec2:RunInstances")]},
        ),
        want=(
            Want(
                "BG006", "error", "break_glass.toml", "[[role]]", ("iam:PassRole on another role + ec2:RunInstances",)
            ),
        ),
    ),
    Case(
        "BG006-not-re-reported-for-an-admin-role",
        app(managed=("AdministratorAccess",)),
        want=(Want("BG001", "error", "break_glass.toml", '"AdministratorAccess"'),),
        never=(Never("BG006"),),
    ),
    Case(
        # Its own ARN, written with the install id as real configs do.
        "BG006-put-role-policy-on-its-own-templated-arn",
        app(
            boundary=[allow("iam:PutRolePolicy")],
            policies={"ops": [allow("iam:PutRolePolicy", f"arn:aws:iam::*:role/{ROLE}")]},
        ),
        want=(Want("BG006", "error", "break_glass.toml", "[[role]]", ("iam:PutRolePolicy",)),),
    ),
    Case(
        # Its own ARN, as a template writes it.
        "BG006-attach-role-policy-on-its-own-getatt-arn",
        template(
            """\
            - Sid: Self
              Effect: Allow
              Action: iam:AttachRolePolicy
              Resource: !GetAtt BreakGlassRole.Arn
            """
        ),
        want=(Want("BG006", "error", "template.yaml", ROLE_BODY, ("iam:AttachRolePolicy",)),),
        flags=CUSTOMER_FLAG,
    ),
    # BG007 ---------------------------------------------------------------------------
    Case(
        "BG007-component-can-create-routes",
        template(
            """\
            - Sid: Routes
              Effect: Allow
              Action: ["ec2:CreateRoute", "ec2:DescribeRouteTables"]
              Resource: "*"
            """,
            metadata="Metadata:\n  bglint: {level: component}\n",
        ),
        want=(Want("BG007", "error", "template.yaml", ROLE_BODY, ("'component'", "ec2:CreateRoute")),),
        flags=VENDOR_FLAG,
    ),
    Case(
        "BG007-not-at-network-level",
        template(
            "- Effect: Allow\n  Action: ec2:CreateRoute\n  Resource: '*'\n",
            metadata="Metadata:\n  bglint: {level: network}\n",
        ),
        never=(Never("BG007"),),
        flags=VENDOR_FLAG,
    ),
    Case(
        # "Route" and "SecurityGroup" in read-only names, and a Deny on route writes.
        "BG007-not-for-network-reads-or-denied-writes",
        template(
            """\
            - Effect: Allow
              Action: ["ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]
              Resource: "*"
            - Effect: Deny
              Action: ["ec2:CreateRoute", "ec2:DeleteVpc"]
              Resource: "*"
            """,
            metadata="Metadata:\n  bglint: {break_glass: true, level: component}\n",
            name="SupportRole",
        ),
        never=(Never("BG007"),),
        flags=VENDOR_FLAG,
    ),
    # BG008 ---------------------------------------------------------------------------
    Case(
        "BG008-misspelled-action-with-suggestion",
        app(network=VENDOR, boundary=[allow("ec2:Describe*")], policies={"ops": [allow("ec2:DescribeInstance")]}),
        want=(
            Want(
                "BG008",
                "warning",
                "permissions/ops.json",
                '"ec2:DescribeInstance"',
                ("'ec2:DescribeInstance'", "did you mean 'ec2:DescribeInstances'"),
            ),
        ),
    ),
    Case(
        "BG008-not-for-odd-case",
        app(network=VENDOR, boundary=[allow("ec2:Describe*")], policies={"ops": [allow("EC2:describeinstances")]}),
        never=(Never("BG008"),),
    ),
    Case(
        # IAM's service prefix for S3 Control's actions is s3 (s3:GetAccessPoint); "control" in
        # the name does not make it a Control Tower action.
        "BG008-s3control-is-s3",
        app(
            network=VENDOR,
            boundary=[allow("s3:Get*")],
            policies={"ops": [allow("s3control:GetAccessPoint"), deny("s3control:*", "arn:aws:s3:::other")]},
        ),
        want=(
            Want(
                "BG008",
                "warning",
                "permissions/ops.json",
                '"s3control:GetAccessPoint"',
                ("did you mean 's3:GetAccessPoint'",),
            ),
            Want("BG008", "warning", "permissions/ops.json", '"s3control:*"', ("did you mean 's3:*'",)),
        ),
        never=(Never("BG008", "controltower"),),
    ),
    Case(
        # AWS's own ReadOnlyAccess still lists retired services (codestar, ...): nothing the
        # config's author wrote or can fix.
        "BG008-not-for-actions-inside-aws-managed-policies",
        app(network=VENDOR, boundary=[allow("ec2:Describe*")], managed=("ReadOnlyAccess",)),
        never=(Never("BG008"),),
    ),
    # BG009 ---------------------------------------------------------------------------
    Case(
        "BG009-customer-managed-policy-arn",
        template(props="PermissionsBoundary: ''\nManagedPolicyArns:\n  - arn:aws:iam::123456789012:policy/custom\n"),
        want=(
            Want(
                "BG009",
                "warning",
                "template.yaml",
                "policy/custom",
                ("arn:aws:iam::123456789012:policy/custom", "not assumed harmless"),
            ),
        ),
        flags=CUSTOMER_FLAG,
    ),
    Case(
        # A remote reference: Nuon fetches it, bglint does not, so its document is unknown.
        "BG009-boundary-document-not-available",
        app(boundary='"https://example.com/install-boundary.json"', managed=("ReadOnlyAccess",)),
        want=(Want("BG009", "warning", "break_glass.toml", "permissions_boundary", ("permissions boundary",)),),
        never=(Never("BG002"),),
    ),
    Case(
        # Both are ARNs, but one is a policy of this template and one is AWS-managed and known.
        "BG009-not-for-local-or-known-managed-policies",
        template(
            props="ManagedPolicyArns:\n  - !Ref Local\n  - !Sub arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess\n",
            resources="""\
            Local:
              Type: AWS::IAM::ManagedPolicy
              Properties:
                PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]}
            """,
        ),
        never=(Never("BG009"),),
        flags=VENDOR_FLAG,
    ),
    Case(
        # Nuon's generator and hand-written stacks alike: ViewOnlyAccess is under job-function/.
        "BG009-aws-managed-arn-without-its-path",
        template(props="ManagedPolicyArns:\n  - !Sub arn:${AWS::Partition}:iam::aws:policy/ViewOnlyAccess\n"),
        want=(
            Want(
                "BG009",
                "warning",
                "template.yaml",
                "policy/ViewOnlyAccess",
                (
                    "under the path /job-function/",
                    "did you mean 'arn:${AWS::Partition}:iam::aws:policy/job-function/ViewOnlyAccess'",
                ),
            ),
        ),
        flags=VENDOR_FLAG,
    ),
    Case(
        "BG009-misspelled-aws-managed-arn",
        template(props="ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAcess]\n"),
        want=(
            Want(
                "BG009",
                "warning",
                "template.yaml",
                "AmazonEC2ReadOnlyAcess",
                ("not an AWS-managed policy", "did you mean 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'"),
            ),
        ),
        flags=VENDOR_FLAG,
    ),
    Case(
        # Real AWS-managed policies, read-only: known, so neither unknown nor admin.
        "BG009-not-for-read-only-aws-managed-policies",
        template(
            props="ManagedPolicyArns:\n"
            "  - arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\n"
            "  - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ReadOnlyAccess\n"
            "  - arn:aws:iam::aws:policy/IAMReadOnlyAccess\n"
            "  - arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess\n"
            "  - arn:aws:iam::aws:policy/job-function/ViewOnlyAccess\n"
        ),
        never=(Never("BG009"), Never("BG001")),
        flags=VENDOR_FLAG,
    ),
    # BG010 ---------------------------------------------------------------------------
    Case(
        # A user who replaces AdministratorAccess with read-only AWS-managed policies: they are
        # known, and what they grant is judged (S3 reads on any bucket, not the install's).
        "BG010-not-for-read-only-aws-managed-policies",
        app(
            managed=(
                "AmazonS3ReadOnlyAccess",
                "AmazonEC2ReadOnlyAccess",
                "IAMReadOnlyAccess",
                "AWSLambda_ReadOnlyAccess",
            )
        ),
        want=(
            Want(
                "BG003", "error", "break_glass.toml", '"AmazonS3ReadOnlyAccess"', ("s3:Get", "AmazonS3ReadOnlyAccess")
            ),
        ),
        never=(Never("BG010"), Never("BG009"), Never("BG001")),
    ),
    Case(
        "BG010-misspelled-aws-managed-name",
        app(network=VENDOR, managed=("AmazonS3ReadOnlyAcess",)),
        want=(
            Want(
                "BG010",
                "error",
                "break_glass.toml",
                "managed_policy_name",
                ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess", "did you mean 'AmazonS3ReadOnlyAccess'"),
            ),
        ),
    ),
    Case(
        "BG010-managed-policy-name-as-arn",
        app(network=VENDOR, managed=("arn:aws:iam::aws:policy/ReadOnlyAccess",)),
        want=(Want("BG010", "error", "break_glass.toml", "managed_policy_name", ("as an ARN",)),),
    ),
    Case(
        "BG010-customer-managed-policy-name",
        app(network=VENDOR, managed=("OurBreakGlassPolicy",)),
        want=(Want("BG010", "error", "break_glass.toml", "managed_policy_name", ("OurBreakGlassPolicy",)),),
    ),
    # managed_policy_name with non-empty contents: Nuon refuses the config, so it is an input
    # error (tests/test_nuon_reading.py::test_same_cloud_pairs_are_refused).
    Case(
        "BG010-not-for-a-plain-aws-managed-name",
        app(network=VENDOR, managed=("ReadOnlyAccess", "AmazonEC2ContainerRegistryReadOnly")),
        never=(Never("BG010"), Never("BG009")),
    ),
    Case(
        # Nuon builds arn:aws:iam::aws:policy/<name>; ViewOnlyAccess lives under job-function/,
        # so the bare name yields an ARN that does not exist.
        "BG010-aws-managed-name-without-its-path",
        app(network=VENDOR, managed=("ViewOnlyAccess",)),
        want=(
            Want(
                "BG010",
                "error",
                "break_glass.toml",
                "managed_policy_name",
                ("arn:aws:iam::aws:policy/ViewOnlyAccess", "did you mean 'job-function/ViewOnlyAccess'"),
            ),
        ),
    ),
    Case(
        # ...and with its path it is exactly the ARN of the AWS-managed policy.
        "BG010-not-for-aws-managed-name-with-its-path",
        app(network=VENDOR, managed=("job-function/ViewOnlyAccess",)),
        never=(Never("BG010"), Never("BG009")),
    ),
    # BG011 ---------------------------------------------------------------------------
    Case(
        # In an app config Nuon refuses such a role: an input error (tests/test_nuon_reading.py).
        "BG011-role-without-policies",
        template(),
        want=(Want("BG011", "warning", "template.yaml", ROLE_BODY, ("has no policies",)),),
        flags=VENDOR_FLAG,
    ),
    Case(
        # No [[role.policies]], but a named policy grants something.
        "BG011-not-with-named-policies-only",
        app(
            network=VENDOR,
            boundary=[allow("s3:GetObject")],
            more_roles='\n[[role.named_policies]]\nname = "{{.nuon.install.id}}-read"\n',
            files={
                "permissions/policies/read.toml": 'name = "{{.nuon.install.id}}-read"\ndescription = "read"\n'
                f"contents = '''{document(allow('s3:GetObject'))}'''\n"
            },
        ),
        never=(Never("BG011"),),
    ),
    # BG012 ---------------------------------------------------------------------------
    Case(
        "BG012-reference-resolves-to-two-different-files",
        app(
            network=VENDOR,
            policies={"ops": [allow("s3:GetObject")]},
            files={"ops.json": document(allow("s3:*"))},
        ),
        # The fix names the file to remove: writing ./permissions/ops.json instead would make Nuon
        # read permissions/permissions/ops.json (the base is permissions/ only: tests/test_nuon_reading.py).
        want=(
            Want(
                "BG012",
                "warning",
                "break_glass.toml",
                'contents = "./ops.json"',
                ("permissions/ops.json", "delete or rename the other file; Nuon reads only the one under permissions/"),
            ),
        ),
    ),
    Case(
        "BG012-not-when-both-files-are-the-same",
        app(
            network=VENDOR,
            policies={"ops": [allow("s3:GetObject")]},
            files={"ops.json": document(allow("s3:GetObject"))},
        ),
        never=(Never("BG012"),),
    ),
    # BG013 ---------------------------------------------------------------------------
    Case(
        "BG013-action-names-no-role",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            files={
                "actions/a.toml": 'name = "restart"\nbreak_glass_role = "{{.nuon.install.id}}-nothing"\n'
                '[[triggers]]\ntype = "manual"\n[[steps]]\nname = "s"\ncommand = "./restart.sh"\n'
            },
        ),
        want=(Want("BG013", "error", "actions/a.toml", "break_glass_role", ("-nothing",)),),
    ),
    Case(
        # The role exists; the only other "break_glass_role" is an env var of a step.
        "BG013-not-for-an-existing-role",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            files={
                "actions/a.toml": f'name = "restart"\nbreak_glass_role = "{ROLE}"\n[[triggers]]\ntype = "manual"\n'
                '[[steps]]\nname = "s"\ncommand = "./restart.sh"\n'
                'env_vars = { break_glass_role = "nothing" }\n'
            },
        ),
        never=(Never("BG013"),),
    ),
    # BG014 ---------------------------------------------------------------------------
    Case(
        "BG014-rendered-name-too-long",
        app(network=VENDOR, name="{{.nuon.install.id}}-" + "a" * 40, managed=("ReadOnlyAccess",)),
        want=(Want("BG014", "error", "break_glass.toml", "[[role]]", ("67 characters", "by 3 characters")),),
    ),
    Case(
        # 26 + 1 + 37 = 64: fits, though the name as written is 68 characters long.
        "BG014-not-when-the-rendered-name-fits",
        app(
            network=VENDOR,
            name="{{    .nuon.install.id    }}-" + "a" * 37,
            managed=("ReadOnlyAccess",),
            more_roles='\n[[role]]\nname = "{{.nuon.install.id}}-' + "b" * 37 + '"\ndescription = "exactly 64"\n'
            '\n[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n',
        ),
        never=(Never("BG014"),),
    ),
    # Other clouds ------------------------------------------------------------------------
    Case(
        # GCP and Azure roles are judged on their own grants (tests/test_clouds_cli.py has the rest);
        # the AWS-only rules (boundaries, managed policy names, IAM's 64-character names) never apply.
        "azure-and-gcp-roles-get-no-aws-only-findings",
        app(
            files={
                "break_glass.toml": dedent(
                    """\
                    [[role]]
                    name = "{{.nuon.install.id}}-azure-break-glass"
                    description = "azure"
                    cloud_platform = "azure"

                    [[role.policies]]
                    azure_actions = ["*"]

                    [[role]]
                    name = "{{.nuon.install.id}}-gcp-break-glass-with-a-very-long-name-that-goes-on"
                    description = "gcp"
                    cloud_platform = "gcp"

                    [[role.policies]]
                    gcp_predefined_role = "roles/owner"

                    [[role]]
                    name = "{{.nuon.install.id}}-azure-empty"
                    description = "azure"
                    cloud_platform = "azure"

                    [[role.policies]]
                    """
                )
            }
        ),
        want=(
            Want("BG001", "error", "break_glass.toml", 'azure_actions = ["*"]', ("every action ('*')",)),
            Want("BG001", "error", "break_glass.toml", "roles/owner", ("predefined role roles/owner",)),
            Want(
                "BG011",
                "warning",
                "break_glass.toml",
                '[[role]]\nname = "{{.nuon.install.id}}-azure-empty"',
                ("has no policies",),
            ),
        ),
        never=tuple(Never(rule) for rule in ("BG002", "BG005", "BG010", "BG012", "BG014")),
    ),
]


Reports = dict[str, tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """Every case written to its own dir; one CLI run per set of flags; findings per case."""
    base = tmp_path_factory.mktemp("rules")
    groups: dict[tuple[str, ...], list[Case]] = defaultdict(list)
    for case in CASES:
        write(base / case.id, case.files)
        groups[case.flags].append(case)
    result = {}
    for flags, cases in groups.items():
        targets = [base / case.id for case in cases]
        _, report, _ = bglint(*targets, *flags)
        for case in cases:
            root = base / case.id
            errors = [e for e in report["errors"] if _under(e, root)]
            result[case.id] = (root, [f for f in report["findings"] if _under(f, root)], errors)
    return result


def test_every_rule_has_positive_and_negative_cases() -> None:
    ids = [f"BG{n:03}" for n in range(1, 16)]
    positive = {w.rule for c in CASES for w in c.want}
    negative = {n.rule for c in CASES for n in c.never}
    solo = {"BG004", "BG015"}  # also covered by the tests below
    assert set(ids) <= positive | solo
    assert set(ids) <= negative | solo


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_case(case: Case, reports: Reports) -> None:
    root, findings, errors = reports[case.id]
    assert not errors, errors
    assert_expectations(case, root, findings)


# -- cases that need their own run -------------------------------------------------------------


@pytest.mark.slow
def test_bg004_condition_on_another_subnet_than_configured(tmp_path: Path) -> None:
    # Network-interface actions carry ec2:Subnet (Service Authorization Reference, Amazon EC2);
    # instance actions such as TerminateInstances do not, so a subnet condition there is false.
    other = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0def"
    mine = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0abc"
    files = app(
        boundary=[allow("ec2:*")],
        policies={
            "ops": [
                allow("ec2:CreateNetworkInterface", Condition={"StringEquals": {"ec2:Subnet": other}}),
                allow("ec2:DeleteNetworkInterface", Condition={"StringEquals": {"ec2:Subnet": mine}}),
            ]
        },
        files={".bglint.yaml": "subnet-ids: [subnet-0abc]\n"},
    )
    write(tmp_path, files)
    code, report, stderr = bglint(tmp_path)
    assert not report["errors"], stderr
    case = Case(
        "subnets",
        files,
        want=(
            Want(
                "BG004", "error", "permissions/ops.json", "subnet-0def", ("subnet-0abc", "ec2:CreateNetworkInterface")
            ),
        ),
        never=(Never("BG004", file="permissions/ops.json", at="subnet/subnet-0abc"),),
    )
    assert_expectations(case, tmp_path, report["findings"])
    assert code == 1


@pytest.mark.slow
def test_bg004_configured_subnet_id_is_not_a_prefix(tmp_path: Path) -> None:
    """subnet-0abc1234 is another subnet than the configured subnet-0abc."""
    files = app(
        boundary=[allow("ec2:*")],
        policies={
            "ops": [
                allow(
                    "ec2:CreateNetworkInterface",
                    Condition={
                        "StringEquals": {"ec2:Subnet": "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0abc1234"}
                    },
                )
            ]
        },
        files={".bglint.yaml": "subnet-ids: [subnet-0abc]\n"},
    )
    write(tmp_path, files)
    _, report, stderr = bglint(tmp_path)
    assert not report["errors"], stderr
    case = Case(
        "subnet-prefix",
        files,
        want=(Want("BG004", "error", "permissions/ops.json", "subnet-0abc1234", ("ec2:CreateNetworkInterface",)),),
    )
    assert_expectations(case, tmp_path, report["findings"])


@pytest.mark.slow
def test_bg015_unknown_key_is_a_warning_not_an_error_exit(tmp_path: Path) -> None:
    files = app(
        network=VENDOR,
        boundary=[allow("s3:GetObject")],
        policies={"ops": [allow("s3:GetObject", "arn:aws:s3:::{{.nuon.install.id}}-data/*")]},
        role_extra='permission_boundary = "./boundary.json"\ndisplay_name = "Break glass"\nenabled_in_stack = true\n',
    )
    write(tmp_path, files)
    code, report, stderr = bglint(tmp_path)
    assert not report["errors"], stderr
    case = Case(
        "unknown-key",
        files,
        want=(Want("BG015", "warning", "break_glass.toml", "permission_boundary", ("permission_boundary",)),),
        # keys Nuon added recently are known
        never=(Never("BG015", says="display_name"), Never("BG015", says="enabled_in_stack")),
    )
    assert_expectations(case, tmp_path, report["findings"])
    # BG020: this app has no runbook; BG024: enabled_in_stack = true is standing access (warnings as well)
    assert sorted(f["rule"] for f in report["findings"] if f["rule"] != "BG020") == ["BG015", "BG024"]
    assert code == 0, report["findings"]


def test_messages_say_what_why_and_fix(reports: Reports) -> None:
    """Role findings name the network context, the role, what it can do, and a fix."""
    _, findings, _ = reports["BG003-rds-delete-on-star"]
    (finding,) = [f for f in findings if f["rule"] == "BG003"]
    message = finding["message"]
    assert message.startswith("In a customer-managed network, break-glass role '{{.nuon.install.id}}-break-glass'")
    assert "rds:DeleteDBInstance" in message
    assert "Fix: add a Condition StringEquals aws:ResourceTag/install.nuon.co/id" in message
    assert finding["fix"] and finding["fix"] in message
    for case_id, (_, found, _) in reports.items():
        for f in found:
            assert not any(f"{{{slot}}}" in f["message"] for slot in ("network", "role", "detail", "fix")), f
            assert " Fix: " in f["message"] and f["fix"], (case_id, f["message"])
