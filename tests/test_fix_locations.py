"""A finding points at the line a person edits to fix it, in text and SARIF alike (the real CLI).

BG027 and BG029 judge a name (Nuon derives a policy's logical id from its CamelCased name; IAM
allows only letters, digits and +=,.@_- in role and policy names): they point at the `name`,
not at the policy's `contents`. BG022 judges DeletionPolicy/UpdateReplacePolicy (CloudFormation
User Guide: Retain keeps the resource when the stack is deleted or the resource replaced): it
points at the attribute that keeps it, and at the resource when the resource itself is the
problem (an IAM user holds long-term credentials).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_bglint, write_tree
from test_uninstall_trust import stack

DENY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]}'
APP = """\
[[role]]
name        = "{{.nuon.install.id}}-break-glass"
description = "incident access"

[[role.policies]]
managed_policy_name = "ReadOnlyAccess"

[[role.policies]]
name     = "deny secrets"
contents = "./deny.json"

[[role.policies]]
name     = "deny_params"
contents = "./deny.json"

[[role.policies]]
name     = "deny-params"
contents = "./deny.json"
"""
# A break-glass role kept by DeletionPolicy, and an IAM user (long-term credentials).
TEMPLATE = stack(role_head="DeletionPolicy: Retain\n", resources="SupportUser:\n  Type: AWS::IAM::User\n")


def place(text: str, needle: str, value: str) -> tuple[int, int]:
    """(line, column) of `value` on the one line holding `needle`, both 1-based."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, needle
    number, line = lines[0]
    return number, line.index(value) + 1


def located(tmp_path: Path, target: str, rule: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Where `rule`'s findings are, by the text report and by the SARIF report."""
    text = run_bglint("check", "--format", "text", "--quiet", target, cwd=tmp_path).stdout
    in_text = []
    for line in text.splitlines():
        head = line.split(": ", 1)[0].rsplit(":", 2)
        if f": {rule} " in line:
            in_text.append((int(head[1]), int(head[2])))
    sarif = json.loads(run_bglint("check", "--format", "sarif", target, cwd=tmp_path).stdout)
    in_sarif = [
        (region["startLine"], region["startColumn"])
        for result in sarif["runs"][0]["results"]
        if result["ruleId"] == rule
        for region in [result["locations"][0]["physicalLocation"]["region"]]
    ]
    return sorted(in_text), sorted(in_sarif)


@pytest.mark.slow
def test_policy_name_findings_point_at_the_name(tmp_path: Path) -> None:
    write_tree(tmp_path / "app", {"metadata.toml": 'version = "v1"\n', "break_glass.toml": APP, "deny.json": DENY})
    refused = place(APP, 'name     = "deny secrets"', '"deny secrets"')
    assert located(tmp_path, "app", "BG029") == ([refused], [refused])
    # deny_params and deny-params both become DenyParams: the later name is the one to change.
    later = place(APP, 'name     = "deny-params"', '"deny-params"')
    assert located(tmp_path, "app", "BG027") == ([later], [later])
    earlier_line = place(APP, 'name     = "deny_params"', '"')[0]
    report = json.loads(run_bglint("check", "--format", "json", "app", cwd=tmp_path).stdout)
    (bg027,) = [f for f in report["findings"] if f["rule"] == "BG027"]
    assert f"as policy 'deny_params' (app/break_glass.toml:{earlier_line})" in bg027["message"]


@pytest.mark.slow
def test_valid_policy_names_have_no_name_findings(tmp_path: Path) -> None:
    fixed = APP.replace('"deny secrets"', '"deny-secrets"').replace('"deny_params"', '"deny-ssm"')
    write_tree(tmp_path / "app", {"metadata.toml": 'version = "v1"\n', "break_glass.toml": fixed, "deny.json": DENY})
    assert located(tmp_path, "app", "BG029") == ([], [])
    assert located(tmp_path, "app", "BG027") == ([], [])


@pytest.mark.slow
def test_retention_points_at_the_attribute_and_a_user_at_the_resource(tmp_path: Path) -> None:
    write_tree(tmp_path, {"stack.yaml": TEMPLATE})
    retained = place(TEMPLATE, "DeletionPolicy: Retain", "Retain")
    user = place(TEMPLATE, "  SupportUser:", "SupportUser")
    assert located(tmp_path, "stack.yaml", "BG022") == ([retained, user], [retained, user])
    write_tree(tmp_path, {"stack.yaml": TEMPLATE.replace("DeletionPolicy: Retain", "DeletionPolicy: Delete")})
    assert located(tmp_path, "stack.yaml", "BG022") == ([user], [user])
