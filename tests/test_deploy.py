"""deploy/: the GitHub Actions matrix workflow, the Step Functions Distributed Map with its Lambda
handler, and the StackSet template for the auditor role, each validated as its service would.

The workflow against SchemaStore's GitHub workflow schema (vendored by check-jsonschema), the
state machine against the Amazon States Language schema cfn-lint ships, the template with
cfn-lint and bglint itself; the handler runs against a moto server and its dumps are judged
with `bglint audit --from`.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import validators

from aws_support import (
    ADMIN,
    AUDITOR_POLICY,
    DEFAULT_ACCOUNT,
    RUNNER,
    MotoServer,
    audit,
    client,
    into_account,
    moto_with,
    session,
)
from aws_support import trust as trust_policy

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def _workflow_schema() -> dict[str, Any]:
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "github-workflows.json"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def _states_schema() -> dict[str, Any]:
    import cfnlint

    path = Path(cfnlint.__file__).parent / "data" / "schemas" / "other" / "step_functions" / "statemachine.json"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def test_the_workflow_is_a_valid_github_workflow() -> None:
    workflow = yaml.safe_load((DEPLOY / "github-actions-audit.yml").read_text())
    workflow["on"] = workflow.pop(True)  # PyYAML reads YAML 1.1, where `on` is true; GitHub does not
    assert _errors(_workflow_schema(), workflow) == []
    broken = copy.deepcopy(workflow)
    broken["jobs"]["audit"]["strategy"]["matrix"] = "1..4"  # the schema catches a wrong shape
    assert _errors(_workflow_schema(), broken)
    shards = workflow["jobs"]["audit"]["strategy"]["matrix"]["shard"]
    run = next(step["run"] for step in workflow["jobs"]["audit"]["steps"] if "bglint audit" in step.get("run", ""))
    assert f"/{len(shards)}" in run and shards == list(range(1, len(shards) + 1))


@pytest.mark.slow
def test_the_state_machine_is_valid_amazon_states_language() -> None:
    machine = json.loads((DEPLOY / "stepfunctions" / "collect.asl.json").read_text())
    assert _errors(_states_schema(), machine) == []
    mapped = machine["States"]["CollectEachAccount"]
    assert mapped["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    broken = copy.deepcopy(machine)
    del broken["States"]["CollectEachAccount"]["ItemProcessor"]["StartAt"]
    assert _errors(_states_schema(), broken)


@pytest.mark.slow
def test_the_stackset_template_passes_cfn_lint_and_bglint_and_matches_the_auditor_policy(tmp_path: Path) -> None:
    template = DEPLOY / "auditor-stackset.yaml"
    lint = subprocess.run(["cfn-lint", str(template)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "bglint", "check", "--all-roles", "--fail-on", "error", str(template)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    loaded = yaml.load(template.read_text(), Loader=_CfnLoader)
    statements = loaded["Resources"]["BglintAuditor"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    wanted = [
        s
        for s in json.loads(AUDITOR_POLICY.read_text())["Statement"]
        if s["Action"] != "sts:AssumeRole" and not str(s["Action"]).count("organizations:")
    ]
    assert statements == wanted  # the member accounts' role reads what bglint audit reads there


class _CfnLoader(yaml.SafeLoader):
    """PyYAML with CloudFormation's short intrinsic tags kept as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


# -- the Lambda handler, against moto ----------------------------------------------------


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_with(tmp_path_factory.mktemp("moto-deploy") / "moto.log") as server:
        yield server


@pytest.mark.slow
def test_the_handler_collects_a_dump_that_bglint_judges_offline(moto: MotoServer, tmp_path: Path) -> None:
    member = "444455556666"
    iam = client(into_account(moto.endpoint, member), "iam", moto.endpoint)
    iam.create_role(
        RoleName="BglintAuditor", AssumeRolePolicyDocument=trust_policy(f"arn:aws:iam::{DEFAULT_ACCOUNT}:root")
    )
    iam.create_role(
        RoleName="admin-break-glass", AssumeRolePolicyDocument=trust_policy(RUNNER), MaxSessionDuration=7200
    )
    iam.attach_role_policy(RoleName="admin-break-glass", PolicyArn=ADMIN)
    client(session(moto.endpoint), "s3", moto.endpoint).create_bucket(Bucket="bglint-dumps")
    spec = importlib.util.spec_from_file_location("bglint_collect", DEPLOY / "stepfunctions" / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = dict(os.environ)
    os.environ.update(keys, AWS_ENDPOINT_URL=moto.endpoint)
    try:
        result = module.handler({"account": member, "bucket": "bglint-dumps", "prefix": "dumps/"})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert result == {"account": member, "key": f"dumps/{member}.json", "roles": 2}
    s3 = client(session(moto.endpoint), "s3", moto.endpoint)
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / f"{member}.json").write_bytes(s3.get_object(Bucket="bglint-dumps", Key=result["key"])["Body"].read())
    proc = audit("http://127.0.0.1:9", "--from", dumps, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    rules = {f["rule"] for f in report["findings"] if f["role"] == "admin-break-glass"}
    assert {"BG001", "BG023"} <= rules  # BG023: the 2 h MaxSessionDuration the handler added from ListRoles
