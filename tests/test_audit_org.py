"""`bglint audit --organization` with the organisation's control policies (SCPs, RCPs).

A real moto server holds the organisation (a root, an OU, accounts, an SCP on the OU); the CLI
runs in a subprocess. The control-policy semantics bglint uses are held to an independent
simulator, @cloud-copilot/iam-simulate (test-time only), on a grid of principals, actions and
policies.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aws_support import ADMIN, DEFAULT_ACCOUNT, RUNNER, MotoServer, audit, client, into_account, session, trust

AUDITOR = "BglintAuditor"
EXEMPT_PATTERN = "arn:aws:iam::*:role/*BreakGlass*"
GUARD = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OnlyBreakGlass",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": EXEMPT_PATTERN}},
        }
    ],
}


def _setup(endpoint: str) -> dict[str, str]:
    organizations = client(session(endpoint), "organizations", endpoint)
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    ou = organizations.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    guarded = organizations.create_account(AccountName="guarded", Email="g@example.com")["CreateAccountStatus"]
    free = organizations.create_account(AccountName="free", Email="f@example.com")["CreateAccountStatus"]
    organizations.move_account(AccountId=guarded["AccountId"], SourceParentId=root, DestinationParentId=ou)
    policy = organizations.create_policy(
        Content=json.dumps(GUARD), Description="only break-glass", Name="guard", Type="SERVICE_CONTROL_POLICY"
    )
    organizations.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=ou)
    for account in (DEFAULT_ACCOUNT, guarded["AccountId"], free["AccountId"]):
        iam = client(into_account(endpoint, account), "iam", endpoint)
        iam.create_role(RoleName=AUDITOR, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"))
        for name in ("OpsBreakGlass", "ops-break-glass"):  # the pattern is case-sensitive: only the first is exempt
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(RUNNER))
            iam.attach_role_policy(RoleName=name, PolicyArn=ADMIN)
    return {"guarded": guarded["AccountId"], "free": free["AccountId"]}


@pytest.fixture(scope="module")
def organization(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MotoServer, dict[str, str]]]:
    server = MotoServer().start(tmp_path_factory.mktemp("moto-org") / "moto.log")
    try:
        yield server, _setup(server.endpoint)
    finally:
        server.stop()


@pytest.mark.slow
def test_scps_on_the_accounts_path_block_a_role_and_expose_a_claimable_exemption(
    organization: tuple[MotoServer, dict[str, str]], tmp_path: Path
) -> None:
    server, accounts = organization
    proc = audit(server.endpoint, "--organization", "--assume-role", AUDITOR, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    found: dict[tuple[str, str], set[str]] = {}
    for finding in report["findings"]:
        account = finding["path"].split(":")[4] if finding["path"].startswith("arn:") else finding["path"][6:]
        found.setdefault((account, finding["role"]), set()).add(finding["rule"])
    guarded, free = accounts["guarded"], accounts["free"]
    # The SCP on the OU denies everything to principals whose ARN does not match the pattern.
    assert "BG032" in found[(guarded, "ops-break-glass")]
    assert "BG001" not in found[(guarded, "ops-break-glass")]  # its AdministratorAccess is denied: not admin there
    assert "BG032" not in found[(guarded, "OpsBreakGlass")]
    assert "BG001" in found[(guarded, "OpsBreakGlass")]
    assert "BG001" in found[(free, "ops-break-glass")]
    assert "BG033" in found[(guarded, "")]
    for account in (free, DEFAULT_ACCOUNT):  # not under the OU: nothing blocks them
        assert "BG032" not in found.get((account, "ops-break-glass"), set())
        assert "BG033" not in found.get((account, ""), set())
    (message,) = [f["message"] for f in report["findings"] if f["rule"] == "BG033"]
    assert EXEMPT_PATTERN in message and "guard" in message


# -- the semantics, against an independent simulator --------------------------------------

TOOLS = Path(os.environ.get("BGLINT_TOOLS", Path(__file__).resolve().parents[1] / ".tools"))
SIMULATOR = TOOLS / "node_modules" / "@cloud-copilot" / "iam-simulate"
ACCOUNT = "111122223333"
PRINCIPALS = [
    f"arn:aws:iam::{ACCOUNT}:role/OpsBreakGlass",
    f"arn:aws:iam::{ACCOUNT}:role/ops-break-glass",
    f"arn:aws:iam::{ACCOUNT}:role/team/AppBreakGlassCopy",
    f"arn:aws:iam::{ACCOUNT}:role/app",
]
ACTIONS = {
    "s3:GetObject": "arn:aws:s3:::bucket/key",
    "iam:CreateRole": f"arn:aws:iam::{ACCOUNT}:role/new",
    "ec2:RunInstances": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc",
}
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# Each: the policies of the account's path, root first (the root and account keep FullAWSAccess).
CASES = {
    "pattern exemption": [[FULL], [FULL, GUARD], [FULL]],
    "pattern exemption, no allow on the OU": [[FULL], [GUARD], [FULL]],
    "exact exemption": [
        [FULL],
        [
            FULL,
            _doc(
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": PRINCIPALS[0]}},
                }
            ),
        ],
        [FULL],
    ],
    "allow list on the OU": [[FULL], [_doc({"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"})], [FULL]],
    "nothing at the account": [[FULL], [FULL], []],
    "deny one service, NotAction allow": [
        [FULL],
        [_doc({"Effect": "Deny", "Action": "iam:*", "Resource": "*"})],
        [_doc({"Effect": "Allow", "NotAction": "ec2:*", "Resource": "*"})],
    ],
    "deny unless exempt by like, two values": [
        [FULL],
        [
            _doc(
                {
                    "Effect": "Deny",
                    "Action": ["s3:*", "iam:Create*"],
                    "Resource": "*",
                    "Condition": {"StringNotLike": {"aws:PrincipalArn": ["*:role/app", "*:role/team/*"]}},
                }
            )
        ],
        [FULL],
    ],
}


def _layers(levels: list[list[dict[str, Any]]]) -> tuple[Any, ...]:
    from bglint.load.policy import PolicyReader
    from bglint.model import Location, Policy, PolicyOrigin
    from bglint.model.audit import ControlLayer

    layers = []
    for number, policies in enumerate(levels):
        built = []
        for index, document in enumerate(policies):
            reader = PolicyReader("scp", lambda _pos, logical: Location("scp", 0, 0, logical), action_locations=False)
            built.append(Policy(f"p{index}", PolicyOrigin.ATTACHED, Location("scp"), reader.statements(document, "p")))
        layers.append(ControlLayer(f"level{number}", "scp", tuple(built)))
    return tuple(layers)


@pytest.mark.slow
def test_control_policy_semantics_agree_with_iam_simulate() -> None:
    from bglint.iam.controls import Control, control_decision

    runner = Path(__file__).parent / "differential" / "controls.js"
    if not SIMULATOR.is_dir():
        pytest.fail(f"{SIMULATOR} is missing: install @cloud-copilot/iam-simulate (scripts/fetch_sarif_tools.sh)")
    grid = list(itertools.product(CASES, PRINCIPALS, ACTIONS))
    requests = [
        {
            "principal": principal,
            "action": action,
            "resource": ACTIONS[action],
            "account": ACCOUNT,
            "scps": [
                {
                    "orgIdentifier": f"level{n}",
                    "policies": [{"name": f"p{i}", "policy": p} for i, p in enumerate(level)],
                }
                for n, level in enumerate(CASES[case])
            ],
        }
        for case, principal, action in grid
    ]
    proc = subprocess.run(
        ["node", str(runner)],
        input=json.dumps({"requests": requests}),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BGLINT_TOOLS": str(TOOLS)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    expected = json.loads(proc.stdout)["results"]
    name = {Control.ALLOWED: "Allowed", Control.DENIED: "ExplicitlyDenied", Control.NOT_ALLOWED: "ImplicitlyDenied"}
    disagreements = []
    verdicts = set()
    for (case, principal, action), oracle in zip(grid, expected, strict=True):
        ours, _ = control_decision(_layers(CASES[case]), action, principal)
        verdicts.add(oracle)
        if name[ours] != oracle:
            disagreements.append(f"{case} / {principal} / {action}: bglint {name[ours]}, iam-simulate {oracle}")
    assert not disagreements, "\n".join(disagreements)
    assert verdicts == {"Allowed", "ExplicitlyDenied", "ImplicitlyDenied"}  # the grid exercises every outcome
