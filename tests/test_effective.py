"""Effective permissions: Allows minus certain Denies, within the boundary.

Table-driven cases read small policy dicts through the real PolicyReader (so CloudFormation
intrinsics such as Fn::If are rendered exactly as for a template), then ask
`bglint.iam.effective.analyse` what the role can do. Hypothesis properties check the
algebra: a Deny never grants, a boundary never grants, `*` and NotAction expand as the catalog
says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bglint.iam.catalog import load_catalog
from bglint.iam.effective import Permissions, analyse, expand_statement
from bglint.iam.managed import managed_policy
from bglint.load.policy import PolicyReader
from bglint.model import (
    Boundary,
    BoundaryState,
    Condition,
    Location,
    Policy,
    PolicyOrigin,
    Role,
    Statement,
)

CATALOG = load_catalog()
ALL = CATALOG.all_actions()
HERE = Location("test.json", 1, 1, "")

TAGGED = {"StringEquals": {"aws:ResourceTag/install.nuon.co/id": "inst-1"}}
REGION = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
BUCKET_OBJECT = "arn:aws:s3:::bucket/report.csv"


# -- building roles --------------------------------------------------------------------


def statements(*raw: dict[str, Any]) -> tuple[Statement, ...]:
    reader = PolicyReader("test.json", lambda pos, logical: Location("test.json", pos[0], pos[1], logical))
    result = reader.statements({"Version": "2012-10-17", "Statement": list(raw)}, "test")
    assert not reader.errors, reader.errors
    assert len(result) == len(raw)
    return result


def policy(*raw: dict[str, Any], name: str = "p", conditional: bool = False) -> Policy:
    return Policy(name, PolicyOrigin.INLINE, HERE, statements(*raw), conditional=conditional)


def managed(name: str) -> Policy:
    document = managed_policy(name)
    assert document is not None, name
    return Policy(name, PolicyOrigin.AWS_MANAGED, HERE, statements(*document["Statement"]))


def role(*policies: Policy, boundary: Boundary | None = None) -> Role:
    return Role("r", HERE, "cloudformation", break_glass=True, policies=list(policies), boundary=boundary)


def bounded_by(*raw: dict[str, Any]) -> Boundary:
    return Boundary(BoundaryState.DOCUMENT, HERE, (policy(*raw, name="boundary"),))


def allow(action: str | list[str] | dict[str, Any], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str] | dict[str, Any], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def under_if(value: Any) -> dict[str, Any]:
    """A value that only applies when a CloudFormation condition holds."""
    return {"Fn::If": ["Strict", value, {"Ref": "AWS::NoValue"}]}


# -- table-driven cases ----------------------------------------------------------------


@dataclass(frozen=True)
class Can:
    """What `can(action, resource)` must answer, and whether the action is unconditional on `*`."""

    action: str
    allowed: bool
    resource: str = "*"
    conditions: tuple[Condition, ...] | None = None  # None: not checked
    on_star: bool | None = None  # membership in unconditional_on_star; None: not checked
    effective: bool | None = None  # membership in all_effective; None: not checked


@dataclass(frozen=True)
class Case:
    id: str
    role: Role
    expect: tuple[Can, ...]


REGION_CONDITION = Condition("StringEquals", "aws:RequestedRegion", ("us-east-1",))
TAG_CONDITION = Condition("StringEquals", "aws:ResourceTag/install.nuon.co/id", ("inst-1",))

CASES = [
    Case(
        "service-wildcard",
        role(policy(allow("ec2:Describe*"))),
        (
            Can("ec2:DescribeInstances", True, on_star=True, effective=True),
            Can("ec2:DescribeVpcs", True, on_star=True),
            Can("ec2:TerminateInstances", False, on_star=False, effective=False),
            Can("s3:GetObject", False, on_star=False),
        ),
    ),
    Case(
        "star-is-everything",
        role(policy(allow("*"))),
        (
            Can("iam:CreateRole", True, on_star=True),
            Can("s3:DeleteBucket", True, resource="arn:aws:s3:::any-bucket", on_star=True),
            Can("not-a-service:Nothing", False),
        ),
    ),
    Case(
        "wildcard-in-the-middle",
        role(policy(allow("s3:Get*Object*"))),
        (
            Can("s3:GetObject", True, on_star=True),
            Can("s3:GetObjectAcl", True),
            Can("s3:GetBucketObjectLockConfiguration", True),
            Can("s3:PutObject", False, on_star=False),
            Can("s3:ListBucket", False),
            Can("s3:GetBucketPolicy", False),
        ),
    ),
    Case(
        "action-names-match-case-insensitively",
        role(policy(allow(["EC2:describeINSTANCES", "S3:get*"]))),
        (
            Can("ec2:DescribeInstances", True, on_star=True),
            Can("EC2:DESCRIBEINSTANCES", True),
            Can("s3:GetObject", True),
            Can("ec2:DescribeVpcs", False),
        ),
    ),
    Case(
        "not-action-is-the-complement",
        role(policy({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})),
        (
            Can("s3:GetObject", True, on_star=True),
            Can("ec2:RunInstances", True, on_star=True),
            Can("iam:CreateRole", False, on_star=False, effective=False),
            Can("IAM:PassRole", False),
            Can("organizations:LeaveOrganization", False, on_star=False),
        ),
    ),
    Case(
        "not-resource-excludes-the-named-resources",
        role(policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"})),
        (
            Can("s3:GetObject", True, resource="arn:aws:s3:::data/a.csv"),
            Can("s3:GetObject", False, resource="arn:aws:s3:::secret/a.csv"),
            Can("s3:PutObject", False, resource="arn:aws:s3:::data/a.csv"),
        ),
    ),
    Case(
        "unconditional-deny-removes",
        role(policy(allow("s3:*"), deny(["s3:DeleteObject", "s3:deletebucket"]))),
        (
            Can("s3:GetObject", True, on_star=True),
            Can("s3:DeleteObject", False, on_star=False, effective=False),
            Can("s3:DeleteObject", False, resource=BUCKET_OBJECT),
            Can("s3:DeleteBucket", False, on_star=False, effective=False),
        ),
    ),
    Case(
        "deny-in-another-policy-removes",
        role(policy(allow("*")), policy(deny("iam:*"), name="deny-iam")),
        (
            Can("iam:CreateRole", False, on_star=False, effective=False),
            Can("s3:GetObject", True, on_star=True),
        ),
    ),
    Case(
        "not-action-deny-removes-all-but",
        role(policy(allow("s3:*"), {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})),
        (
            Can("s3:GetObject", True, on_star=True),
            Can("s3:PutObject", False, on_star=False, effective=False),
        ),
    ),
    Case(
        "conditional-deny-does-not-remove",
        role(policy(allow("s3:*"), deny("s3:DeleteObject", Condition=TAGGED))),
        (
            Can("s3:DeleteObject", True, conditions=(), on_star=True, effective=True),
            Can("s3:DeleteObject", True, resource=BUCKET_OBJECT),
        ),
    ),
    Case(
        "deny-under-fn-if-does-not-remove",
        role(policy(allow("s3:*"), deny(under_if("s3:DeleteObject")))),
        (Can("s3:DeleteObject", True, conditions=(), on_star=True, effective=True),),
    ),
    Case(
        "deny-on-some-resources-does-not-remove-everywhere",
        role(policy(allow("s3:*"), deny("s3:DeleteObject", "arn:aws:s3:::bucket/*"))),
        (
            Can("s3:DeleteObject", False, resource=BUCKET_OBJECT),
            Can("s3:DeleteObject", True, resource="arn:aws:s3:::other/report.csv"),
            Can("s3:DeleteObject", True, on_star=True, effective=True),
        ),
    ),
    Case(
        "conditional-allow-is-allowed-under-its-conditions",
        role(policy(allow("rds:DeleteDBInstance", Condition=TAGGED))),
        (Can("rds:DeleteDBInstance", True, conditions=(TAG_CONDITION,), on_star=False, effective=True),),
    ),
    Case(
        "the-least-constrained-allow-wins",
        role(policy(allow("rds:DeleteDBInstance", Condition=TAGGED), allow("rds:*"))),
        (Can("rds:DeleteDBInstance", True, conditions=(), on_star=True),),
    ),
    Case(
        "allow-under-fn-if-is-assumed-to-apply",
        role(policy(allow(under_if("*")))),
        (Can("iam:CreateRole", True, on_star=True),),
    ),
    Case(
        "boundary-intersects",
        role(policy(allow(["ec2:*", "s3:*"])), boundary=bounded_by(allow(["ec2:Describe*", "s3:GetObject"]))),
        (
            Can("ec2:DescribeInstances", True, on_star=True, effective=True),
            Can("s3:GetObject", True, resource=BUCKET_OBJECT),
            Can("ec2:TerminateInstances", False, on_star=False, effective=False),
            Can("s3:PutObject", False, on_star=False, effective=False),
        ),
    ),
    Case(
        "boundary-does-not-add-what-the-role-lacks",
        role(policy(allow("ec2:Describe*")), boundary=bounded_by(allow("*"))),
        (
            Can("ec2:DescribeInstances", True, on_star=True),
            Can("iam:CreateRole", False, on_star=False, effective=False),
        ),
    ),
    Case(
        "boundary-deny-removes",
        role(
            policy(allow("ec2:*")),
            boundary=bounded_by(allow("ec2:*"), deny("ec2:TerminateInstances")),
        ),
        (
            Can("ec2:RunInstances", True, on_star=True),
            Can("ec2:TerminateInstances", False, on_star=False, effective=False),
        ),
    ),
    Case(
        "boundary-with-a-condition-makes-the-grant-conditional",
        role(policy(allow("ec2:*")), boundary=bounded_by(allow("ec2:*", Condition=REGION))),
        (Can("ec2:RunInstances", True, conditions=(REGION_CONDITION,), on_star=False, effective=True),),
    ),
    Case(
        "boundary-on-some-resources-limits-the-resource",
        role(policy(allow("s3:*")), boundary=bounded_by(allow("s3:*", "arn:aws:s3:::bucket/*"))),
        (
            Can("s3:GetObject", True, resource=BUCKET_OBJECT),
            Can("s3:GetObject", False, resource="arn:aws:s3:::other/x"),
            Can("s3:GetObject", False, on_star=False),
        ),
    ),
    Case(
        "unknown-boundary-document-is-no-intersection",
        role(
            policy(allow("s3:*")),
            boundary=Boundary(BoundaryState.UNKNOWN, HERE, reference="arn:aws:iam::123456789012:policy/b"),
        ),
        (Can("s3:DeleteBucket", True, on_star=True, effective=True),),
    ),
    Case(
        "empty-boundary-is-no-intersection",
        role(policy(allow("s3:*")), boundary=Boundary(BoundaryState.EMPTY, HERE, reference="{}")),
        (Can("s3:DeleteBucket", True, on_star=True),),
    ),
    Case(
        "administrator-access",
        role(managed("AdministratorAccess")),
        (Can("iam:CreateRole", True, on_star=True), Can("ec2:DeleteVpc", True, on_star=True)),
    ),
    Case(
        "power-user-access",
        role(managed("PowerUserAccess")),
        (
            Can("ec2:RunInstances", True, on_star=True),
            Can("s3:DeleteBucket", True, on_star=True),
            Can("iam:CreateServiceLinkedRole", True, on_star=True),
            Can("iam:CreateRole", False, on_star=False),
            Can("iam:AttachRolePolicy", False, on_star=False),
            Can("organizations:LeaveOrganization", False),
        ),
    ),
    Case(
        "administrator-access-under-a-limiting-boundary",
        role(managed("AdministratorAccess"), boundary=bounded_by(allow(["ec2:Describe*", "s3:GetObject"]))),
        (
            Can("ec2:DescribeInstances", True, on_star=True),
            Can("iam:CreateRole", False, on_star=False, effective=False),
        ),
    ),
    Case(
        "resource-pattern-covers-its-objects-not-star",
        role(policy(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))),
        (
            Can("s3:GetObject", True, resource=BUCKET_OBJECT, conditions=()),
            Can("s3:GetObject", True, resource="arn:aws:s3:::bucket/a/b/c"),
            Can("s3:GetObject", False, resource="arn:aws:s3:::bucket"),
            Can("s3:GetObject", False, resource="arn:aws:s3:::bucket-2/x"),
            Can("s3:GetObject", False, on_star=False, effective=True),
        ),
    ),
    Case(
        "resource-question-mark-matches-one-character",
        role(policy(allow("s3:GetObject", "arn:aws:s3:::log-?/*"))),
        (
            Can("s3:GetObject", True, resource="arn:aws:s3:::log-a/x"),
            Can("s3:GetObject", False, resource="arn:aws:s3:::log-ab/x"),
        ),
    ),
    Case(
        "parameter-in-allow-action-is-widest",
        role(policy(allow("ec2:${Verb}Instances"))),
        (Can("ec2:TerminateInstances", True, on_star=True), Can("s3:GetObject", False)),
    ),
    Case(
        "parameter-in-deny-action-removes-nothing",
        role(policy(allow("ec2:*"), deny("ec2:${Verb}Instances"))),
        (Can("ec2:TerminateInstances", True, on_star=True),),
    ),
    Case(
        # A Deny in a policy that is attached only under a CloudFormation condition
        # (ManagedPolicyArns: [!If [Strict, !Ref DenyPolicy, !Ref AWS::NoValue]]) may not apply.
        "deny-in-a-conditionally-attached-policy-does-not-remove",
        role(policy(allow("s3:*")), policy(deny("s3:DeleteBucket"), name="strict", conditional=True)),
        (Can("s3:DeleteBucket", True, on_star=True, effective=True),),
    ),
]


def _check(perms: Permissions, expect: Can) -> None:
    decision = perms.can(expect.action, expect.resource)
    assert decision.allowed is expect.allowed
    if expect.conditions is not None:
        assert decision.conditions == expect.conditions
    key = expect.action.lower()
    if expect.on_star is not None:
        assert (key in perms.unconditional_on_star) is expect.on_star
    if expect.effective is not None:
        assert (key in perms.all_effective) is expect.effective


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_effective_permissions(case: Case) -> None:
    perms = analyse(case.role, CATALOG)
    for expect in case.expect:
        _check(perms, expect)


# -- focused checks ----------------------------------------------------------------------


def test_fn_if_marks_the_statement_conditional() -> None:
    (statement,) = statements(deny(under_if("s3:DeleteObject")))
    assert statement.conditional
    assert statement.actions == ("s3:DeleteObject",)


def test_conditional_allow_keeps_its_conditions_and_is_not_on_star() -> None:
    perms = analyse(role(policy(allow("rds:*", Condition=TAGGED))), CATALOG)
    assert perms.unconditional_on_star == frozenset()
    assert perms.all_effective == CATALOG.expand("rds:*")
    decision = perms.can("rds:DeleteDBCluster")
    assert decision.allowed and not decision.unconditional
    assert decision.conditions == (TAG_CONDITION,)


def test_administrator_access_holds_every_action_unconditionally() -> None:
    perms = analyse(role(managed("AdministratorAccess")), CATALOG)
    assert perms.unconditional_on_star == ALL
    assert perms.all_effective == ALL


def test_power_user_access_is_everything_but_iam_organizations_account() -> None:
    perms = analyse(role(managed("PowerUserAccess")), CATALOG)
    excluded = CATALOG.expand("iam:*") | CATALOG.expand("organizations:*") | CATALOG.expand("account:*")
    assert ALL - excluded <= perms.unconditional_on_star
    assert perms.unconditional_on_star & CATALOG.expand("iam:*") == {
        "iam:createservicelinkedrole",
        "iam:deleteservicelinkedrole",
        "iam:listroles",
    }


def test_boundary_intersection_is_exact() -> None:
    perms = analyse(
        role(managed("AdministratorAccess"), boundary=bounded_by(allow(["ec2:Describe*", "s3:GetObject"]))),
        CATALOG,
    )
    expected = CATALOG.expand("ec2:Describe*") | {"s3:getobject"}
    assert perms.unconditional_on_star == expected
    assert perms.all_effective == expected


def test_unknown_actions_are_recorded_with_their_place() -> None:
    (statement,) = statements(allow(["ec2:DescribeInstance", "ec2:DescribeVpcs", "nosuchsvc:*"]))
    scope = expand_statement(statement, policy(), CATALOG)
    assert scope.actions == {"ec2:describevpcs"}
    assert [pattern for pattern, _ in scope.unknown] == ["ec2:DescribeInstance", "nosuchsvc:*"]


def test_unknown_policy_document_is_listed_not_ignored() -> None:
    external = Policy("arn:aws:iam::123456789012:policy/x", PolicyOrigin.EXTERNAL, HERE, document_known=False)
    perms = analyse(role(policy(allow("s3:GetObject")), external), CATALOG)
    assert perms.unknown_policies == (external,)


# -- properties ----------------------------------------------------------------------------

# A pool of real patterns: a spread of services (every 25th, plus the ones installs use),
# each as `svc:*`, `svc:Get*`, `svc:List*` and two exact names written in odd case.
_SERVICES = sorted({*sorted(CATALOG.services())[::25], "ec2", "s3", "iam", "rds", "secretsmanager", "kms"})


def _pool() -> list[str]:
    pool = ["*"]
    for service in _SERVICES:
        names = sorted(CATALOG.expand(f"{service}:*"))
        pool += [f"{service}:*", f"{service}:Get*", f"{service}:List*", f"{service}:*Tag*"]
        for key in names[:: max(1, len(names) // 2)][:2]:
            action = CATALOG.lookup(key)
            assert action is not None
            pool.append(f"{action.service}:{action.name}".swapcase())
    return pool


PATTERNS = _pool()
RESOURCES = [
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/report.csv",
    "arn:aws:ec2:us-east-1:123456789012:instance/*",
    "arn:aws:iam::123456789012:role/other",
]
CONDITIONS = [(), (Condition("StringEquals", "aws:ResourceTag/install.nuon.co/id", ("inst-1",)),)]
# Probe actions: one real action per pattern (the first it matches), plus a few fixed ones.
PROBES = sorted(
    {min(CATALOG.expand(p)) for p in PATTERNS if CATALOG.expand(p)}
    | {"iam:createrole", "s3:getobject", "ec2:terminateinstances"}
)
PROBE_RESOURCES = ["*", "arn:aws:s3:::bucket/report.csv", "arn:aws:ec2:us-east-1:123456789012:instance/i-1"]


@st.composite
def a_statement(draw: st.DrawFn, effect: str | None = None) -> Statement:
    return Statement(
        effect=effect or draw(st.sampled_from(["Allow", "Deny"])),
        actions=tuple(draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3))),
        resources=tuple(draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))),
        loc=HERE,
        not_action=draw(st.booleans()) and draw(st.booleans()),  # 1 in 4
        not_resource=draw(st.integers(0, 5)) == 0,
        conditions=draw(st.sampled_from(CONDITIONS)),
        conditional=draw(st.integers(0, 4)) == 0,
    )


def _policies(items: list[Statement]) -> list[Policy]:
    return [Policy("p", PolicyOrigin.INLINE, HERE, tuple(items))] if items else []


def _role_of(identity: list[Statement], boundary: list[Statement] | None = None) -> Role:
    bound = None
    if boundary is not None:
        bound = Boundary(BoundaryState.DOCUMENT, HERE, tuple(_policies(boundary)))
    return Role("r", HERE, "cloudformation", policies=_policies(identity), boundary=bound)


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@PROPERTY
@given(
    identity=st.lists(a_statement(), max_size=4),
    boundary=st.one_of(st.none(), st.lists(a_statement(), max_size=3)),
    extra=a_statement(effect="Deny"),
)
def test_adding_a_deny_never_grants_more(
    identity: list[Statement], boundary: list[Statement] | None, extra: Statement
) -> None:
    before = analyse(_role_of(identity, boundary), CATALOG)
    after = analyse(_role_of([*identity, extra], boundary), CATALOG)
    assert after.unconditional_on_star <= before.unconditional_on_star
    assert after.all_effective <= before.all_effective
    for action in PROBES:
        for resource in PROBE_RESOURCES:
            if after.can(action, resource).allowed:
                assert before.can(action, resource).allowed, (action, resource)


@pytest.mark.slow
@PROPERTY
@given(identity=st.lists(a_statement(), max_size=4), boundary=st.lists(a_statement(), max_size=4))
def test_a_boundary_never_grants_more_than_either_side(identity: list[Statement], boundary: list[Statement]) -> None:
    bounded = analyse(_role_of(identity, boundary), CATALOG)
    alone = analyse(_role_of(identity), CATALOG)
    # The boundary's own document, read as if it were the role's only policy.
    ceiling = analyse(_role_of(boundary), CATALOG)
    assert bounded.all_effective <= alone.all_effective
    assert bounded.all_effective <= ceiling.all_effective
    assert bounded.unconditional_on_star <= alone.unconditional_on_star
    assert bounded.unconditional_on_star <= ceiling.unconditional_on_star
    for action in PROBES:
        for resource in PROBE_RESOURCES:
            if bounded.can(action, resource).allowed:
                assert alone.can(action, resource).allowed, (action, resource)
                assert ceiling.can(action, resource).allowed, (action, resource)


@PROPERTY
@given(star=st.sampled_from(["*", "*:*", "*:**", "*:?*"]))
def test_star_expands_to_every_action(star: str) -> None:
    assert CATALOG.expand(star) == ALL
    (statement,) = statements(allow(star))
    assert expand_statement(statement, policy(), CATALOG).actions == ALL


@pytest.mark.slow
@PROPERTY
@given(patterns=st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=4))
def test_not_action_is_all_actions_minus_the_expansion(patterns: list[str]) -> None:
    plain = Statement("Allow", tuple(patterns), ("*",), HERE)
    negated = Statement("Allow", tuple(patterns), ("*",), HERE, not_action=True)
    expanded = frozenset().union(*(CATALOG.expand(p) for p in patterns))
    assert expand_statement(plain, policy(), CATALOG).actions == expanded
    assert expand_statement(negated, policy(), CATALOG).actions == ALL - expanded
    # and through the whole analysis: NotAction on * is held unconditionally on every resource
    assert analyse(_role_of([negated]), CATALOG).unconditional_on_star == ALL - expanded


@PROPERTY
@given(pattern=st.sampled_from(PATTERNS))
def test_expansion_ignores_case(pattern: str) -> None:
    assert CATALOG.expand(pattern.upper()) == CATALOG.expand(pattern.lower()) == CATALOG.expand(pattern)
    assert CATALOG.expand(pattern) <= ALL
