"""IAM condition operators, as the IAM User Guide documents them ("Condition operators",
"Single-valued vs. multivalued context keys", "Policy variables")."""

from __future__ import annotations

import datetime as dt

import pytest

from bglint.iam.conditions import Presence, Verdict, accepts_any_value, holds, judge
from bglint.model import Condition

TAG = "aws:ResourceTag/team"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("operator", "key", "values", "context", "expected"),
    [
        # A key absent from the request: positive false, negated true, IfExists true.
        ("StringEquals", TAG, ("a",), {}, False),
        ("StringNotEquals", TAG, ("a",), {}, True),
        ("StringNotLike", TAG, ("*",), {}, True),
        ("StringEqualsIfExists", TAG, ("a",), {}, True),
        ("ForAllValues:StringEquals", "aws:TagKeys", ("a",), {}, True),
        ("ForAnyValue:StringEquals", "aws:TagKeys", ("a",), {}, False),
        ("Null", TAG, ("true",), {}, True),
        ("Null", TAG, ("false",), {}, False),
        # Present: values are ORed; negated means none matches.
        ("StringEquals", TAG, ("a", "b"), {TAG.lower(): ("b",)}, True),
        ("StringNotEquals", TAG, ("a", "b"), {TAG.lower(): ("b",)}, False),
        ("StringLike", TAG, ("te?m-*",), {TAG.lower(): ("team-x",)}, True),
        ("StringEqualsIgnoreCase", TAG, ("TEAM",), {TAG.lower(): ("team",)}, True),
        ("StringNotLike", TAG, ("*",), {TAG.lower(): ("",)}, False),
        ("ForAllValues:StringEquals", "aws:TagKeys", ("a", "b"), {"aws:tagkeys": ("a", "c")}, False),
        ("ForAnyValue:StringEquals", "aws:TagKeys", ("a",), {"aws:tagkeys": ("a", "c")}, True),
        ("NumericLessThan", "aws:MultiFactorAuthAge", ("3600",), {"aws:multifactorauthage": ("60",)}, True),
        ("DateGreaterThan", "aws:CurrentTime", ("2020-01-01",), {"aws:currenttime": ("2025-01-01T00:00:00Z",)}, True),
        ("IpAddress", "aws:SourceIp", ("10.0.0.0/8",), {"aws:sourceip": ("10.1.2.3",)}, True),
        ("NotIpAddress", "aws:SourceIp", ("0.0.0.0/0",), {"aws:sourceip": ("10.1.2.3",)}, False),
        ("Bool", "aws:SecureTransport", ("TRUE",), {"aws:securetransport": ("true",)}, True),
        # ArnEquals and ArnLike are the same: wildcards per segment.
        (
            "ArnEquals",
            "aws:PrincipalArn",
            ("arn:aws:iam::*:role/ops-*",),
            {"aws:principalarn": ("arn:aws:iam::1:role/ops-a",)},
            True,
        ),
        # A policy variable is filled from the request; a missing one matches nothing.
        (
            "StringEquals",
            TAG,
            ("${aws:PrincipalTag/team}",),
            {TAG.lower(): ("x",), "aws:principaltag/team": ("x",)},
            True,
        ),
        ("StringEquals", TAG, ("${aws:PrincipalTag/team}",), {TAG.lower(): ("x",)}, False),
    ],
)
def test_holds(
    operator: str, key: str, values: tuple[str, ...], context: dict[str, tuple[str, ...]], expected: bool
) -> None:
    assert holds(Condition(operator, key, values), context) is expected


@pytest.mark.parametrize(
    ("operator", "key", "values", "presence", "expected"),
    [
        ("DateGreaterThan", "aws:CurrentTime", ("2001-01-01T00:00:00Z",), Presence.PRESENT, Verdict.ALWAYS),
        ("DateLessThan", "aws:CurrentTime", ("2001-01-01T00:00:00Z",), Presence.PRESENT, Verdict.NEVER),
        ("DateLessThan", "aws:CurrentTime", ("2099-01-01T00:00:00Z",), Presence.PRESENT, Verdict.DEPENDS),
        ("Null", "aws:PrincipalArn", ("false",), Presence.PRESENT, Verdict.ALWAYS),
        ("StringLike", "aws:PrincipalArn", ("*",), Presence.PRESENT, Verdict.ALWAYS),
        ("StringLike", TAG, ("*",), Presence.MAYBE, Verdict.DEPENDS),  # absent: false
        ("StringLikeIfExists", TAG, ("*",), Presence.MAYBE, Verdict.ALWAYS),
        ("StringEquals", "ec2:Vpc", ("arn:aws:ec2:us-east-1:1:vpc/vpc-1",), Presence.ABSENT, Verdict.NEVER),
        ("StringEqualsIfExists", "ec2:Vpc", ("arn:aws:ec2:us-east-1:1:vpc/vpc-1",), Presence.ABSENT, Verdict.ALWAYS),
        ("ForAllValues:StringEquals", "aws:TagKeys", ("a",), Presence.ABSENT, Verdict.ALWAYS),
        ("StringNotLike", TAG, ("*",), Presence.PRESENT, Verdict.NEVER),
    ],
)
def test_judge(operator: str, key: str, values: tuple[str, ...], presence: Presence, expected: Verdict) -> None:
    assert judge(Condition(operator, key, values), presence, NOW) is expected


@pytest.mark.parametrize(
    ("values", "expected"), [(("*",), True), (("?*",), True), (("**",), True), (("inst-*",), False)]
)
def test_values_that_accept_anything(values: tuple[str, ...], expected: bool) -> None:
    assert accepts_any_value(Condition("StringLike", TAG, values)) is expected
