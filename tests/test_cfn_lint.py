"""`bglint check --cfn-lint`: cfn-lint's own template validation, in the same run and reports.

The expectations come from CloudFormation's resource specification (an AWS::IAM::Role has no
`Colour` property; an AWS::SNS::Topic's name is `TopicName`), which cfn-lint enforces as E3002.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from conftest import run_bglint, write_tree
from test_sarif import SCHEMA, multitool_errors

pytestmark = pytest.mark.slow  # the real CLI, and cfn-lint takes seconds to load its rules

REPO = Path(__file__).resolve().parents[1]
DEPS = REPO / "scripts" / "deps.py"

ROLE = """\
  BreakglassReadOnly:
    Type: AWS::IAM::Role
{metadata}    Properties:
      MaxSessionDuration: 3600
{extra}      PermissionsBoundary: arn:aws:iam::aws:policy/ReadOnlyAccess
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: arn:aws:iam::111122223333:role/ops
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read-logs
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: logs:GetLogEvents
                Resource: "*"
                Condition:
                  StringEquals:
                    aws:ResourceTag/install.nuon.co/id: inst0123456789abcdefghijkl
"""


def template(extra: str = "", topic_key: str = "TopicName", metadata: str = "") -> str:
    return (
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
        + ROLE.format(extra=extra, metadata=metadata)
        + f"  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      {topic_key}: alerts\n"
    )


BAD = template(extra="      Colour: blue\n", topic_key="TopicNam")  # one unknown property each
GOOD = template()


def expected(text: str, key: str) -> str:
    """The start of cfn-lint's line about the unknown property `key` of bad.yaml's `text`."""
    line = next(number for number, content in enumerate(text.splitlines(), 1) if content.strip().startswith(key))
    return f"bad.yaml:{line}:7: CFNLINT-E3002 error Additional properties are not allowed"


def cfn_lint_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if "CFNLINT-" in line]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One run, three reports: text on stdout, JSON and SARIF in files."""
    root = write_tree(tmp_path_factory.mktemp("cfn"), {"bad.yaml": BAD, "good.yaml": GOOD})
    result = run_bglint(
        "check", "--cfn-lint", "bad.yaml", "good.yaml", "--format", "text", "--format", "json:r.json",
        "--format", "sarif:r.sarif", cwd=root,
    )  # fmt: skip
    return result, root


