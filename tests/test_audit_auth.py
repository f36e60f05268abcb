"""The auditor policy shipped in policies/bglint-auditor.json is enough, and every action in it is needed.

A moto server that enforces IAM, started with INITIAL_NO_AUTH_ACTION_COUNT=<n>: the first n
calls, unauthenticated, create the roles, the accounts and the auditor users; every later call
must be signed by a known user or assumed role and be allowed by its policies. `bglint audit`
then runs with an auditor's access keys.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from aws_support import (
    ADMIN,
    AUDITOR_POLICY,
    DEFAULT_ACCOUNT,
    RUNNER,
    TAG_SCOPED,
    MotoServer,
    audit,
    by_role,
    client,
    document,
    session,
    trust,
)

pytestmark = pytest.mark.slow  # a moto server that enforces IAM, and the real CLI

MEMBER = "111111111111"  # its auditor role has the policy
LOCKED = "222222222222"  # its auditor role lacks iam:ListRoles
AUDITOR = "BglintAuditor"
POLICY: dict[str, Any] = json.loads(AUDITOR_POLICY.read_text())


def _actions(policy: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for statement in policy["Statement"]:
        action = statement["Action"]
        found += [action] if isinstance(action, str) else action
    return found


ACTIONS = _actions(POLICY)
# The calls `_setup` makes before IAM is enforced (it checks that it made exactly these).
SETUP_CALLS = 4 + 3 * len(ACTIONS) + 5 + 2 + 1 + (6 + 4) + 2


BULK = "iam:GetAccountAuthorizationDetails"
# Role by role, ListRoleTags is called only when the bulk read is denied: its user lacks both.
ALSO_LACKS = {"iam:ListRoleTags": (BULK,)}


def without(action: str, *also: str) -> dict[str, Any]:
    """The auditor policy with these actions taken out."""
    policy = copy.deepcopy(POLICY)
    kept = []
    for statement in policy["Statement"]:
        listed = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        rest = [a for a in listed if a != action and a not in also]
        if rest:
            statement["Action"] = rest
            kept.append(statement)
    policy["Statement"] = kept
    return policy


def _user(action: str) -> str:
    return "lacks-" + action.replace(":", "-")


class _Counted:
    """Clients whose every HTTP request is counted."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.calls = 0

    def __call__(self, sess: boto3.Session, service: str) -> Any:
        made = client(sess, service, self.endpoint)
        made.meta.events.register("before-send", self._count)
        return made

    def _count(self, **_: Any) -> None:
        self.calls += 1

    def into(self, account: str) -> boto3.Session:
        """A session in another account (moto switches account on sts:AssumeRole into it)."""
        arn = f"arn:aws:iam::{account}:role/setup"
        creds = self(session(self.endpoint), "sts").assume_role(RoleArn=arn, RoleSessionName="setup")["Credentials"]
        keys = {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        }
        return session(self.endpoint, keys)


