"""Whether an alarm fires on a role's AssumeRole: the one decision BG034 (live rules) and BG035 (a
stack's rules and metric-filter alarms) share, case by case as AWS documents the matching.

EventBridge: "Creating event patterns" and "Content filtering in Amazon EventBridge event patterns"
(arrays are alternatives, every field named must match, nested objects match nested fields, the
value filters). CloudWatch Logs: "Filter pattern syntax for metric filters" (JSON patterns over a
CloudTrail record, && and ||, =, !=, wildcards, NOT EXISTS; terms). A CloudTrail AssumeRole record
fixes its source, event name and roleArn; a condition on a field it does not fix (the caller, an
error code) may hold for some use of the role, so the alarm can fire.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bglint.iam.events import fires_on_assume_role
from bglint.model import METRIC_FILTER, AlertRule

ROLE = "arn:aws:iam::111122223333:role/break-glass"
CLOUDTRAIL = {"source": ["aws.sts"], "detail-type": ["AWS API Call via CloudTrail"]}

EVENT_PATTERNS: list[tuple[str, dict[str, Any], bool]] = [
    (
        "the guidance's pattern",
        {**CLOUDTRAIL, "detail": {"eventName": ["AssumeRole"], "requestParameters": {"roleArn": [ROLE]}}},
        True,
    ),
    ("another role", {**CLOUDTRAIL, "detail": {"requestParameters": {"roleArn": [ROLE + "-2"]}}}, False),
    ("one of several roles", {"detail": {"requestParameters": {"roleArn": ["arn:aws:iam::1:role/x", ROLE]}}}, True),
    ("every STS call", {"source": ["aws.sts"]}, True),
    ("another service", {"source": ["aws.ec2"]}, False),
    ("the wrong detail-type", {"source": ["aws.sts"], "detail-type": ["AWS Console Sign In via CloudTrail"]}, False),
    ("values are case-sensitive", {"detail": {"eventName": ["assumerole"]}}, False),
    ("equals-ignore-case", {"detail": {"eventName": [{"equals-ignore-case": "assumerole"}]}}, True),
    ("prefix", {"detail": {"eventName": [{"prefix": "Assume"}]}}, True),
    (
        "prefix of the role's path",
        {"detail": {"requestParameters": {"roleArn": [{"prefix": "arn:aws:iam::111122223333:role/"}]}}},
        True,
    ),
    (
        "suffix ignoring case",
        {"detail": {"requestParameters": {"roleArn": [{"suffix": {"equals-ignore-case": "/BREAK-GLASS"}}]}}},
        True,
    ),
    ("wildcard", {"detail": {"requestParameters": {"roleArn": [{"wildcard": "arn:aws:iam::*:role/break-*"}]}}}, True),
    (
        "wildcard of another name",
        {"detail": {"requestParameters": {"roleArn": [{"wildcard": "arn:aws:iam::*:role/ops-*"}]}}},
        False,
    ),
    (
        "wildcard with an escaped star",
        {"detail": {"requestParameters": {"roleArn": [{"wildcard": "*role/break\\*"}]}}},
        False,
    ),
    ("anything-but this event", {"detail": {"eventName": [{"anything-but": "AssumeRole"}]}}, False),
    ("anything-but others", {"detail": {"eventName": [{"anything-but": ["GetSessionToken", "ConsoleLogin"]}]}}, True),
    ("anything-but a prefix", {"detail": {"eventName": [{"anything-but": {"prefix": "Assume"}}]}}, False),
    ("exists", {"detail": {"requestParameters": {"roleArn": [{"exists": True}]}}}, True),
    ("a fixed field must not be absent", {"detail": {"eventName": [{"exists": False}]}}, False),
    ("a number never matches text", {"detail": {"eventName": [{"numeric": [">", 0]}]}}, False),
    (
        "$or of another service and AssumeRole",
        {"$or": [{"source": ["aws.ec2"]}, {"detail": {"eventName": ["AssumeRole"]}}]},
        True,
    ),
    ("$or of others", {"$or": [{"source": ["aws.ec2"]}, {"detail": {"eventName": ["ConsoleLogin"]}}]}, False),
    ("a leaf must be an array", {"detail": {"eventName": "AssumeRole"}}, False),
    ("only failed calls: may happen", {**CLOUDTRAIL, "detail": {"errorCode": [{"exists": True}]}}, True),
    ("only one caller: may be the one", {**CLOUDTRAIL, "detail": {"userIdentity": {"type": ["AssumedRole"]}}}, True),
]


@pytest.mark.parametrize(("pattern", "fires"), [c[1:] for c in EVENT_PATTERNS], ids=[c[0] for c in EVENT_PATTERNS])
def test_an_event_pattern_fires_as_eventbridge_matches_it(pattern: dict[str, Any], fires: bool) -> None:
    assert fires_on_assume_role(AlertRule("r", json.dumps(pattern), 1, True), ROLE) is fires


def test_without_a_role_a_pattern_on_some_roles_assume_role_fires() -> None:
    """How the audit picks the rules whose targets it reads: any role's AssumeRole will do."""
    named = {**CLOUDTRAIL, "detail": {"requestParameters": {"roleArn": [ROLE]}}}
    assert fires_on_assume_role(AlertRule("r", json.dumps(named), 0, True), None)
    assert not fires_on_assume_role(AlertRule("r", json.dumps({"source": ["aws.ec2"]}), 0, True), None)
    assert not fires_on_assume_role(AlertRule("r", "not JSON", 0, True), None)