def test_cfn_lint_errors_are_reported_in_text(reports: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, root = reports
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    lines = cfn_lint_lines(result.stdout)
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith(expected(BAD, "Colour")) and lines[1].startswith(expected(BAD, "TopicNam"))
    # The one-line text may drop cfn-lint's aside to fit 120 columns; the report keeps it whole.
    messages = [f["message"] for f in json.loads((root / "r.json").read_text())["findings"]]
    assert any("'TopicNam' was unexpected" in m and m.endswith("Did you mean 'TopicName'?)") for m in messages)
    assert "good.yaml" not in result.stdout  # a valid template: nothing from either tool


def test_cfn_lint_findings_in_json_name_the_role_and_a_logical_path(
    reports: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, root = reports
    data = json.loads((root / "r.json").read_text(encoding="utf-8"))
    schema = json.loads((REPO / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(schema).iter_errors(data))
    found = [(f["rule"], f["role"], f["logical_path"], f["severity"]) for f in data["findings"]]
    assert found == [
        ("CFNLINT-E3002", "BreakglassReadOnly", "Resources/BreakglassReadOnly/Properties/Colour", "error"),
        ("CFNLINT-E3002", "", "Resources/Topic/Properties/TopicNam", "error"),
    ]
    assert all(f["help"].startswith("https://") for f in data["findings"] if f["rule"].startswith("CFNLINT-"))


def test_cfn_lint_findings_in_sarif_validate(
    reports: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    _, root = reports
    log = json.loads((root / "r.sarif").read_text(encoding="utf-8"))
    validator = Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert not [error.message for error in validator.iter_errors(log)]
    assert not multitool_errors(root / "r.sarif", tmp_path)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = [r for r in run["results"] if r["ruleId"] == "CFNLINT-E3002"]
    assert len(results) == 2
    rule = rules[results[0]["ruleIndex"]]
    assert rule["id"] == "CFNLINT-E3002" and rule["helpUri"].startswith("https://")
    assert "security-severity" not in rule["properties"]  # template correctness, not a security alert


def test_without_the_option_cfn_lint_is_neither_run_nor_imported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bad.yaml": BAD})
    assert cfn_lint_lines(run_bglint("check", "bad.yaml", cwd=tmp_path).stdout) == []
    program = (
        "import sys\nfrom bglint.cli.main import main\n"
        "try:\n    main(sys.argv[1:], prog_name='bglint')\nexcept SystemExit:\n    pass\n"
        "print('cfnlint' in sys.modules, file=sys.stderr)\n"
    )
    imported = [
        subprocess.run(
            [sys.executable, "-c", program, "check", *flags, "bad.yaml"],
            cwd=tmp_path, capture_output=True, text=True, check=False,
        ).stderr.splitlines()[-1]
        for flags in ((), ("--cfn-lint",))
    ]  # fmt: skip
    assert imported == ["False", "True"]


def test_without_cfn_lint_installed_the_option_is_one_error_line(tmp_path: Path) -> None:
    # cfn-lint made unimportable, as in a plain `pip install bglint`.
    write_tree(
        tmp_path,
        {
            "hide/sitecustomize.py": (
                "import sys\n\nclass Hide:\n    def find_spec(self, name, path=None, target=None):\n"
                "        if name.split('.')[0] == 'cfnlint':\n            raise ModuleNotFoundError(name)\n\n"
                "sys.meta_path.insert(0, Hide())\n"
            ),
            "bad.yaml": BAD,
        },
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "hide")}
    result = subprocess.run(
        [sys.executable, "-m", "bglint", "check", "--cfn-lint", "bad.yaml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "--cfn-lint: error: cfn-lint is not installed: pip install 'bglint[cfn-lint]'\n"
    assert result.stdout == ""


def test_config_suppressions_apply_to_cfn_lint_findings(tmp_path: Path) -> None:
    config = (
        "ignore:\n"
        "  - {rule: CFNLINT-E3002, reason: the topic's key is fixed in v2, path: bad.yaml}\n"
        "  - {rule: CFNLINT-W3005, reason: kept for the next check}\n"
    )
    write_tree(tmp_path, {"bad.yaml": BAD, ".bglint.yaml": config})
    result = run_bglint("check", "--cfn-lint", "bad.yaml", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # both suppressed; BG041 is a warning
    findings = json.loads(result.stdout)["findings"]
    suppressed = [(f["rule"], f["suppression"]["reason"]) for f in findings if f["suppression"]]
    assert suppressed == [("CFNLINT-E3002", "the topic's key is fixed in v2")] * 2
    unused = [(f["message"].split(".")[0], f["severity"]) for f in findings if f["rule"] == "BG041"]
    assert unused == [("suppression of CFNLINT-W3005 (config) matches no finding", "warning")]
    # Without --cfn-lint the cfn-lint suppressions cannot be judged: neither is reported unused.
    plain = json.loads(run_bglint("check", "bad.yaml", "--format", "json", cwd=tmp_path).stdout)
    assert [f["rule"] for f in plain["findings"] if f["rule"].startswith(("BG04", "CFNLINT-"))] == []


def test_a_suppression_on_the_role_covers_the_cfn_lint_finding_on_that_role_only(tmp_path: Path) -> None:
    metadata = (
        "    Metadata:\n      bglint:\n        ignore:\n"
        "          - {rule: CFNLINT-E3002, reason: Colour is read by our deploy tool}\n"
    )
    text = template(extra="      Colour: blue\n", topic_key="TopicNam", metadata=metadata)
    write_tree(tmp_path, {"bad.yaml": text})
    result = run_bglint("check", "--cfn-lint", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = cfn_lint_lines(result.stdout)
    assert len(lines) == 1 and lines[0].startswith(expected(text, "TopicNam")), result.stdout
    assert "1 suppressed" in result.stdout


def test_a_baseline_made_with_cfn_lint_covers_its_findings(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bad.yaml": BAD})
    made = run_bglint("baseline", "create", "--cfn-lint", "bad.yaml", "-o", "base.json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    entries = json.loads((tmp_path / "base.json").read_text(encoding="utf-8"))["findings"]
    assert sorted(e["rule"] for e in entries if e["rule"].startswith("CFNLINT-")) == ["CFNLINT-E3002"] * 2
    # Lines move: the findings are still the baseline's.
    (tmp_path / "bad.yaml").write_text("# a comment\n" + BAD, encoding="utf-8")
    again = run_bglint("check", "--cfn-lint", "--baseline", "base.json", "bad.yaml", cwd=tmp_path)
    assert again.returncode == 0 and cfn_lint_lines(again.stdout) == [], again.stdout
    assert "in the baseline, 0 fixed since" in again.stdout
    # A run without cfn-lint does not call its entries fixed.
    plain = run_bglint("check", "--baseline", "base.json", "bad.yaml", cwd=tmp_path)
    assert (plain.returncode, plain.stdout) == (0, "Found 0 findings in 1 document.\n")


def test_split_runs_report_cfn_lint_as_one_process_does(tmp_path: Path) -> None:
    files = {f"t{i:02}.yaml": BAD if i % 2 else GOOD for i in range(16)}  # enough documents to fork
    write_tree(tmp_path, files)
    outputs = [
        run_bglint("check", "--cfn-lint", "--jobs", jobs, "--format", "json", *files, cwd=tmp_path) for jobs in "12"
    ]
    assert outputs[0].stdout == outputs[1].stdout
    rules = [f["rule"] for f in json.loads(outputs[1].stdout)["findings"]]
    assert rules == ["CFNLINT-E3002"] * 16  # two in each of the eight bad templates


@pytest.mark.skipif(importlib.util.find_spec("cfnlint") is None, reason="needs the cfn-lint extra installed")
def test_a_plain_install_pulls_in_neither_cfn_lint_nor_sympy() -> None:
    """Read from the installed packages' metadata: what `pip install bglint` resolves to."""
    spec = importlib.util.spec_from_file_location("deps", DEPS)
    assert spec is not None and spec.loader is not None
    deps: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(deps)
    plain, extra = deps.closure("bglint"), deps.closure("bglint", ("cfn-lint",))
    assert {"click", "pyyaml", "jsonschema", "boto3"} <= plain.keys()
    assert not {"cfn-lint", "sympy", "networkx"} & plain.keys()
    assert {"cfn-lint", "sympy", "networkx"} <= extra.keys()  # the extra brings them
