"""Auditing many accounts: bulk reads, offline dumps (--from), shards (--shard) and `bglint merge`.

A real moto server with several accounts, each entered through sts:AssumeRole as `--assume-role`
does; the CLI runs in a subprocess. A proxy counts every request and denies one account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aws_support import (
    ADMIN,
    READ_ONLY,
    RUNNER,
    TAG_SCOPED,
    FaultProxy,
    MotoServer,
    audit,
    bglint,
    by_role,
    client,
    document,
    fault_proxy,
    into_account,
    moto_with,
    trust,
)

AUDITOR = "BglintAuditor"
ACCOUNTS = [f"{n:012d}" for n in (100000000001, 100000000002, 100000000003, 100000000004, 100000000005)]
DENIED = "100000000006"
ROLES_PER_ACCOUNT = 40  # of which 4 are break-glass
ALL = ",".join([*ACCOUNTS, DENIED])


def _setup(endpoint: str) -> None:
    for number, account in enumerate([*ACCOUNTS, DENIED]):
        iam = client(into_account(endpoint, account), "iam", endpoint)
        iam.create_role(RoleName=AUDITOR, AssumeRolePolicyDocument=trust("arn:aws:iam::123456789012:root"))
        boundary = iam.create_policy(PolicyName="install-boundary", PolicyDocument=document(TAG_SCOPED))
        iam.create_role(RoleName="admin-break-glass", AssumeRolePolicyDocument=trust(RUNNER), MaxSessionDuration=7200)
        iam.attach_role_policy(RoleName="admin-break-glass", PolicyArn=ADMIN)
        iam.create_role(
            RoleName="ops-support",
            AssumeRolePolicyDocument=trust(RUNNER, conditions={"StringEquals": {"sts:ExternalId": "inst123"}}),
            PermissionsBoundary=boundary["Policy"]["Arn"],
            Tags=[{"Key": "break-glass", "Value": "true"}],
        )
        iam.put_role_policy(RoleName="ops-support", PolicyName="restart", PolicyDocument=document(TAG_SCOPED))
        iam.attach_role_policy(RoleName="ops-support", PolicyArn=boundary["Policy"]["Arn"])
        iam.create_role(RoleName="read-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
        iam.attach_role_policy(RoleName="read-break-glass", PolicyArn=READ_ONLY)
        if number % 2:  # half the accounts: a role with a policy bglint has not pinned
            iam.create_role(RoleName="billing-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
            iam.attach_role_policy(
                RoleName="billing-break-glass", PolicyArn="arn:aws:iam::aws:policy/job-function/Billing"
            )
        for index in range(ROLES_PER_ACCOUNT - 4 + number % 2):
            iam.create_role(RoleName=f"app-{index:03d}", AssumeRolePolicyDocument=trust(RUNNER))
    role_arn = f"arn:aws:iam::{ALARMED}:role/admin-break-glass"
    _alarm(endpoint, ALARMED, {"break-glass-used": (_assume_role(role_arn), True)})
    # Patterns as EventBridge matches them: one names no AssumeRole yet takes every ops-* role's (a
    # prefix); the others name read-break-glass but have no target, or match another event.
    ops = {
        "source": ["aws.sts"],
        "detail": {"requestParameters": {"roleArn": [{"prefix": f"arn:aws:iam::{BROAD}:role/ops-"}]}},
    }
    read = _assume_role(f"arn:aws:iam::{BROAD}:role/read-break-glass")
    other = {"source": ["aws.signin"], "detail": {"eventName": ["ConsoleLogin"]}}
    rules = {"ops-roles-used": (ops, True), "read-used": (read, False), "console-login": (other, True)}
    _alarm(endpoint, BROAD, rules)


ALARMED = ACCOUNTS[2]  # a multi-region trail, and a rule on admin-break-glass's AssumeRole
BROAD = ACCOUNTS[3]  # a multi-region trail, and rules that only EventBridge's matching tells apart


def _assume_role(role_arn: str) -> dict[str, Any]:
    return {
        "source": ["aws.sts"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventName": ["AssumeRole"], "requestParameters": {"roleArn": [role_arn]}},
    }


def _alarm(endpoint: str, account: str, rules: dict[str, tuple[dict[str, Any], bool]]) -> None:
    """A multi-region trail in `account`, and the rules (name -> (pattern, whether it has a target))."""
    sess = into_account(endpoint, account)
    client(sess, "s3", endpoint).create_bucket(Bucket=f"trail-logs-{account}")  # bucket names are global
    trails = client(sess, "cloudtrail", endpoint)
    trails.create_trail(Name="all", S3BucketName=f"trail-logs-{account}", IsMultiRegionTrail=True)
    events = client(sess, "events", endpoint)
    for name, (pattern, target) in rules.items():
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        if target:
            events.put_targets(Rule=name, Targets=[{"Id": "page", "Arn": "arn:aws:sns:us-east-1:1:oncall"}])


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_with(tmp_path_factory.mktemp("moto") / "moto.log", _setup) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(moto: MotoServer) -> Iterator[tuple[FaultProxy, str]]:
    counting = FaultProxy(int(moto.port), deny_accounts=(DENIED,))
    with fault_proxy(counting) as endpoint:
        yield counting, endpoint


def _json(proc: Any) -> dict[str, Any]:
    assert proc.stdout, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


# -- bulk reads ---------------------------------------------------------------------------


@pytest.mark.slow
def test_an_account_is_read_in_a_few_calls_whatever_its_number_of_roles(
    proxy: tuple[FaultProxy, str], tmp_path: Path
) -> None:
    counting, endpoint = proxy
    before = counting.requests
    proc = audit(endpoint, "--accounts", ACCOUNTS[0], "--assume-role", AUDITOR, "--format", "json", cwd=tmp_path)
    calls = counting.requests - before
    assert proc.returncode == 1, proc.stderr
    # sts:GetCallerIdentity once per run; per account sts:AssumeRole, one page of
    # GetAccountAuthorizationDetails (1000 items), one of ListRoles, cloudtrail:DescribeTrails and
    # events:ListRules (no rule names AssumeRole). AdministratorAccess and ReadOnlyAccess come
    # from the pinned copy.
    assert calls == 1 + 5, calls
    assert set(by_role(_json(proc))) == {"admin-break-glass", "ops-support", "read-break-glass"}


@pytest.mark.slow
def test_bulk_reads_give_the_same_roles_as_reading_role_by_role(moto: MotoServer, tmp_path: Path) -> None:
    """--role-arn reads each role with GetRole & co.: the model and the findings must be the same."""
    account = ACCOUNTS[1]
    names = ("admin-break-glass", "billing-break-glass", "ops-support", "read-break-glass")
    arns = [a for name in names for a in ("--role-arn", f"arn:aws:iam::{account}:role/{name}")]
    common = ("--assume-role", AUDITOR, "--format", "json")
    bulk = _json(audit(moto.endpoint, "--accounts", account, *common, cwd=tmp_path))
    single = _json(audit(moto.endpoint, *arns, *common, cwd=tmp_path))
    assert [r["name"] for r in bulk["documents"][0]["roles"]] == sorted(names)
    for report in (bulk, single):
        for role in report["documents"][0]["roles"]:
            role["break_glass_reason"] = ""  # by name or tag here, "listed by --role-arn" there
            for policy in role["policies"]:  # the per-role path names the version it read
                policy["file"] = policy["file"].split(" (")[0]
    assert bulk["documents"] == single["documents"]
    # Messages may count actions differently: the bulk path takes AWS-managed documents from
    # bglint's pinned copy, the per-role path from the account (moto's newer ReadOnlyAccess).
    assert [(f["rule"], f["role"]) for f in bulk["findings"]] == [(f["rule"], f["role"]) for f in single["findings"]]
    assert "BG023" in by_role(bulk)["admin-break-glass"]  # MaxSessionDuration 2 h, from ListRoles


# -- offline dumps ----------------------------------------------------------------------


def _dump(endpoint: str, account: str) -> dict[str, Any]:
    """What `aws iam get-account-authorization-details` prints: every list, dates as text."""
    iam = client(into_account(endpoint, account), "iam", endpoint)
    found: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key in found:
            found[key] += page.get(key, [])
    return json.loads(json.dumps(found, default=str))


@pytest.mark.slow
def test_saved_dumps_are_judged_offline_as_the_live_accounts(moto: MotoServer, tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    for account in ACCOUNTS[:3]:
        (dumps / f"{account}.json").write_text(json.dumps(_dump(moto.endpoint, account), indent=4))
    live = _json(
        audit(
            moto.endpoint,
            "--accounts",
            ",".join(ACCOUNTS[:3]),
            "--assume-role",
            AUDITOR,
            "--format",
            "json",
            cwd=tmp_path,
        )
    )
    offline_proc = audit("http://127.0.0.1:9", "--from", dumps, "--format", "json", cwd=tmp_path)  # no AWS reachable
    offline = _json(offline_proc)
    assert offline_proc.returncode == 1, offline_proc.stderr
    assert [d["path"] for d in offline["documents"]] == [f"aws://{a}" for a in ACCOUNTS[:3]]
    # A CLI dump has no MaxSessionDuration (BG023's session check) and no alarms (BG034).
    assert _judged_from_iam(offline, "MaxSessionDuration") == _judged_from_iam(live, "MaxSessionDuration")


@pytest.mark.slow
def test_a_bad_dump_is_one_error_and_the_others_are_judged(moto: MotoServer, tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / f"{ACCOUNTS[0]}.json").write_text(json.dumps(_dump(moto.endpoint, ACCOUNTS[0])))
    (dumps / f"{ACCOUNTS[1]}.json").write_text('{"RoleDetailList": [\n  {"RoleName": "x",}\n]}')
    (dumps / "notes.json").write_text('{"hello": 1}')
    (dumps / "deep.json").write_text('{"RoleDetailList": ' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = audit("http://127.0.0.1:9", "--from", dumps, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2
    report = _json(proc)
    assert [d["path"] for d in report["documents"]] == [f"aws://{ACCOUNTS[0]}"]
    assert re.search(rf"dumps/{ACCOUNTS[1]}\.json:2:\d+: error: not JSON", proc.stderr), proc.stderr
    assert "notes.json: error: not a get-account-authorization-details dump" in proc.stderr
    assert "deep.json: error: not a dump: JSON nested too deeply" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_the_sarif_snapshots_are_dumps_that_judge_the_same(moto: MotoServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    accounts = ("--accounts", ",".join(ACCOUNTS[:2]), "--assume-role", AUDITOR)
    proc = audit(moto.endpoint, *accounts, "--format", "sarif", "-o", out / "audit.sarif", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.glob("bglint-audit-*.json")) == [f"bglint-audit-{a}.json" for a in ACCOUNTS[:2]]
    live = _json(audit(moto.endpoint, *accounts, "--format", "json", cwd=tmp_path))
    offline = _json(audit("http://127.0.0.1:9", "--from", out, "--format", "json", cwd=tmp_path))
    assert _judged_from_iam(offline) == _judged_from_iam(live)  # the snapshot keeps MaxSessionDuration


def _judged_from_iam(report: dict[str, Any], *unread: str) -> list[tuple[str, str, str]]:
    """The findings that come from IAM alone: not BG034 (CloudTrail and EventBridge are not in a
    dump), nor the findings whose message names a field in `unread`."""
    return [
        (f["rule"], f["path"], f["message"])
        for f in report["findings"]
        if f["rule"] != "BG034" and not any(field in f["message"] for field in unread)
    ]


# -- shards and merge -------------------------------------------------------------------


def _run(endpoint: str, cwd: Path, fmt: str, out: Path, *extra: str) -> Any:
    args = ("--accounts", ALL, "--assume-role", AUDITOR, "--format", fmt, "-o", out, *extra)
    return audit(endpoint, *args, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_merged_shards_are_the_unsharded_report(proxy: tuple[FaultProxy, str], tmp_path: Path, fmt: str) -> None:
    _, endpoint = proxy
    (tmp_path / "out").mkdir()
    whole = _run(endpoint, tmp_path, fmt, tmp_path / "out" / f"audit.{fmt}")
    assert whole.returncode == 2 and f"aws://{DENIED}: error: access denied" in whole.stderr, whole.stderr
    shards = [tmp_path / "out" / f"shard-{i}.{fmt}" for i in (1, 2, 3)]
    for index, path in enumerate(shards, 1):
        _run(endpoint, tmp_path, fmt, path, "--shard", f"{index}/3")
    sizes = [len(json.loads(p.read_text()).get("documents", [])) for p in shards] if fmt == "json" else []
    assert fmt == "sarif" or (sum(sizes) == len(ACCOUNTS) and max(sizes) < len(ACCOUNTS))
    merged = tmp_path / "out" / f"merged.{fmt}"
    proc = _merge(tmp_path, *shards, "-o", merged)
    assert merged.read_bytes() == (tmp_path / "out" / f"audit.{fmt}").read_bytes()
    assert proc.returncode == 2 and f"no result for 1 accounts: {DENIED}" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_a_missing_shard_leaves_a_partial_report_naming_its_accounts(
    proxy: tuple[FaultProxy, str], tmp_path: Path
) -> None:
    _, endpoint = proxy
    shards = [tmp_path / f"shard-{i}.json" for i in (1, 2, 3)]
    for index, path in enumerate(shards, 1):
        _run(endpoint, tmp_path, "json", path, "--shard", f"{index}/3")
    from jsonschema import Draft202012Validator

    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json").read_text())
    for path in shards:  # a shard's report is a report, with its shard record
        assert not list(Draft202012Validator(schema).iter_errors(json.loads(path.read_text())))
    lost = json.loads(shards[1].read_text())["shard"]
    assert lost["accounts"] == sorted([*ACCOUNTS, DENIED])
    absent = lost["audited"] + lost["failed"]
    assert absent
    proc = _merge(tmp_path, shards[0], shards[2], "-o", tmp_path / "merged.json")
    assert proc.returncode == 2
    assert "merge: error: shard 2/3 is missing" in proc.stderr
    named = re.search(r"no result for \d+ accounts: (.*)", proc.stderr)
    assert named is not None, proc.stderr
    failed_elsewhere = [a for p in (shards[0], shards[2]) for a in json.loads(p.read_text())["shard"]["failed"]]
    assert set(named.group(1).split(", ")) == set(absent) | set(failed_elsewhere)
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert {d["path"].removeprefix("aws://") for d in merged["documents"]}.isdisjoint(absent)


def test_shard_and_merge_refuse_what_they_cannot_do(tmp_path: Path) -> None:
    proc = audit("http://127.0.0.1:9", "--shard", "1/2", cwd=tmp_path)
    assert proc.returncode == 2 and "--shard: error: shards a list of accounts" in proc.stderr
    proc = audit("http://127.0.0.1:9", "--accounts", ACCOUNTS[0], "--shard", "3/2", cwd=tmp_path)
    assert proc.returncode == 2 and "--shard wants I/N" in proc.stderr
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"format": "1", "findings": []}))
    proc = _merge(tmp_path, plain)
    assert proc.returncode == 2 and "not the report of a shard" in proc.stderr


def _merge(cwd: Path, *args: str | Path) -> Any:
    return bglint("merge", *args, cwd=cwd)


# -- standing access and drills, from IAM's record of the last use ------------------------


def _used_role(account: str, name: str, created: str, last_used: str) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": name,
        "Arn": f"arn:aws:iam::{account}:role/{name}",
        "CreateDate": created,
        "AssumeRolePolicyDocument": json.loads(trust(RUNNER)),
        "RolePolicyList": [{"PolicyName": "restart", "PolicyDocument": json.loads(document(TAG_SCOPED))}],
        "AttachedManagedPolicies": [],
        "Tags": [],
        "RoleLastUsed": {"LastUsedDate": last_used, "Region": "eu-west-1"} if last_used else {},
    }


def _usage_audit(tmp_path: Path, config: str) -> dict[str, set[str]]:
    import datetime as dt

    today = dt.datetime.now(dt.UTC)
    ago = lambda days: (today - dt.timedelta(days=days)).isoformat(timespec="seconds")  # noqa: E731
    account = "100000000042"
    roles = [
        _used_role(account, "idle-break-glass", ago(400), ago(200)),  # used once, long ago
        _used_role(account, "never-break-glass", ago(120), ""),  # never used, created long ago
        _used_role(account, "fresh-break-glass", ago(5), ""),  # just deployed for an incident
        _used_role(account, "drilled-break-glass", ago(400), ago(10)),  # used in the declared window
    ]
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / f"{account}.json").write_text(json.dumps({"RoleDetailList": roles, "Policies": []}))
    window = (today - dt.timedelta(days=11)).date(), (today - dt.timedelta(days=9)).date()
    (tmp_path / ".bglint.yaml").write_text(config.format(start=window[0], end=window[1]))
    proc = audit("http://127.0.0.1:9", "--from", "dumps", "--format", "json", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    return {role: rules & {"BG024", "BG031"} for role, rules in by_role(_json(proc)).items()}


def test_a_deployed_role_unused_past_the_window_is_standing_access(tmp_path: Path) -> None:
    found = _usage_audit(tmp_path, "standing-access-days: 30\n")
    assert found == {
        "idle-break-glass": {"BG024"},
        "never-break-glass": {"BG024"},
        "fresh-break-glass": set(),
        "drilled-break-glass": set(),
    }


def test_drills_report_untested_glass_and_undeclared_use(tmp_path: Path) -> None:
    config = (
        "standing-access-days: 1000\ndrills:\n  interval-days: 90\n  incidents:\n    - {{start: {start}, end: {end}}}\n"
    )
    found = _usage_audit(tmp_path, config)
    # idle: not used in 90 days, and its last use is in no window; never: untested for 120 days;
    # fresh: deployed 5 days ago, within the interval; drilled: used inside the declared window.
    assert found == {
        "idle-break-glass": {"BG031"},
        "never-break-glass": {"BG031"},
        "fresh-break-glass": set(),
        "drilled-break-glass": set(),
    }


@pytest.mark.slow
def test_use_of_a_break_glass_role_without_trail_and_rule_raises_no_alarm(moto: MotoServer, tmp_path: Path) -> None:
    accounts = ("--accounts", f"{ACCOUNTS[0]},{ALARMED},{BROAD}", "--assume-role", AUDITOR, "--format", "json")
    report = _json(audit(moto.endpoint, *accounts, cwd=tmp_path))
    found: dict[tuple[str, str], list[str]] = {}
    for finding in report["findings"]:
        if finding["rule"] == "BG034":
            found.setdefault((finding["path"].split(":")[4], finding["role"]), []).append(finding["message"])
    # No trail and no rule: two findings for each role.
    for role in ("admin-break-glass", "ops-support", "read-break-glass"):
        assert len(found[(ACCOUNTS[0], role)]) == 2, found
    # A multi-region trail and a rule naming admin-break-glass: only the others lack a rule.
    assert (ALARMED, "admin-break-glass") not in found
    (message,) = found[(ALARMED, "ops-support")]
    assert "no enabled EventBridge rule" in message
    # A prefix on roleArn takes ops-support; a rule without a target, or on ConsoleLogin, tells
    # nobody of the others' use.
    assert (BROAD, "ops-support") not in found
    for role in ("admin-break-glass", "read-break-glass"):
        (message,) = found[(BROAD, role)]
        assert "no enabled EventBridge rule" in message
