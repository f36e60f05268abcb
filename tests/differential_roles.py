"""Seeded random roles and requests, answered by bglint and by an independent IAM simulator.

Used by tests/test_differential.py (a few thousand requests) and scripts/differential_long.py
(as many as asked). Each role is written into a real CloudFormation template (inline policies,
customer-managed policies attached by ManagedPolicyArns and by AWS::IAM::Policy, AWS-managed
policies, a permissions boundary) and loaded with `bglint.api.load`; the simulator gets the
same documents. Requests carry a context with the keys AWS always sends and random others.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bglint import api
from bglint.iam.catalog import load_catalog
from bglint.iam.managed import managed_policy

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("BGLINT_TOOLS", ROOT / ".tools"))
SIMULATOR = TOOLS / "node_modules" / "@cloud-copilot" / "iam-simulate"
RUNNER = Path(__file__).resolve().parent / "differential" / "simulate.js"

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/bg-role"
# Actions the requests are about: several services, resource-level and "*"-only actions,
# actions that carry ec2:Vpc/ec2:Subnet and ones that do not.
ACTIONS = (
    "ec2:RebootInstances",
    "ec2:TerminateInstances",
    "ec2:StopInstances",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteSubnet",
    "ec2:DescribeInstances",
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteBucket",
    "iam:PassRole",
    "iam:GetRole",
    "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion",
    "rds:DeleteDBInstance",
    "rds:DescribeDBInstances",
    "sts:GetCallerIdentity",
    "lambda:InvokeFunction",
    "lambda:UpdateFunctionCode",
    "dynamodb:GetItem",
    "sqs:SendMessage",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "ssm:SendCommand",
)
ACTION_PATTERNS = (
    "*",
    "ec2:*",
    "s3:*",
    "s3:Get*",
    "iam:*Role*",
    "iam:Get*",
    "rds:*",
    "ec2:*Instances",
    "s3:GetObjec?",
    "lambda:*",
    "EC2:rebootinstances",
    "sts:Get*",
)
VALUES = {
    "Partition": ["aws"],
    "Region": ["us-east-1", "eu-west-1"],
    "Account": [ACCOUNT, OTHER_ACCOUNT],
    "BucketName": ["install-logs", "customer-data"],
    "ObjectName": ["a.txt", "team-a/b.txt"],
    "InstanceId": ["i-0aaa", "i-0bbb"],
    "RoleNameWithPath": ["bg-role", "other-role", "team-a"],
    "DbInstanceName": ["install-db", "customer-db"],
    "FunctionName": ["install-fn", "customer-fn"],
    "SubnetId": ["subnet-0aaa", "subnet-0bbb"],
    "NetworkInterfaceId": ["eni-0aaa"],
    "QueueName": ["install-q", "customer-q"],
    "TableName": ["install-t", "customer-t"],
    "KeyId": ["k-1", "k-2"],
}
TEAM = ["team-a", "team-b", ""]
VPCS = [f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-0aaa", f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-0bbb"]
SUBNETS = [f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/subnet-0aaa", f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/subnet-0bbb"]
# The key policy AWS gives a KMS key created without one: it lets IAM policies of the account
# grant access (AWS KMS Developer Guide, "Default key policy"). Without any key policy, IAM
# policies alone never allow a KMS action, so the simulator is given this one.
DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
    ],
}
MANAGED = ("ReadOnlyAccess", "AmazonS3FullAccess", "AmazonEC2FullAccess", "PowerUserAccess", "IAMFullAccess")


ROLES_PER_TEMPLATE = 10  # templates of a realistic size (each is checked within its time budget)


@dataclass
class Generated:
    """A role as the simulator sees it (policy documents) plus where bglint finds it (template)."""

    logical: str
    identity: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "policy"}]
    boundary: list[dict[str, Any]] | None = None
    resources: dict[str, Any] = field(default_factory=dict)  # template resources for this role


@dataclass
class Request:
    role: str
    action: str
    resource: str
    context: dict[str, Any]


@dataclass
class Outcome:
    role: Generated
    request: Request
    simulator: str  # Allowed | ExplicitlyDenied | ImplicitlyDenied | error
    context: dict[str, Any]  # the keys the simulator accepted for the request
    exact: bool  # bglint, evaluated with that context
    some_request: bool  # bglint without context: allowed for some request
    error: str = ""

    @property
    def agrees(self) -> bool:
        return self.exact == (self.simulator == "Allowed")


def resources_for(action: str, rng: random.Random) -> list[str]:
    """Concrete ARNs of the action's resource types (or "*"), filled from small pools."""
    catalog = load_catalog()
    service = action.split(":")[0]
    arns: list[str] = []
    for resource_type in catalog.resource_types(action.lower()):
        for template in catalog.arn_formats(service, resource_type):
            if "${" in template.split(":")[2]:
                continue
            arns.append(_fill_template(template, rng))
    return arns or ["*"]