def _setup(endpoint: str) -> dict[str, dict[str, str]]:
    """Roles, accounts and users; returns each user's access keys by user name."""
    counted = _Counted(endpoint)
    iam = counted(session(endpoint), "iam")
    policy = iam.create_policy(PolicyName=AUDITOR, PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    keys = {}
    iam.create_user(UserName="auditor")
    iam.attach_user_policy(UserName="auditor", PolicyArn=policy)
    keys["auditor"] = iam.create_access_key(UserName="auditor")["AccessKey"]
    for action in ACTIONS:
        iam.create_user(UserName=_user(action))
        lacking = without(action, *ALSO_LACKS.get(action, ()))
        iam.put_user_policy(UserName=_user(action), PolicyName="audit", PolicyDocument=json.dumps(lacking))
        keys[_user(action)] = iam.create_access_key(UserName=_user(action))["AccessKey"]
    # The caller's account: an admin role, and a bounded one found only by its tag (ListRoleTags).
    iam.create_role(RoleName="admin-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
    iam.attach_role_policy(RoleName="admin-break-glass", PolicyArn=ADMIN)
    boundary = iam.create_policy(PolicyName="install-boundary", PolicyDocument=document(TAG_SCOPED))["Policy"]["Arn"]
    iam.create_role(
        RoleName="ops-support",
        AssumeRolePolicyDocument=trust(RUNNER),
        PermissionsBoundary=boundary,
        Tags=[{"Key": "break-glass", "Value": "true"}],
    )
    iam.put_role_policy(RoleName="ops-support", PolicyName="restart", PolicyDocument=document(TAG_SCOPED))
    # This account's auditor role, for --organization (moto checks a same-account trust by user ARN).
    users = [f"arn:aws:iam::{DEFAULT_ACCOUNT}:user/{name}" for name in keys]
    iam.create_role(RoleName=AUDITOR, AssumeRolePolicyDocument=trust(*users))
    iam.attach_role_policy(RoleName=AUDITOR, PolicyArn=policy)
    counted(session(endpoint), "organizations").create_organization(FeatureSet="ALL")
    # An alarm on the break-glass role's use (events:ListTargetsByRule is called for it).
    events = counted(session(endpoint), "events")
    events.put_rule(Name="break-glass-used", EventPattern=json.dumps({"detail": {"eventName": ["AssumeRole"]}}))
    events.put_targets(Rule="break-glass-used", Targets=[{"Id": "1", "Arn": "arn:aws:sns:us-east-1:123456789012:x"}])
    for account, doc in ((MEMBER, POLICY), (LOCKED, without("iam:ListRoles"))):
        other = counted(counted.into(account), "iam")
        arn = other.create_policy(PolicyName=AUDITOR, PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        other.create_role(RoleName=AUDITOR, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"))
        other.attach_role_policy(RoleName=AUDITOR, PolicyArn=arn)
        if account == MEMBER:
            other.create_role(RoleName="member-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
            other.attach_role_policy(RoleName="member-break-glass", PolicyArn=ADMIN)
    assert counted.calls == SETUP_CALLS, f"setup made {counted.calls} calls, SETUP_CALLS says {SETUP_CALLS}"
    return {
        name: {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        for name, key in keys.items()
    }


Enforcing = tuple[MotoServer, dict[str, dict[str, str]]]


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Enforcing]:
    server = MotoServer(env={"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS)})
    server.start(tmp_path_factory.mktemp("moto-auth") / "moto.log")
    try:
        yield server, _setup(server.endpoint)
    finally:
        server.stop()


def _audit(enforcing: Enforcing, user: str, *args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    server, keys = enforcing
    proc = audit(server.endpoint, "--format", "json", *args, cwd=cwd, env=keys[user])
    return proc, json.loads(proc.stdout) if proc.stdout else None


def test_iam_is_enforced_after_the_setup(enforcing: Enforcing) -> None:
    server, keys = enforcing
    auditor = client(session(server.endpoint, keys["auditor"]), "iam", server.endpoint)
    with pytest.raises(ClientError) as denied:
        auditor.create_role(RoleName="not-allowed", AssumeRolePolicyDocument=trust(RUNNER))
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    stranger = client(session(server.endpoint), "iam", server.endpoint)
    with pytest.raises(ClientError) as unknown:
        stranger.list_roles()
    assert unknown.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_the_auditor_policy_is_enough_for_the_callers_account(enforcing: Enforcing, tmp_path: Path) -> None:
    proc, report = _audit(enforcing, "auditor", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    roles = by_role(report)
    assert set(roles) == {"admin-break-glass", "ops-support"}
    assert "BG001" in roles["admin-break-glass"] and "BG001" not in roles["ops-support"]
    assert report["errors"] == []


def test_the_auditor_policy_is_enough_for_an_organization(enforcing: Enforcing, tmp_path: Path) -> None:
    proc, report = _audit(enforcing, "auditor", "--organization", "--assume-role", AUDITOR, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert [d["path"] for d in report["documents"]] == [f"aws://{DEFAULT_ACCOUNT}"]
    assert set(by_role(report)) == {"admin-break-glass", "ops-support"}


def test_an_account_whose_role_lacks_a_permission_fails_alone(enforcing: Enforcing, tmp_path: Path) -> None:
    accounts = f"{DEFAULT_ACCOUNT},{MEMBER},{LOCKED}"
    proc, report = _audit(enforcing, "auditor", "--accounts", accounts, "--assume-role", AUDITOR, cwd=tmp_path)
    assert proc.returncode == 2
    assert {d["path"] for d in report["documents"]} == {f"aws://{DEFAULT_ACCOUNT}", f"aws://{MEMBER}"}
    assert "BG001" in by_role(report)["member-break-glass"]
    (error,) = report["errors"]
    assert error["path"] == f"aws://{LOCKED}"
    assert error["message"].startswith("access denied: iam:ListRoles: "), error
    assert f"aws://{LOCKED}: error: access denied: iam:ListRoles" in proc.stderr


# Roles named with --role-arn are read role by role (GetRole, their policies, GetPolicy...).
NAMED = tuple(
    arg
    for name in ("admin-break-glass", "ops-support")
    for arg in ("--role-arn", f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/{name}")
)


@pytest.mark.parametrize("action", [a for a in ACTIONS if a != BULK])
def test_every_action_of_the_policy_is_needed(enforcing: Enforcing, tmp_path: Path, action: str) -> None:
    """Without any one action, the audit that needs it reports a clear access-denied naming it."""
    args = {
        "sts:AssumeRole": ("--accounts", MEMBER, "--assume-role", AUDITOR),
        **dict.fromkeys(
            [a for a in ACTIONS if a.startswith("organizations:")], ("--organization", "--assume-role", AUDITOR)
        ),
        "iam:ListRoles": (),
        "iam:ListRoleTags": (),  # its user lacks the bulk read too
    }.get(action, NAMED)
    proc, _ = _audit(enforcing, _user(action), *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"error: access denied: {action}: " in proc.stderr, proc.stderr


def test_without_the_bulk_read_the_roles_are_read_one_by_one(enforcing: Enforcing, tmp_path: Path) -> None:
    """iam:GetAccountAuthorizationDetails denied: the same roles and findings, through the per-role calls."""
    bulk, bulk_report = _audit(enforcing, "auditor", cwd=tmp_path)
    proc, report = _audit(enforcing, _user(BULK), cwd=tmp_path)
    assert proc.returncode == bulk.returncode == 1, proc.stderr
    assert report["errors"] == [] and by_role(report) == by_role(bulk_report)
