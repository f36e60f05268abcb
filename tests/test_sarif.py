"""bglint's SARIF against the official SARIF 2.1.0 schema, Microsoft's SARIF Multitool and GitHub's needs.

The schema and the Multitool are third-party files fetched at test time by
scripts/fetch_sarif_tools.sh, never committed. Without them these tests fail instead of
skipping: CI installs them, and a silent skip would hide a broken SARIF report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(os.environ.get("BGLINT_TOOLS", ROOT / ".tools"))
# The Linux platform package of @microsoft/sarif-multitool carries both the binary and the
# schema (microsoft/sarif-sdk's src/Sarif/Schemata/sarif-2.1.0.json).
MULTITOOL_DIR = TOOLS / "node_modules" / "@microsoft" / "sarif-multitool-linux"
MULTITOOL = MULTITOOL_DIR / "Sarif.Multitool"
SCHEMA = MULTITOOL_DIR / "sarif-2.1.0.json"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: Break-glass administrator role
Resources:
  BreakglassAdminRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: BreakglassAdminRole
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: arn:aws:iam::111122223333:root
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AdministratorAccess
"""

BREAK_GLASS = """\
[[role]]
name        = "{{.nuon.install.id}}-break-glass"
description = "Administrator access for incidents"

[[role.policies]]
managed_policy_name = "AdministratorAccess"
"""


def _tool(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run scripts/fetch_sarif_tools.sh (tools dir: BGLINT_TOOLS={TOOLS})")
    return path


def _bglint_sarif(cwd: Path, *paths: str) -> Path:
    """Run the real CLI; cwd is the scan root, so artifact URIs come out relative to it."""
    out = cwd / "bglint.sarif"
    proc = subprocess.run(
        [sys.executable, "-m", "bglint", "check", *paths, "--format", "sarif", "--output", str(out)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    # 1 = findings at error level, which every fixture here is built to have.
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return out


def _load(path: Path) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return log


@pytest.fixture(scope="module")
def sarif_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scan")
    (root / "template.yaml").write_text(TEMPLATE)
    app = root / "app"
    app.mkdir()
    (app / "metadata.toml").write_text('version = "v2"\n')
    (app / "break_glass.toml").write_text(BREAK_GLASS)
    return _bglint_sarif(root, "template.yaml", "app")


@pytest.mark.slow
def test_validates_against_official_schema(sarif_path: Path) -> None:
    schema = json.loads(_tool(SCHEMA).read_text(encoding="utf-8"))
    # The SARIF 2.1.0 schema is a draft-07 schema (only draft-04/07 keywords); the SDK's copy
    # declares 2020-12 in "$schema", so the dialect is named here rather than read from it.
    Draft7Validator.check_schema(schema)
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(_load(sarif_path))]
    assert not errors, "\n".join(errors)


def _multitool_message(result: dict[str, Any], rules: dict[str, dict[str, Any]]) -> str:
    """The Multitool stores messages as a template id plus arguments; render them readably."""
    message = result["message"]
    template = rules.get(result["ruleId"], {}).get("messageStrings", {}).get(message.get("id"), {}).get("text")
    text = template.format(*message.get("arguments", [])) if template else message.get("text", message)
    return f"{result['ruleId']}: {text}"


def multitool_errors(sarif: Path, tmp_path: Path) -> list[str]:
    """Run Microsoft's validator with GitHub's rules; its error-level results, as messages."""
    verdict = tmp_path / "v.sarif"
    # A list, no shell: "Gh;Sarif" must reach the tool as one argument.
    proc = subprocess.run(
        [
            str(_tool(MULTITOOL)),
            "validate",
            "--rule-kind",
            "Gh;Sarif",
            "--log",
            "ForceOverwrite",
            "--output",
            str(verdict),
            str(sarif),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # The exit code reports whether the analysis ran; its findings are in the output log.
    assert proc.returncode == 0 and verdict.is_file(), proc.stdout + proc.stderr
    (run,) = _load(verdict)["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"].get("rules", [])}
    return [_multitool_message(r, rules) for r in run.get("results", []) if r.get("level") == "error"]


@pytest.mark.slow
def test_multitool_reports_no_errors(sarif_path: Path, tmp_path: Path) -> None:
    errors = multitool_errors(sarif_path, tmp_path)
    assert not errors, "SARIF Multitool errors:\n" + "\n".join(errors)


def test_has_what_github_code_scanning_needs(sarif_path: Path) -> None:
    (run,) = _load(sarif_path)["runs"]
    driver = run["tool"]["driver"]
    assert driver["version"]
    for rule in driver["rules"]:
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"], (rule["id"], key)
        assert rule["helpUri"].startswith("https://"), rule["id"]
        # GitHub reads security-severity as a string holding a number in (0, 10].
        severity = rule["properties"]["security-severity"]
        assert isinstance(severity, str) and 0 < float(severity) <= 10, (rule["id"], severity)

    rule_ids = {rule["id"] for rule in driver["rules"]}
    located = set()
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert not urlsplit(uri).scheme and not uri.startswith("/"), uri
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]
        located.add((result["ruleId"], uri))
    # Both inputs really produced results, so the checks above were not vacuous.
    assert {("BG001", "template.yaml"), ("BG001", "app/break_glass.toml")} <= located


def _fingerprints_by_rule(sarif: Path) -> dict[str, tuple[dict[str, str], int]]:
    results = _load(sarif)["runs"][0]["results"]
    by_rule = {
        r["ruleId"]: (r["partialFingerprints"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in results
    }
    assert len(by_rule) == len(results), "one result per rule expected, so results can be matched by ruleId"
    return by_rule


@pytest.mark.slow
def test_fingerprints_survive_lines_inserted_above(tmp_path: Path) -> None:
    """GitHub matches alerts across commits by partialFingerprints: a shifted role must keep its alerts."""
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    before = _fingerprints_by_rule(_bglint_sarif(tmp_path, "template.yaml"))
    template.write_text("# an unrelated comment\n" * 5 + TEMPLATE)
    after = _fingerprints_by_rule(_bglint_sarif(tmp_path, "template.yaml"))

    assert before and after.keys() == before.keys()
    for rule_id, (fingerprints, line) in before.items():
        assert after[rule_id] == (fingerprints, line + 5), rule_id