def _fill_template(template: str, rng: random.Random) -> str:
    out = template
    while "${" in out:
        start = out.index("${")
        end = out.index("}", start)
        name = out[start + 2 : end]
        out = out[:start] + rng.choice(VALUES.get(name, [f"{name.lower()}-1"])) + out[end + 1 :]
    return out


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # -- policies

    def role(self, index: int) -> Generated:
        rng = self.rng
        role = Generated(f"Role{index}")
        props: dict[str, Any] = {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        }
        inline = [self.policy() for _ in range(rng.randint(0, 2))]
        if inline:
            props["Policies"] = [{"PolicyName": f"inline{i}", "PolicyDocument": doc} for i, doc in enumerate(inline)]
            role.identity += [{"name": f"inline{i}", "policy": doc} for i, doc in enumerate(inline)]
        arns: list[Any] = []
        for i in range(rng.randint(0, 1)):
            doc = self.policy()
            name = f"{role.logical}Managed{i}"
            role.resources[name] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": doc}}
            arns.append({"Ref": name})
            role.identity.append({"name": name, "policy": doc})
        if rng.random() < 0.3:
            managed = rng.choice(MANAGED)
            document = managed_policy(managed)
            assert document is not None
            arns.append(f"arn:aws:iam::aws:policy/{managed}")
            role.identity.append({"name": managed, "policy": document})
        if arns:
            props["ManagedPolicyArns"] = arns
        if rng.random() < 0.3:
            doc = self.policy()
            name = f"{role.logical}Attached"
            role.resources[name] = {
                "Type": "AWS::IAM::Policy",
                "Properties": {"PolicyName": name, "PolicyDocument": doc, "Roles": [{"Ref": role.logical}]},
            }
            role.identity.append({"name": name, "policy": doc})
        if not role.identity:
            doc = self.policy()
            props["Policies"] = [{"PolicyName": "inline0", "PolicyDocument": doc}]
            role.identity.append({"name": "inline0", "policy": doc})
        if rng.random() < 0.4:
            doc = self.policy(boundary=True)
            name = f"{role.logical}Boundary"
            role.resources[name] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": doc}}
            props["PermissionsBoundary"] = {"Ref": name}
            role.boundary = [{"name": name, "policy": doc}]
        role.resources[role.logical] = {"Type": "AWS::IAM::Role", "Properties": props}
        return role

    def policy(self, boundary: bool = False) -> dict[str, Any]:
        rng = self.rng
        statements = [self.statement(boundary) for _ in range(rng.randint(1, 4))]
        return {"Version": "2012-10-17", "Statement": statements}

    def statement(self, boundary: bool) -> dict[str, Any]:
        rng = self.rng
        effect = "Deny" if rng.random() < (0.2 if boundary else 0.3) else "Allow"
        out: dict[str, Any] = {"Effect": effect}
        actions = [self.action_pattern() for _ in range(rng.randint(1, 3))]
        out["NotAction" if rng.random() < 0.12 else "Action"] = actions if len(actions) > 1 else actions[0]
        resources = [self.resource_pattern() for _ in range(rng.randint(1, 2))]
        out["NotResource" if rng.random() < 0.12 else "Resource"] = resources if len(resources) > 1 else resources[0]
        if rng.random() < 0.5:
            conditions: dict[str, dict[str, Any]] = {}
            for _ in range(rng.randint(1, 2)):
                operator, key, values = self.condition()
                conditions.setdefault(operator, {})[key] = values
            out["Condition"] = conditions
        return out

    def action_pattern(self) -> str:
        rng = self.rng
        return rng.choice(ACTIONS) if rng.random() < 0.6 else rng.choice(ACTION_PATTERNS)

    def resource_pattern(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            return "*"
        arn = rng.choice(resources_for(rng.choice(ACTIONS), rng))
        if arn == "*" or roll < 0.5:
            return arn
        parts = arn.split(":", 5)
        choice = rng.randint(0, 5)
        if choice == 0:
            parts[3] = "*"  # any region
        elif choice == 1:
            parts[4] = "*"  # any account
        elif choice == 2:
            parts[5] = parts[5][: max(1, len(parts[5]) // 2)] + "*"  # a prefix
        elif choice == 3:
            parts[5] = parts[5][:-1] + "?"
        elif choice == 4 and parts[2] == "s3":
            return "arn:aws:s3:::${aws:PrincipalTag/team}/*"  # a policy variable
        elif choice == 5:
            return rng.choice([f"arn:aws:{parts[2]}:*:*:*", f"arn:aws:{parts[2]}:*", "arn:*"])
        return ":".join(parts)

    def condition(self) -> tuple[str, str, Any]:
        rng = self.rng
        kind = rng.randint(0, 11)
        suffix = "IfExists" if rng.random() < 0.2 else ""
        if kind <= 2:
            key = rng.choice(
                ["aws:ResourceTag/team", "aws:PrincipalTag/team", "ec2:ResourceTag/team", "rds:db-tag/team"]
            )
            op = rng.choice(
                ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase"]
            )
            value = rng.choice(["team-a", "team-b", "*", "?*", "team-*", "TEAM-A", ["team-a", "team-b"]])
            return op + suffix, key, value
        if kind == 3:
            key = rng.choice(["ec2:Vpc", "ec2:Subnet"])
            op = rng.choice(["StringEquals", "ArnEquals", "ArnLike", "StringLike", "StringNotEquals", "ArnNotLike"])
            pool = VPCS if key == "ec2:Vpc" else SUBNETS
            value = rng.choice([*pool, "*", "arn:aws:ec2:*:*:vpc/*", "arn:aws:ec2:*:*:subnet/*"])
            return op + suffix, key, value
        if kind == 4:
            op = rng.choice(["DateGreaterThan", "DateLessThan", "DateGreaterThanEquals", "DateNotEquals"])
            return (
                op + suffix,
                "aws:CurrentTime",
                rng.choice(["2001-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2024-06-01T00:00:00Z"]),
            )
        if kind == 5:
            return (
                "Null",
                rng.choice(["aws:PrincipalArn", "aws:ResourceTag/team", "aws:TagKeys", "ec2:Vpc"]),
                rng.choice(["true", "false"]),
            )
        if kind == 6:
            qualifier = rng.choice(["ForAllValues:", "ForAnyValue:"])
            op = rng.choice(["StringEquals", "StringLike", "StringNotEquals"])
            return qualifier + op + suffix, "aws:TagKeys", rng.choice(["team", ["team", "owner"], "*"])
        if kind == 7:
            op = rng.choice(["ArnLike", "ArnEquals", "StringLike", "ArnNotLike"])
            value = rng.choice(
                [PRINCIPAL, f"arn:aws:iam::{ACCOUNT}:role/*", "*", f"arn:aws:iam::{OTHER_ACCOUNT}:role/*"]
            )
            return op + suffix, "aws:PrincipalArn", value
        if kind == 8:
            op = rng.choice(["IpAddress", "NotIpAddress"])
            return op + suffix, "aws:SourceIp", rng.choice(["10.0.0.0/8", "192.0.2.1/32", "203.0.113.0/24"])
        if kind == 9:
            return (
                "Bool" + suffix,
                rng.choice(["aws:MultiFactorAuthPresent", "aws:SecureTransport"]),
                rng.choice(["true", "false"]),
            )
        if kind == 10:
            op = rng.choice(["NumericLessThan", "NumericGreaterThanEquals", "NumericNotEquals"])
            return op + suffix, "aws:MultiFactorAuthAge", rng.choice(["3600", "60"])
        op = rng.choice(["StringEquals", "StringNotEquals"])
        return op + suffix, "aws:RequestedRegion", rng.choice(["us-east-1", "eu-west-1"])

    # -- requests

    def requests(self, role: Generated, count: int) -> Iterator[Request]:
        rng = self.rng
        for _ in range(count):
            action = rng.choice(ACTIONS)
            resource = rng.choice(resources_for(action, rng))
            yield Request(role.logical, action, resource, self.context(action, resource))

    def context(self, action: str, resource: str) -> dict[str, Any]:
        rng = self.rng
        # The keys AWS includes in every request (IAM User Guide, global condition keys).
        region = resource.split(":")[3] if resource.startswith("arn:") and resource.split(":")[3] else "us-east-1"
        context: dict[str, Any] = {
            "aws:CurrentTime": "2025-03-01T12:00:00Z",
            "aws:EpochTime": "1740830400",
            "aws:PrincipalArn": PRINCIPAL,
            "aws:PrincipalAccount": ACCOUNT,
            "aws:PrincipalType": "AssumedRole",
            "aws:userid": "AROAEXAMPLE:session",
            "aws:SecureTransport": rng.choice(["true", "false"]),
            "aws:RequestedRegion": region,
            "aws:ViaAWSService": "false",
            "aws:PrincipalIsAWSService": "false",
        }
        optional: dict[str, Any] = {
            "aws:ResourceTag/team": rng.choice(TEAM),
            "ec2:ResourceTag/team": rng.choice(TEAM),
            "rds:db-tag/team": rng.choice(TEAM),
            "aws:PrincipalTag/team": rng.choice(TEAM),
            "aws:TagKeys": rng.choice([["team"], ["team", "owner"], ["owner"]]),
            "ec2:Vpc": rng.choice(VPCS),
            "ec2:Subnet": rng.choice(SUBNETS),
            "aws:SourceIp": rng.choice(["10.1.2.3", "192.0.2.1", "203.0.113.9"]),
            "aws:MultiFactorAuthPresent": rng.choice(["true", "false"]),
            "aws:MultiFactorAuthAge": rng.choice(["30", "7200"]),
        }
        for key, value in optional.items():
            if rng.random() < 0.5:
                context[key] = value
        if "aws:TagKeys" in context and not load_catalog().carrying_bits(
            "aws:tagkeys", load_catalog().bit(action.lower())
        ):
            del context["aws:TagKeys"]  # only actions that tag carry it (Service Authorization Reference)
        return context


def template(roles: list[Generated]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for role in roles:
        resources.update(role.resources)
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def simulate(roles: dict[str, Generated], requests: list[Request]) -> list[dict[str, Any]]:
    batch = [
        {
            "identity": roles[r.role].identity,
            "boundary": roles[r.role].boundary,
            "principal": PRINCIPAL,
            "action": r.action,
            "resource": r.resource,
            "account": ACCOUNT,
            "context": r.context,
            "resourcePolicy": DEFAULT_KEY_POLICY if r.action.startswith("kms:") else None,
        }
        for r in requests
    ]
    done = subprocess.run(
        ["node", str(RUNNER)],
        input=json.dumps({"simulations": batch}),
        capture_output=True,
        text=True,
        env={**os.environ, "BGLINT_TOOLS": str(TOOLS)},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"simulator runner failed: {done.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
    return results


def compare(workdir: Path, seed: int, role_count: int, per_role: int) -> list[Outcome]:
    """Generate, write, load with bglint, simulate, and answer every request both ways."""
    generator = Generator(seed)
    roles = [generator.role(i) for i in range(role_count)]
    paths = []
    for start in range(0, role_count, ROLES_PER_TEMPLATE):
        paths.append(workdir / f"roles-{seed}-{start}.json")
        paths[-1].write_text(
            json.dumps(template(roles[start : start + ROLES_PER_TEMPLATE]), indent=1), encoding="utf-8"
        )
    loaded = api.load(paths, all_roles=True)
    assert not loaded.errors, loaded.errors
    requests = [r for role in roles for r in generator.requests(role, per_role)]
    by_name = {role.logical: role for role in roles}
    answers = simulate(by_name, requests)
    outcomes = []
    for request, answer in zip(requests, answers, strict=True):
        bglint_role = loaded.role(request.role)
        exact = bglint_role.can(request.action, request.resource, answer["context"]).allowed
        some = bglint_role.can(request.action, request.resource).allowed
        outcome = Outcome(by_name[request.role], request, answer["result"], answer["context"], exact, some)
        outcome.error = answer.get("error", "")
        outcomes.append(outcome)
    return outcomes


# -- the documented exceptions (tests/differential/EXCEPTIONS.md) ---------------------------


def documented_exception(outcome: Outcome, workdir: Path, without_context: bool = False) -> str | None:
    """The EXCEPTIONS.md case that explains a disagreement, or None.

    short-arn-notresource: the simulator applies no statement whose NotResource holds an ARN of
    fewer than six segments. The disagreement is explained when bglint, asked about the same
    role without those statements, gives the simulator's answer."""
    stripped = _without_short_notresource(outcome.role)
    if stripped is None:
        return None
    context = None if without_context else outcome.context
    alone = _answer_alone(workdir, stripped, outcome.request, context)
    return "short-arn-notresource" if alone == (outcome.simulator == "Allowed") else None


def _short_arn(entry: str) -> bool:
    return entry.startswith("arn:") and entry.count(":") < 5


# Allows one object no request names: stands in for a document left without statements.
_INERT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::no-request-names-this/x"}


def _without_short_notresource(role: Generated) -> Generated | None:
    changed = False

    def kept(document: dict[str, Any]) -> dict[str, Any]:
        nonlocal changed
        statements = []
        for statement in document["Statement"]:
            entries = statement.get("NotResource") or []
            if any(_short_arn(e) for e in ([entries] if isinstance(entries, str) else entries)):
                changed = True
            else:
                statements.append(statement)
        return {**document, "Statement": statements or [_INERT]}

    identity = [{"name": p["name"], "policy": kept(p["policy"])} for p in role.identity]
    boundary = [{"name": p["name"], "policy": kept(p["policy"])} for p in role.boundary] if role.boundary else None
    return Generated(role.logical, identity, boundary) if changed else None


def _answer_alone(workdir: Path, role: Generated, request: Request, context: dict[str, Any] | None) -> bool:
    props: dict[str, Any] = {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
        "Policies": [{"PolicyName": f"p{i}", "PolicyDocument": p["policy"]} for i, p in enumerate(role.identity)],
    }
    resources: dict[str, Any] = {"Alone": {"Type": "AWS::IAM::Role", "Properties": props}}
    if role.boundary:
        props["PermissionsBoundary"] = {"Ref": "AloneBoundary"}
        document = role.boundary[0]["policy"]
        resources["AloneBoundary"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document}}
    path = workdir / "alone" / f"{role.logical}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"Resources": resources}), encoding="utf-8")
    found = api.load([path], all_roles=True).role("Alone")
    return found.can(request.action, request.resource, context).allowed
