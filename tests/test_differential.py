"""bglint's permission API against an independent IAM simulator, request by request.

Seeded random roles (tests/differential_roles.py) are written as CloudFormation templates,
loaded with `bglint.api`, and every request is answered by bglint and by
@cloud-copilot/iam-simulate (installed by scripts/fetch_sarif_tools.sh). Every answer must
agree, except the cases tests/differential/EXCEPTIONS.md documents from AWS's own
documentation. A longer run: scripts/differential_long.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bglint import api
from differential_roles import ACCOUNT, PRINCIPAL, RUNNER, SIMULATOR, TOOLS, Outcome, compare, documented_exception

# Several thousand requests in CI: three seeds of 50 roles, 40 requests each; each request is
# compared twice (with its context, and without any).
SEEDS = (11, 12, 13)
ROLES = 50
PER_ROLE = 40


# Every test here runs the IAM simulator (node) in a subprocess.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulator() -> Path:
    if not (SIMULATOR / "package.json").is_file():
        pytest.fail(f"{SIMULATOR} is missing: run scripts/fetch_sarif_tools.sh (tools dir: BGLINT_TOOLS={TOOLS})")
    return SIMULATOR


@pytest.fixture(scope="module", params=SEEDS)
def compared(request: pytest.FixtureRequest, simulator: Path, tmp_path_factory: pytest.TempPathFactory) -> Compared:
    workdir = tmp_path_factory.mktemp(f"differential-{request.param}")
    return workdir, compare(workdir, request.param, ROLES, PER_ROLE)


Compared = tuple[Path, list[Outcome]]


def unexplained(outcomes: list[Outcome], workdir: Path, without_context: bool = False) -> list[Outcome]:
    """Disagreements no EXCEPTIONS.md case explains."""
    if without_context:  # bglint must allow at least what the simulator allows
        wrong = [o for o in outcomes if o.simulator == "Allowed" and not o.some_request]
    else:
        wrong = [o for o in outcomes if not o.agrees]
    return [o for o in wrong if documented_exception(o, workdir, without_context) is None]


def test_every_answer_matches_the_simulator(compared: Compared) -> None:
    workdir, outcomes = compared
    assert len(outcomes) == ROLES * PER_ROLE
    errors = [o for o in outcomes if o.simulator == "error"]
    assert not errors, f"the simulator refused {len(errors)} requests, e.g. {errors[0].error}"
    missed = unexplained(outcomes, workdir)
    assert not missed, "\n".join(
        f"{o.request.role} {o.request.action} {o.request.resource}: simulator {o.simulator}, bglint {o.exact}"
        for o in missed[:10]
    )
    # Both directions occur: the generator is not trivially all-deny or all-allow.
    assert sum(o.exact for o in outcomes) > len(outcomes) // 10
    assert sum(not o.exact for o in outcomes) > len(outcomes) // 10


def test_answers_without_a_request_are_sound(compared: Compared) -> None:
    """Without a request context bglint answers "for some request": whatever the simulator
    allows, bglint must allow too (what the rules compute with may over-approximate, never miss)."""
    workdir, outcomes = compared
    missed = unexplained(outcomes, workdir, without_context=True)
    assert not missed, [(o.request.role, o.request.action, o.request.resource) for o in missed[:10]]


def _simulate_one(policy: dict[str, object], action: str, resource: str, context: dict[str, str]) -> str:
    batch = {
        "simulations": [
            {
                "identity": [{"name": "p", "policy": policy}],
                "boundary": None,
                "principal": PRINCIPAL,
                "action": action,
                "resource": resource,
                "account": ACCOUNT,
                "context": context,
                "resourcePolicy": None,
            }
        ]
    }
    done = subprocess.run(["node", str(RUNNER)], input=json.dumps(batch), capture_output=True, text=True, check=True)
    result: str = json.loads(done.stdout)["results"][0]["result"]
    return result


def _bglint_one(tmp_path: Path, policy: dict[str, object], action: str, resource: str, context: dict[str, str]) -> bool:
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                    "Policies": [{"PolicyName": "p", "PolicyDocument": policy}],
                },
            }
        }
    }
    path = tmp_path / "role.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return api.load([path], all_roles=True).role("Role").can(action, resource, context).allowed


def test_exception_short_arn_notresource(simulator: Path, tmp_path: Path) -> None:
    """EXCEPTIONS.md 1: NotResource arn:aws:s3:* names S3 resources only; the SQS queue is granted."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:*"}]}
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    assert _simulate_one(policy, "sqs:SendMessage", queue, {}) == "ImplicitlyDenied"
    assert _bglint_one(tmp_path, policy, "sqs:SendMessage", queue, {})
    assert not _bglint_one(tmp_path, policy, "s3:ListBucket", "arn:aws:s3:::b", {})


def test_exception_ip_zero_prefix(simulator: Path, tmp_path: Path) -> None:
    """EXCEPTIONS.md 2: 0.0.0.0/0 contains every IPv4 address, so NotIpAddress on it never holds."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ec2:DescribeInstances",
                "Resource": "*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
            }
        ],
    }
    context = {"aws:SourceIp": "10.1.2.3"}
    assert _simulate_one(policy, "ec2:DescribeInstances", "*", context) == "Allowed"
    assert not _bglint_one(tmp_path, policy, "ec2:DescribeInstances", "*", context)
