"""Issue 16, through the real CLI: discovery never skips silently, a user rule adds an
escalation method without Python, and `Metadata bglint.break_glass` is honoured or refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import run_bglint, write_tree

ADMIN_ROLE = """\
Resources:
  BreakglassRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: arn:aws:iam::111122223333:role/vendor}, Action: sts:AssumeRole}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
"""


def _check_json(root: Path, *args: str) -> dict[str, Any]:
    result = run_bglint("check", "--format", "json", *args, cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_a_scan_finds_templates_whatever_their_extension_case_folder_or_header(tmp_path: Path) -> None:
    escaped = json.dumps(yaml.safe_load(ADMIN_ROLE))
    write_tree(
        tmp_path,
        {
            "stacks/UPPER.YAML": ADMIN_ROLE,
            # Not an app (no break_glass.toml or metadata.toml beside it): an ordinary folder.
            "infra/permissions/role.yml": ADMIN_ROLE,
            # JSON lets any key be written with \\u escapes; CloudFormation reads "Resources".
            "stacks/escaped.json": escaped.replace('"Resources"', '"\\u0052esources"'),
            # A long comment header pushes the Resources key past the first reads.
            "stacks/long-header.yaml": "# licence text\n" * 20000 + ADMIN_ROLE,
        },
    )
    report = _check_json(tmp_path, "stacks", "infra")
    found = {Path(d["path"]).as_posix() for d in report["documents"]}
    assert found == {
        "stacks/UPPER.YAML",
        "infra/permissions/role.yml",
        "stacks/escaped.json",
        "stacks/long-header.yaml",
    }
    admin = {Path(f["path"]).as_posix() for f in report["findings"] if f["rule"] == "BG001"}
    assert admin == found


@pytest.mark.slow
def test_what_a_scan_passes_over_is_listed_with_the_reason(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "stacks/role.yaml": ADMIN_ROLE,
            "stacks/notes.txt": "Resources: see the wiki\n",
            "stacks/values.yaml": "replicas: 3\n",
            "stacks/node_modules/pkg/template.yaml": ADMIN_ROLE,
        },
    )
    report = _check_json(tmp_path, "stacks")
    reasons = {Path(item["path"]).as_posix(): item["reason"] for item in report["passed_over"]}
    assert reasons["stacks/notes.txt"].startswith("not a template file name")
    assert reasons["stacks/values.yaml"] == "no Resources or AWSTemplateFormatVersion in it"
    assert reasons["stacks/node_modules"].startswith("directory not scanned")
    text = run_bglint("check", "--show-skipped", "stacks", cwd=tmp_path).stdout
    assert "skipped stacks/values.yaml: no Resources or AWSTemplateFormatVersion in it" in text
    assert "skipped stacks/notes.txt: not a template file name" in text
    assert "skipped" not in run_bglint("check", "stacks", cwd=tmp_path).stdout  # only when asked


SECRETS_RULE = {
    "id": "ACME006",
    "name": "acme-escalation",
    "title": "Break-glass role can read every secret",
    "severity": "error",
    "security-severity": 7.0,
    "applies-to": "break-glass-roles",
    "message": "role '{role}' {detail}. Fix: {fix}.",
    "check": {
        "predicate": "can_escalate",
        "params": {
            "methods": [
                {
                    "name": "every secret",
                    "why": "secrets hold other principals' credentials",
                    "steps": [
                        {
                            "action": "secretsmanager:GetSecretValue",
                            "resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:another-secret",
                        }
                    ],
                }
            ]
        },
    },
    "rationale": "ACME treats secrets as credentials.",
    "remediation": "Name the install's secrets.",
    "help": "https://acme.example/rules/ACME006",
}


def _secret_reader(resource: str) -> str:
    return ADMIN_ROLE.replace(
        "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]\n",
        "      Policies:\n        - PolicyName: s\n          PolicyDocument:\n            Statement:\n"
        f"              - {{Effect: Allow, Action: secretsmanager:GetSecretValue, Resource: '{resource}'}}\n",
    )


def test_a_user_rule_adds_an_escalation_method_without_python(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "rules/ACME006.yaml": yaml.safe_dump(SECRETS_RULE),
            "every.yaml": _secret_reader("*"),
            "one.yaml": _secret_reader("arn:aws:secretsmanager:*:*:secret:inst-123-*"),
        },
    )
    report = _check_json(tmp_path, "--rules", "rules", "every.yaml", "one.yaml")
    hits = [f for f in report["findings"] if f["rule"] == "ACME006"]
    assert [f["path"] for f in hits] == ["every.yaml"]
    assert "secretsmanager:GetSecretValue on another secret (every secret:" in hits[0]["message"]
    assert not [f for f in report["findings"] if f["rule"] == "BG006"]  # the shipped methods do not include it


def test_metadata_break_glass_string_other_than_true_or_false_is_an_input_error(tmp_path: Path) -> None:
    text = ADMIN_ROLE.replace(
        "    Type: AWS::IAM::Role\n", "    Type: AWS::IAM::Role\n    Metadata: {bglint: {break_glass: 'yes'}}\n"
    )
    write_tree(tmp_path, {"t.yaml": text})
    result = run_bglint("check", "t.yaml", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("t.yaml:4:"), result.stderr
    assert "bglint.break_glass must be true or false, got 'yes'" in lines[0]
