"""BG035: a break-glass stack ships an alarm on its role's use, when the config asks for one.

Every case is a template in its own directory of one tree, checked in one run of the real CLI
under `alerts: {in-stack: required}`; the same tree without it (and every shipped example and
adversarial fixture) must give no BG035 at all. What counts as an alarm is AWS's: an EventBridge
rule on the default bus whose pattern matches CloudTrail's AssumeRole record of the role (source
aws.sts, detail-type "AWS API Call via CloudTrail", eventName AssumeRole, requestParameters.roleArn)
with a target, or a CloudWatch alarm with actions on a metric filter that matches that record.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent, indent
from typing import Any

import pytest

from conftest import run_bglint, write_tree
from runbooks import ROOT

OPT_IN = "alerts: {in-stack: required}\n"
TOPIC = "arn:aws:sns:us-east-1:111122223333:oncall"


HEAD = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
  BreakglassSupportRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {AWS: arn:aws:iam::111122223333:role/nuon-runner}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
"""


def stack(resources: str = "", role_props: str = "") -> str:
    """A break-glass role (read-only: no other finding matters here), an unrelated role, and `resources`."""
    return HEAD + indent(dedent(role_props), " " * 6) + indent(dedent(resources), "  ")


def rule(role_arn: str, *, extra: str = "", targets: bool = True, detail: str = "") -> str:
    """An AWS::Events::Rule on AssumeRole of `role_arn` (YAML), as AWS's break-glass guidance writes it."""
    filters = detail or f"eventName: [AssumeRole]\nrequestParameters: {{roleArn: [{role_arn}]}}"
    text = dedent(
        """\
        BreakGlassUsed:
          Type: AWS::Events::Rule
          Properties:
            EventPattern:
              source: [aws.sts]
              detail-type: [AWS API Call via CloudTrail]
              detail:
                {filters}
        """
    ).format(filters=filters.replace("\n", "\n" + " " * 8))
    text += indent(dedent(extra), " " * 4)
    return text + (f"    Targets: [{{Id: page, Arn: {TOPIC}}}]\n" if targets else "")


def alarm(filter_pattern: str, *, actions: bool = True) -> str:
    """A metric filter over the trail's log group and an alarm on its metric."""
    text = dedent(
        f"""\
        AssumedFilter:
          Type: AWS::Logs::MetricFilter
          Properties:
            LogGroupName: cloudtrail-logs
            FilterPattern: !Sub '{filter_pattern}'
            MetricTransformations: [{{MetricName: BreakGlassAssumed, MetricNamespace: Security, MetricValue: "1"}}]
        AssumedAlarm:
          Type: AWS::CloudWatch::Alarm
          Properties:
            MetricName: BreakGlassAssumed
            Namespace: Security
            Statistic: Sum
            Period: 60
            EvaluationPeriods: 1
            Threshold: 1
            ComparisonOperator: GreaterThanOrEqualToThreshold
        """
    )
    return text + (f"    AlarmActions: [{TOPIC}]\n" if actions else "")


GETATT = "!GetAtt BreakglassSupportRole.Arn"
SUB_NAME = '!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${BreakglassSupportRole}"'
# (case, template, BG035 expected, a text its message must hold)
CASES: list[tuple[str, str, bool, str]] = [
    ("no-alarm", stack(), True, "no AWS::Events::Rule of the template"),
    ("getatt-with-target", stack(rule(GETATT)), False, ""),
    ("no-target", stack(rule(GETATT, targets=False)), True, "rule 'BreakGlassUsed' matches but has no target"),
    ("another-role", stack(rule("!GetAtt AppRole.Arn")), True, ""),
    ("sub-with-ref", stack(rule(SUB_NAME)), False, ""),
    ("sub-with-getatt", stack(rule('!Sub "${BreakglassSupportRole.Arn}"')), False, ""),
    (
        "literal-name",
        stack(rule("arn:aws:iam::444455556666:role/vendor-break-glass"), "RoleName: vendor-break-glass\n"),
        False,
        "",
    ),
    (
        "literal-other-name",
        stack(rule("arn:aws:iam::444455556666:role/other"), "RoleName: vendor-break-glass\n"),
        True,
        "",
    ),
    ("any-role", stack(rule("", detail="eventName: [AssumeRole]")), False, ""),
    (
        "prefix-of-the-account",
        stack(
            rule(
                "",
                detail='eventName: [AssumeRole]\nrequestParameters: {roleArn: [{prefix: !Sub "arn:aws:iam::${AWS::AccountId}:role/"}]}',
            )
        ),
        False,
        "",
    ),
    ("other-event", stack(rule("", detail="eventName: [ConsoleLogin]")), True, ""),
    ("disabled", stack(rule(GETATT, extra="State: DISABLED\n")), True, "matches but is disabled"),
    ("custom-bus", stack(rule(GETATT, extra="EventBusName: audit-bus\n")), True, "event bus 'audit-bus'"),
    (
        "json-string-pattern",
        stack(
            dedent(
                """\
                BreakGlassUsed:
                  Type: AWS::Events::Rule
                  Properties:
                    EventPattern: !Sub '{"source": ["aws.sts"], "detail": {"eventName": ["AssumeRole"],
                      "requestParameters": {"roleArn": ["${BreakglassSupportRole.Arn}"]}}}'
                    Targets: [{Id: page, Arn: arn:aws:sns:us-east-1:111122223333:oncall}]
                """
            )
        ),
        False,
        "",
    ),
    (
        "metric-filter-alarm",
        stack(
            alarm('{ ($.eventName = "AssumeRole") && ($.requestParameters.roleArn = "${BreakglassSupportRole.Arn}") }')
        ),
        False,
        "",
    ),
    (
        "metric-filter-alarm-without-actions",
        stack(alarm('{ $.eventName = "AssumeRole" }', actions=False)),
        True,
        "alarm 'AssumedAlarm (metric filter AssumedFilter)' has no AlarmActions",
    ),
    ("metric-filter-on-other-event", stack(alarm('{ $.eventName = "ConsoleLogin" }')), True, ""),
]