FILTER_PATTERNS: list[tuple[str, str, bool]] = [
    ("the role's AssumeRole", f'{{ ($.eventName = "AssumeRole") && ($.requestParameters.roleArn = "{ROLE}") }}', True),
    (
        "another role",
        '{ ($.eventName = AssumeRole) && ($.requestParameters.roleArn = "arn:aws:iam::*:role/ops") }',
        False,
    ),
    ("a wildcard", '{ $.eventSource = "sts.amazonaws.com" && $.requestParameters.roleArn = "*:role/break-*" }', True),
    ("or", '{ $.eventName = "ConsoleLogin" || $.eventName = "AssumeRole" }', True),
    (
        "and before or",
        '{ $.eventName = "ConsoleLogin" && $.eventSource = "sts.amazonaws.com" || $.eventName = "X" }',
        False,
    ),
    (
        "parentheses",
        '{ ($.eventName = "ConsoleLogin" || $.eventName = "AssumeRole") && $.eventSource = "sts.amazonaws.com" }',
        True,
    ),
    ("not equal", '{ $.eventName != "AssumeRole" }', False),
    ("a field not fixed", '{ $.userIdentity.type = "Root" }', True),
    ("no error code", "{ $.errorCode NOT EXISTS }", True),
    ("a fixed field absent", "{ $.eventName NOT EXISTS }", False),
    ("a regex is never run", "{ $.eventName = %Assume.*% }", True),
    ("unbalanced", '{ ($.eventName = "AssumeRole" }', False),
    ("a term", "AssumeRole", True),
    ("another term", "ConsoleLogin", False),
    ("quoted terms", f'"{ROLE}" AssumeRole', True),
    ("one of several terms", "?ConsoleLogin ?AssumeRole", True),
    ("the empty pattern matches every event", "", True),
    ("space-delimited fields", "[ip, user, status]", False),
]


@pytest.mark.parametrize(("pattern", "fires"), [c[1:] for c in FILTER_PATTERNS], ids=[c[0] for c in FILTER_PATTERNS])
def test_a_metric_filter_fires_as_cloudwatch_logs_matches_it(pattern: str, fires: bool) -> None:
    assert fires_on_assume_role(AlertRule("a", pattern, 1, True, kind=METRIC_FILTER), ROLE) is fires


def test_hostile_patterns_are_bounded() -> None:
    """Nesting past any real pattern, and wildcards that would backtrack, answer at once."""
    deep = '{"detail": ' * 5000 + '{"x": ["y"]}' + "}" * 5000
    assert not fires_on_assume_role(AlertRule("r", deep, 1, True), ROLE)
    star = {"detail": {"requestParameters": {"roleArn": [{"wildcard": "*a" * 40 + "#"}]}}}
    assert not fires_on_assume_role(AlertRule("r", json.dumps(star), 1, True), ROLE + "a" * 200)
    nested = "{ " + "(" * 5000 + '$.eventName = "AssumeRole"' + ")" * 5000 + " }"
    assert not fires_on_assume_role(AlertRule("a", nested, 1, True, kind=METRIC_FILTER), ROLE)
