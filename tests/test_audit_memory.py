"""An organisation's audit holds one account at a time: its peak memory does not grow with the
number of accounts (the issue's budget: 500 accounts of 2,000 roles within 300 MB; measured by
`bench/audit_org.py`). Scaled down here: `bglint audit --from DIR` (the judgement of the live
path, without a server) on saved bulk reads of 1 and of 30 accounts, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_bglint_measured

pytestmark = pytest.mark.slow  # a few subprocesses judging ~30 MB of dumps

ROLES = 2000  # per account, of which BREAK_GLASS are break-glass (as in the budget)
BREAK_GLASS = 20
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
TEMPLATE = "100000000000"  # the account id of the dump every account's is a copy of


def _dump(account: str, roles: int, break_glass: int) -> dict[str, Any]:
    """What `aws iam get-account-authorization-details` prints for `roles` roles."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    listed = []
    for index in range(roles):
        chosen = index < break_glass
        name = f"team{index:04d}-break-glass" if chosen else f"app-{index:05d}"
        data = [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::data-{index}-{n}/*"}
            for n in range(8)
        ]
        listed.append(
            {
                "Path": "/",
                "RoleName": name,
                "RoleId": f"AROA{index:017d}",
                "Arn": f"arn:aws:iam::{account}:role/{name}",
                "CreateDate": "2026-01-01T00:00:00+00:00",
                "AssumeRolePolicyDocument": trust,
                "RolePolicyList": [] if chosen else [{"PolicyName": "data", "PolicyDocument": {"Statement": data}}],
                "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}]
                if chosen
                else [],
                "Tags": [],
                "RoleLastUsed": {},
            }
        )
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": listed, "Policies": []}


def _peak_mb(dumps: Path, cwd: Path, fmt: str = "json") -> tuple[float, Path]:
    """`bglint audit --from DUMPS --format FMT -o FILE`: the peak memory of its process, and FILE."""
    out = cwd / f"{dumps.name}.{fmt}"
    proc, peak = run_bglint_measured("audit", "--from", dumps, "--format", fmt, "-o", out, cwd=cwd)
    assert proc.returncode == 1, proc.stderr
    return peak, out


def _dumps(root: Path, accounts: int, roles: int, break_glass: int = BREAK_GLASS) -> Path:
    """`accounts` dumps of the same roles, each under its own account id."""
    root.mkdir()
    text = json.dumps(_dump(TEMPLATE, roles, break_glass))
    for number in range(accounts):
        account = f"{100000000001 + number:012d}"
        (root / f"{account}.json").write_text(text.replace(TEMPLATE, account), encoding="utf-8")
    return root


def test_peak_memory_does_not_grow_with_the_number_of_accounts(tmp_path: Path) -> None:
    small, _ = _peak_mb(_dumps(tmp_path / "small", 1, BREAK_GLASS), tmp_path)
    one, _ = _peak_mb(_dumps(tmp_path / "one", 1, ROLES), tmp_path)
    few, _ = _peak_mb(_dumps(tmp_path / "few", 10, ROLES), tmp_path)
    many, out = _peak_mb(_dumps(tmp_path / "many", 60, ROLES), tmp_path)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert len(report["documents"]) == 60 and len(report["findings"]) >= 60 * BREAK_GLASS
    # Reading and judging one account of 2,000 roles costs `account` MB at its peak. Were an
    # account's dump or roles held until the end, 50 more accounts would cost 50 times that; what
    # is kept of each (its break-glass roles and findings, ~0.1 MB) costs 50 accounts less than one
    # account's read. (The first accounts also fill caches: 10 accounts are the base.)
    account = one - small
    assert account > 5, (small, one)
    assert many - few < account, (small, one, few, many)


def test_the_report_is_written_without_being_held_whole(tmp_path: Path) -> None:
    """30,000 findings: the JSON report (~30 MB) costs no more memory than the text one, which is
    a tenth of its size: it is made and written finding by finding, never whole."""
    dumps = _dumps(tmp_path / "dumps", 30, 200, break_glass=200)
    text_peak, _ = _peak_mb(dumps, tmp_path, "text")
    json_peak, out = _peak_mb(dumps, tmp_path, "json")
    report_mb = out.stat().st_size / 2**20
    assert len(json.loads(out.read_text(encoding="utf-8"))["findings"]) >= 30_000
    assert json_peak - text_peak < report_mb / 4, (text_peak, json_peak, report_mb)