def findings(report: dict[str, Any], rule_id: str) -> dict[str, list[str]]:
    """Case directory -> the messages of `rule_id`'s findings there."""
    found: dict[str, list[str]] = {}
    for finding in report["findings"]:
        if finding["rule"] == rule_id:
            found.setdefault(Path(finding["path"]).parent.name, []).append(finding["message"])
    return found


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stacks")
    return write_tree(root, {f"{name}/stack.yaml": text for name, text, _, _ in CASES})


def test_an_opted_in_break_glass_stack_must_ship_an_alarm_on_its_roles_use(tree: Path) -> None:
    (tree / ".bglint.yaml").write_text(OPT_IN, encoding="utf-8")
    try:
        proc = run_bglint("check", ".", "--format", "json", cwd=tree)
    finally:
        (tree / ".bglint.yaml").unlink()
    assert proc.returncode in (0, 1), proc.stderr
    found = findings(json.loads(proc.stdout), "BG035")
    assert set(found) == {name for name, _, expected, _ in CASES if expected}
    for name, _, expected, text in CASES:
        if expected:
            # Only the break-glass role is judged, and once.
            assert len(found[name]) == 1, found[name]
            assert "'BreakglassSupportRole'" in found[name][0]
            assert text in found[name][0], found[name][0]


@pytest.mark.parametrize("config", ["", "alerts: {in-stack: optional}\n"], ids=["no-config", "optional"])
def test_without_the_opt_in_no_stack_is_judged(tree: Path, config: str) -> None:
    if config:
        (tree / ".bglint.yaml").write_text(config, encoding="utf-8")
    try:
        proc = run_bglint("check", ".", "--format", "json", cwd=tree)
    finally:
        (tree / ".bglint.yaml").unlink(missing_ok=True)
    assert proc.returncode in (0, 1), proc.stderr
    assert findings(json.loads(proc.stdout), "BG035") == {}


@pytest.mark.slow
def test_no_shipped_example_or_fixture_gets_bg035_unless_asked(tmp_path: Path) -> None:
    fixtures = ("examples", "tests/adversarial")
    plain = run_bglint("check", *fixtures, "--format", "json", cwd=ROOT)
    assert plain.returncode in (0, 1), plain.stderr
    assert findings(json.loads(plain.stdout), "BG035") == {}
    # Asked for, every shipped template's break-glass role lacks one (none ships an alarm); app
    # configs are not judged (Nuon generates their stack).
    config = write_tree(tmp_path, {"optin.yaml": OPT_IN}) / "optin.yaml"
    asked = run_bglint("check", "examples", "--config", config, "--select", "BG035", "--format", "json", cwd=ROOT)
    report = json.loads(asked.stdout)
    judged = {(f["path"], f["role"]) for f in report["findings"] if f["rule"] == "BG035"}
    templates = {
        (doc["path"], role["name"])
        for doc in report["documents"]
        if doc["kind"] == "template"
        for role in doc["roles"]
        if role["break_glass"]
    }
    assert templates and judged == templates


def test_a_misspelt_opt_in_is_an_input_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {".bglint.yaml": "alerts: {in-stack: requried}\n", "stack.yaml": stack()})
    proc = run_bglint("check", "stack.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert ".bglint.yaml:1:" in proc.stderr and "required" in proc.stderr, proc.stderr
