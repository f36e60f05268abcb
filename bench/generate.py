"""Deterministic generator of realistic break-glass inputs for the benchmark.

    python bench/generate.py OUT_DIR [--templates 1000] [--apps 50] [--seed 7]

Templates use short-form tags, conditions, inline and attached policies and boundaries
(good and bad variants mixed as real repositories have them); app dirs are Nuon app
configs with break_glass.toml, permissions/ and a customer- or vendor-managed stack.
The same seed always gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

SERVICES = {
    "ec2": [
        "DescribeInstances",
        "RebootInstances",
        "StopInstances",
        "StartInstances",
        "TerminateInstances",
        "CreateRoute",
        "AuthorizeSecurityGroupIngress",
        "DescribeSubnets",
        "CreateTags",
    ],
    "rds": ["DescribeDBInstances", "RebootDBInstance", "CreateDBSnapshot", "DeleteDBInstance", "ModifyDBInstance"],
    "eks": ["DescribeCluster", "ListClusters", "UpdateNodegroupConfig", "AccessKubernetesApi", "ListNodegroups"],
    "s3": ["GetObject", "PutObject", "ListBucket", "DeleteObject", "GetBucketPolicy"],
    "logs": ["GetLogEvents", "FilterLogEvents", "DescribeLogGroups", "StartQuery"],
    "ssm": ["StartSession", "SendCommand", "GetParameter", "DescribeInstanceInformation"],
    "secretsmanager": ["GetSecretValue", "DescribeSecret", "ListSecrets"],
    "kms": ["Decrypt", "DescribeKey", "ListKeys"],
}
MANAGED = ["ReadOnlyAccess", "ViewOnlyAccess", "CloudWatchReadOnlyAccess", "AdministratorAccess", "PowerUserAccess"]
TAG = "aws:ResourceTag/install.nuon.co/id"


def statement(rng: random.Random, indent: str) -> str:
    service = rng.choice(sorted(SERVICES))
    actions = rng.sample(SERVICES[service], k=rng.randint(1, 3))
    actions = [f"{service}:*"] if rng.random() < 0.15 else [f"{service}:{a}" for a in actions]
    lines = [f"{indent}- Sid: S{rng.randint(100, 999)}", f"{indent}  Effect: Allow", f"{indent}  Action:"]
    lines += [f"{indent}    - {a}" for a in actions]
    if rng.random() < 0.1:
        lines += [f'{indent}    - !If [Wide, "*", "{service}:Describe*"]']
    if rng.random() < 0.5:
        lines += [
            f'{indent}  Resource: "*"',
            f"{indent}  Condition:",
            f"{indent}    StringEquals:",
            f"{indent}      {TAG}: !Ref InstallId",
        ]
    else:
        lines += [
            f'{indent}  Resource: !Sub "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:*"'
        ]
    return "\n".join(lines)


def template(rng: random.Random, index: int) -> str:
    roles = []
    extra = []
    for r in range(rng.randint(1, 3)):
        name = f"Breakglass{['Sandbox', 'Runner', 'Network', 'Component'][r % 4]}Role{index}"
        level = ["sandbox", "runner", "network", "component"][r % 4]
        inline = "\n".join(statement(rng, "              ") for _ in range(rng.randint(1, 4)))
        managed = rng.sample(MANAGED, k=rng.randint(0, 2))
        managed_lines = "".join(f"\n        - !Sub arn:${{AWS::Partition}}:iam::aws:policy/{m}" for m in managed)
        boundary = ""
        if rng.random() < 0.6:
            boundary = f"\n      PermissionsBoundary: !Ref Boundary{index}x{r}"
            extra.append(f"""  Boundary{index}x{r}:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
{statement(rng, "          ")}
          - Effect: Deny
            Action: ["iam:*", "organizations:*"]
            Resource: "*"
""")
        extra.append(f"""  Attached{index}x{r}:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: attached-{index}-{r}
      Roles: [!Ref {name}]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
{statement(rng, "          ")}
""")
        roles.append(f"""  {name}:
    Type: AWS::IAM::Role
    Condition: Enable{index}
    DeletionPolicy: Delete
    Metadata:
      bglint: {{break_glass: true, level: {level}}}
    Properties:
      RoleName: !Sub "${{InstallId}}-bg-{r}"
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{AWS: !Ref RunnerRoleArn}}
            Action: sts:AssumeRole{boundary}
      ManagedPolicyArns:{managed_lines or " []"}
      Policies:
        - PolicyName: inline-{r}
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
{inline}
      Tags:
        - {{Key: install.nuon.co/id, Value: !Ref InstallId}}
""")
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Description: Generated break-glass stack {index}
Parameters:
  InstallId: {{Type: String}}
  RunnerRoleArn: {{Type: String}}
  EnableBreakGlass: {{Type: String, Default: "false", AllowedValues: ["true", "false"]}}
Conditions:
  Enable{index}: !Equals [!Ref EnableBreakGlass, "true"]
  Wide: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
{"".join(roles)}{"".join(extra)}Outputs:
  First:
    Value: !If [Enable{index}, !GetAtt {roles[0].split(":")[0].strip()}.Arn, ""]
"""


def app(rng: random.Random, root: Path, index: int) -> None:
    (root / "permissions").mkdir(parents=True)
    byo = rng.random() < 0.4
    (root / "metadata.toml").write_text(f'version = "v2"\ndisplay_name = "Generated app {index}"\n')
    vpc = "byo-vpc/default" if byo else "vpc/eks/default"
    (root / "stack.toml").write_text(
        f'type = "aws-cloudformation"\nname = "gen-{index}-{{{{.nuon.install.id}}}}"\ndescription = "d"\n'
        f'vpc_nested_template_url = "https://example.com/t/v0.4.0/{vpc}/stack.yaml"\n'
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["rds:*"],
                "Resource": "*",
                "Condition": {"StringEquals": {TAG: "{{.nuon.install.id}}"}},
            },
            {"Effect": "Allow", "Action": ["ec2:Describe*", "eks:Describe*"], "Resource": "*"},
        ],
    }
    boundary = '"./boundary.json"' if rng.random() < 0.5 else '""'
    (root / "permissions" / "boundary.json").write_text(json.dumps(policy, indent=2))
    managed = rng.choice(["AdministratorAccess", "ReadOnlyAccess", "ViewOnlyAccess"]) if rng.random() < 0.5 else ""
    managed_entry = f'\n[[role.policies]]\nmanaged_policy_name = "{managed}"\n' if managed else ""
    (root / "break_glass.toml").write_text(
        f'[[role]]\nname = "{{{{.nuon.install.id}}}}-bg-{index}"\ndescription = "d"\npermissions_boundary = {boundary}\n'
        f'{managed_entry}\n[[role.policies]]\nname = "scoped"\ncontents = """\n{json.dumps(policy, indent=2)}\n"""\n'
    )
    (root / "permissions" / "provision.toml").write_text(
        'type = "provision"\nname = "{{.nuon.install.id}}-provision"\ndescription = "d"\n'
        'permissions_boundary = "./boundary.json"\n\n[[policies]]\nmanaged_policy_name = "PowerUserAccess"\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--templates", type=int, default=1000)
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shutil.rmtree(args.out, ignore_errors=True)
    (args.out / "templates").mkdir(parents=True)
    for index in range(args.templates):
        (args.out / "templates" / f"stack-{index:04d}.yaml").write_text(template(rng, index))
    for index in range(args.apps):
        app(rng, args.out / "apps" / f"app-{index:03d}", index)
    print(f"wrote {args.templates} templates and {args.apps} apps under {args.out}")


if __name__ == "__main__":
    main()
