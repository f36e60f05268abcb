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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bglint import api
from differential_roles import ACCOUNT, PRINCIPAL, RUNNER, SIMULATOR, TOOLS, Outcome, compare

# Several thousand requests in CI: three seeds of 50 roles, 30 requests each.
SEEDS = (11, 12, 13)
ROLES = 50
PER_ROLE = 30


@pytest.fixture(scope="module")
def simulator() -> Path:
    if not (SIMULATOR / "package.json").is_file():
        pytest.fail(f"{SIMULATOR} is missing: run scripts/fetch_sarif_tools.sh (tools dir: BGLINT_TOOLS={TOOLS})")
    return SIMULATOR


def documented_exception(outcome: Outcome, policies: list[dict[str, Any]]) -> str | None:
    """The EXCEPTIONS.md case a disagreement falls under, or None."""
    for document in policies:
        for statement in document["Statement"]:
            not_resource = statement.get("NotResource")
            entries = [not_resource] if isinstance(not_resource, str) else not_resource or []
            if any(e.startswith("arn:") and e.count(":") < 5 for e in entries):
                return "short-arn-notresource"
    return None


def role_documents(workdir: Path, role: str) -> list[dict[str, Any]]:
    """Every policy document of a generated role (inline, attached, managed in the template, boundary)."""
    resources: dict[str, Any] = {}
    for path in workdir.glob("roles-*.json"):
        resources.update(json.loads(path.read_text(encoding="utf-8"))["Resources"])
    docs = [
        r["Properties"]["PolicyDocument"]
        for name, r in resources.items()
        if name.startswith(role) and name[len(role) :][:1].isalpha() and "PolicyDocument" in r["Properties"]
    ]
    return docs + [p["PolicyDocument"] for p in resources[role]["Properties"].get("Policies", [])]


def unexplained(outcomes: list[Outcome], workdir: Path, wrong: Callable[[Outcome], bool]) -> list[Outcome]:
    return [
        o for o in outcomes if wrong(o) and documented_exception(o, role_documents(workdir, o.request.role)) is None
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_answer_matches_the_simulator(seed: int, simulator: Path, tmp_path: Path) -> None:
    outcomes = compare(tmp_path, seed, ROLES, PER_ROLE)
    assert len(outcomes) == ROLES * PER_ROLE
    errors = [o for o in outcomes if o.simulator == "error"]
    assert not errors, f"the simulator refused {len(errors)} requests, e.g. {errors[0].error}"
    missed = unexplained(outcomes, tmp_path, lambda o: not o.agrees)
    assert not missed, "\n".join(
        f"{o.request.role} {o.request.action} {o.request.resource}: simulator {o.simulator}, bglint {o.exact}"
        for o in missed[:10]
    )
    # Both directions occur: the generator is not trivially all-deny or all-allow.
    assert sum(o.exact for o in outcomes) > len(outcomes) // 10
    assert sum(not o.exact for o in outcomes) > len(outcomes) // 10


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_without_a_request_are_sound(seed: int, simulator: Path, tmp_path: Path) -> None:
    """Without a request context bglint answers "for some request": whatever the simulator
    allows, bglint must allow too (what the rules compute with may over-approximate, never miss)."""
    outcomes = compare(tmp_path, seed + 100, ROLES // 2, PER_ROLE)
    missed = unexplained(outcomes, tmp_path, lambda o: o.simulator == "Allowed" and not o.some_request)
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
