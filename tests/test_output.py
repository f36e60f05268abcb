"""Output people can live with (issue 19), through the real CLI: the terminal line, colour,
rule selection, per-path configs, config errors, baselines, CI limits and `bglint permissions`.

Expectations come from the outside: a 120-column terminal, no-color.org and force-color.org,
GitHub's annotation limits (10 per kind and step, actions/toolkit docs/problem-matchers.md) and
its 1 MiB step-summary limit, and the JUnit convention that `failures` counts failing test cases.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import write_tree

REPO = Path(__file__).resolve().parents[1]
ANSI = "\x1b["
# A break-glass template: admin (BG001, with BG003 on the same grant), no boundary (BG002).
ADMIN_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  BreakglassOps:
    Type: AWS::IAM::Role
{metadata}    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{AWS: "arn:aws:iam::111122223333:role/nuon-runner"}}
            Action: sts:AssumeRole
            Condition: {{StringEquals: {{"sts:ExternalId": "inst123"}}}}
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AdministratorAccess
"""


def admin_template(metadata: str = "") -> str:
    return ADMIN_TEMPLATE.format(metadata=metadata)


def bglint(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bglint ARGS` as a user runs it (stdout a pipe, not a terminal)."""
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "bglint", *map(str, args)],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def findings(*args: str | Path, cwd: Path) -> list[dict[str, Any]]:
    result = bglint("check", "--format", "json", *args, cwd=cwd)
    assert result.stdout, result.stderr
    return [f for f in json.loads(result.stdout)["findings"] if not f.get("suppression")]


def ids_on(line: str) -> list[str]:
    """The rule ids a text line names: the lead, then the folded ones (`BG001 +BG003 +BG004`)."""
    head = re.match(r"(?:\+?BG\d{3} )+", line.split(": ", 1)[1])
    return re.findall(r"BG\d{3}", head.group()) if head else []


# -- the terminal ------------------------------------------------------------------------


@pytest.mark.slow
def test_shipped_examples_fit_a_120_column_terminal_one_line_per_cause() -> None:
    result = bglint("check", "examples", cwd=REPO)
    assert result.returncode == 1, result.stderr
    out = result.stdout.splitlines()
    assert max(len(line) for line in out) <= 120
    assert ANSI not in result.stdout  # not a terminal: no colour
    *lines, summary = [line for line in out if not line.startswith("skipped ")]
    # Folded, never lost: every finding's rule id is on exactly one line, and the grant that
    # BG001, BG003 and BG004 share (the customer-managed app's admin policy) is one line.
    every = findings("examples", cwd=REPO)
    assert sorted(i for line in lines for i in ids_on(line)) == sorted(f["rule"] for f in every)
    assert any(ids_on(line) == ["BG001", "BG003", "BG004"] for line in lines), lines
    assert len(lines) < len(every)
    assert summary.endswith(f"in 3 documents, on {len(lines)} lines.")


def test_show_fixes_gives_every_folded_finding_its_why_and_fix() -> None:
    result = bglint("check", "--show-fixes", "examples/bad-customer-network-app", cwd=REPO)
    out = result.stdout.splitlines()
    assert max(len(line) for line in out) <= 120
    text = result.stdout
    for rule in ("BG001", "BG003", "BG004"):
        block = text.split(f"  {rule} error: ", 1)[1].split("\n  BG", 1)[0]
        assert "Fix:" in block, (rule, block)


@pytest.mark.slow
def test_colour_on_force_color_never_with_no_color_nor_in_files(tmp_path: Path) -> None:
    forced = bglint("check", "examples/templates", cwd=REPO, env={"FORCE_COLOR": "1"})
    assert ANSI in forced.stdout
    # Colour does not count towards the width.
    assert max(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in forced.stdout.splitlines()) <= 120
    assert ANSI not in bglint("check", "examples/templates", cwd=REPO, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    report = tmp_path / "report.txt"
    bglint("check", "examples/templates", "-o", report, cwd=REPO, env={"FORCE_COLOR": "1"})
    assert ANSI not in report.read_text(encoding="utf-8")
    json_out = bglint("check", "--format", "json", "examples/templates", cwd=REPO, env={"FORCE_COLOR": "1"}).stdout
    assert ANSI not in json_out


@pytest.mark.slow
def test_statistics_and_quiet() -> None:
    every = findings("examples", cwd=REPO)
    stats = bglint("check", "--statistics", "examples", cwd=REPO).stdout.splitlines()
    rows = [re.match(r"\s*(\d+)\s+(BG\d{3}) (error|warning|note)\s", line) for line in stats[:-1]]
    assert all(rows), stats
    assert sum(int(m.group(1)) for m in rows if m) == len(every)
    assert stats[-1].startswith(f"Found {len(every)} findings")
    quiet = bglint("check", "-q", "examples", cwd=REPO)
    assert quiet.returncode == 1 and not any(line.startswith("Found ") for line in quiet.stdout.splitlines())


@pytest.mark.slow
def test_select_and_ignore_by_id_or_prefix_keep_suppressions_working(tmp_path: Path) -> None:
    ignore = '    Metadata:\n      bglint:\n        ignore:\n          - {rule: BG003, reason: "scoped in v2"}\n'
    write_tree(tmp_path, {"ops.yaml": admin_template(ignore)})
    assert {f["rule"] for f in findings("ops.yaml", cwd=tmp_path)} == {"BG001", "BG002"}
    assert {f["rule"] for f in findings("--select", "BG001", "ops.yaml", cwd=tmp_path)} == {"BG001"}
    assert {f["rule"] for f in findings("--select", "bg00", "--ignore", "BG001", "ops.yaml", cwd=tmp_path)} == {"BG002"}
    # BG003 not run: its suppression is not "unused" (BG041), and nothing else changes.
    assert {f["rule"] for f in findings("--ignore", "BG003", "ops.yaml", cwd=tmp_path)} == {"BG001", "BG002"}
    # The lesser rule shows on its own line once the greater one is ignored.
    plain = write_tree(tmp_path / "plain", {"ops.yaml": admin_template()})
    lines = bglint("check", "--ignore", "BG001", "ops.yaml", cwd=plain).stdout.splitlines()
    assert any(ids_on(line) == ["BG003"] for line in lines if ": BG" in line), lines
    wrong = bglint("check", "--select", "X1", "ops.yaml", cwd=plain)
    assert wrong.returncode == 2 and "X1" in wrong.stderr


def test_summary_on_stderr_when_every_report_goes_to_a_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ops.yaml": admin_template()})
    result = bglint("check", "--format", "sarif:out.sarif", "--format", "junit:out.xml", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    # BG001 an error; BG002 and BG003 notes in a network of unknown kind.
    assert result.stderr == "Found 3 findings (1 error, 2 notes) in 1 document.\n"


# -- configs: the nearest one per path, errors with a line and a did-you-mean -------------------


@pytest.mark.slow
def test_the_order_of_the_paths_never_changes_the_result(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "byo/.bglint.yaml": "network: customer-managed\n",
            "byo/ops.yaml": admin_template(),
            "plain/ops.yaml": admin_template(),
        },
    )
    first = findings("byo", "plain", cwd=tmp_path)
    second = findings("plain", "byo", cwd=tmp_path)
    assert first == second
    severity = {(f["path"], f["rule"]): f["severity"] for f in first}
    # AWS's own words: a boundary caps a role; in a customer-managed network bglint requires one.
    assert severity[("byo/ops.yaml", "BG002")] == "error"
    assert severity[("plain/ops.yaml", "BG002")] == "note"


@pytest.mark.parametrize(
    ("config", "where", "hint"),
    [
        ("tag-keys: [install.nuon.co/id]\nfail_on: warning\n", ".bglint.yaml:2:1:", "did you mean 'fail-on'?"),
        ("network: customer\n", ".bglint.yaml:1:10:", "did you mean 'customer-managed'?"),
        ("apps:\n  demo:\n    netwrk: vendor-managed\n", ".bglint.yaml:3:5:", "did you mean 'network'?"),
    ],
)
def test_config_errors_point_at_the_line_with_a_did_you_mean(
    tmp_path: Path, config: str, where: str, hint: str
) -> None:
    write_tree(tmp_path, {".bglint.yaml": config, "ops.yaml": admin_template()})
    result = bglint("check", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(where) and hint in line and "error: invalid config" in line, line


def test_a_valid_config_key_is_no_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {".bglint.yaml": "fail-on: never\n", "ops.yaml": admin_template()})
    assert bglint("check", "ops.yaml", cwd=tmp_path).returncode == 0


# -- baselines ----------------------------------------------------------------------------


@pytest.mark.slow
def test_baseline_is_read_by_itself_unchecked_files_stay_and_prune_drops_the_fixed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/ops.yaml": admin_template(), "b/ops.yaml": admin_template()})
    created = bglint("baseline", "create", "a", "b", cwd=tmp_path)
    assert created.returncode == 0 and "wrote 6 findings to .bglint-baseline.json" in created.stderr
    # Read without being named: nothing new.
    again = bglint("check", "a", "b", cwd=tmp_path)
    assert again.returncode == 0 and "6 in the baseline, 0 fixed since" in again.stdout
    # b's role loses AdministratorAccess: its entries are fixed. Checking a alone says nothing of b.
    (tmp_path / "b/ops.yaml").write_text(
        admin_template().replace("AdministratorAccess", "ReadOnlyAccess"), encoding="utf-8"
    )
    assert "3 in the baseline, 0 fixed since" in bglint("check", "a", cwd=tmp_path).stdout
    fixed = bglint("check", "b", cwd=tmp_path).stdout
    assert re.search(r"in the baseline, [12] fixed since", fixed), fixed
    pruned = bglint("baseline", "prune", "b", cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    left = json.loads((tmp_path / ".bglint-baseline.json").read_text(encoding="utf-8"))["findings"]
    assert {e["path"] for e in left if e["rule"] == "BG001"} == {"a/ops.yaml"}
    assert " 0 fixed since" in bglint("check", "a", "b", cwd=tmp_path).stdout


@pytest.mark.slow
def test_baseline_key_in_the_config(tmp_path: Path) -> None:
    write_tree(tmp_path, {".bglint.yaml": "baseline: ci/known.json\n", "ops.yaml": admin_template()})
    (tmp_path / "ci").mkdir()
    assert bglint("baseline", "create", "ops.yaml", cwd=tmp_path).returncode == 0
    assert (tmp_path / "ci/known.json").is_file()
    assert bglint("check", "ops.yaml", cwd=tmp_path).returncode == 0


# -- CI at scale --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("many")
    subprocess.run(
        [sys.executable, str(REPO / "bench/generate.py"), str(out), "--templates", "300", "--apps", "0"],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.slow
def test_annotations_stay_within_github_limits_worst_first_with_a_note(many: Path) -> None:
    every = findings(".", cwd=many)
    out = bglint("check", "--format", "github", ".", cwd=many).stdout.splitlines()
    kinds = [line.split(" ", 1)[0].split("::")[1] for line in out]
    assert all(kinds.count(kind) <= 10 for kind in ("error", "warning", "notice"))
    assert kinds.index("error") < kinds.index("warning") < kinds.index("notice")
    note = out[-1]
    assert note.startswith("::notice title=bglint%3A more findings::")
    annotated = sum(len(re.search(r"title=([^:]*)", line).group(1).split("%2C")) for line in out[:-1])  # type: ignore[union-attr]
    left = int(re.search(r"::(\d+) more findings", note).group(1))  # type: ignore[union-attr]
    assert annotated + left == len(every)


@pytest.mark.slow
def test_step_summary_is_small_sorted_and_counts_what_it_leaves_out(many: Path) -> None:
    every = findings(".", cwd=many)
    text = bglint("check", "--format", "markdown", ".", cwd=many).stdout
    assert len(text.encode()) < 1024 * 1024 // 8
    sections = re.findall(r"^### \S+ (BG\d{3}) .*\((error|warning|note): (\d+) in (\d+) files?\)$", text, re.M)
    order = ["error", "warning", "note"]
    assert [order.index(s[1]) for s in sections] == sorted(order.index(s[1]) for s in sections)
    assert sum(int(s[2]) for s in sections) == len(every)
    for rule, _, _, files in sections:
        if int(files) > 20:
            assert re.search(rf"and \d+ more {rule} findings in {int(files) - 20} more files", text)
    assert "\\." not in text and "\\-" not in text  # raw text without needless escapes


@pytest.mark.slow
def test_junit_one_case_per_role_and_rule_with_consistent_counts(many: Path, tmp_path: Path) -> None:
    every = findings(".", cwd=many)
    bglint("check", "--format", f"junit:{tmp_path / 'j.xml'}", ".", cwd=many)
    (suite,) = ET.parse(tmp_path / "j.xml").getroot().findall("testsuite")
    cases = suite.findall("testcase")
    failing = [case for case in cases if case.find("failure") is not None]
    assert int(suite.get("failures", "-1")) == len(failing)
    assert int(suite.get("tests", "-1")) == len(cases)
    names = [(case.get("classname"), case.get("name")) for case in cases]
    assert len(names) == len(set(names))
    errors = {(f["document"], f["role"], f["rule"]) for f in every if f["severity"] == "error"}
    assert len(failing) == len(errors)


# -- bglint permissions -------------------------------------------------------------------


@pytest.mark.slow
def test_permissions_risk_first_every_action_only_with_all(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ops.yaml": admin_template()})
    text = bglint("permissions", "ops.yaml", cwd=tmp_path).stdout.splitlines()
    assert text[1].startswith("ops.yaml:3: role BreakglassOps")
    # AdministratorAccess: every action (AWS's policy is Allow * on *), so admin comes first.
    assert text[3].startswith("  ! ADMIN: ") and any(line.startswith("  ! IAM write: ") for line in text)
    assert "reaches (break-glass levels, by service): network" in "\n".join(text)
    services = [line.split()[0] for line in text if re.match(r"  [a-z0-9-]+ +[\d,]+ actions", line)]
    assert services[:3] == ["iam", "sts", "organizations"] and len(services) == 12
    assert len(text) < 40 and not any(line.startswith("    ") for line in text)
    every = bglint("permissions", "--all", "ops.yaml", cwd=tmp_path).stdout.splitlines()
    assert "    iam:AttachRolePolicy [Permissions management] not scoped" in every
    assert len(every) > 20000  # AdministratorAccess: every action in the catalog


@pytest.mark.slow
def test_permissions_unknown_role_is_exit_2(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ops.yaml": admin_template()})
    result = bglint("permissions", "--role", "nope", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "ops.yaml: error: no role named 'nope' found (see --all-roles, `bglint check`)\n"
    assert bglint("permissions", "--role", "BreakglassOps", "ops.yaml", cwd=tmp_path).returncode == 0


def test_explain_shows_the_fixed_example_next_to_the_wrong_one(tmp_path: Path) -> None:
    text = bglint("explain", "BG023", cwd=REPO).stdout
    wrong, fixed = text.split("Wrong:", 1)[1].split("Fixed:", 1)
    assert "MaxSessionDuration: 43200" in wrong and "MaxSessionDuration: 3600" in fixed
    assert "sts:ExternalId" in fixed and "sts:ExternalId" not in wrong.split("#")[0]
    # A rule with no fixed example (every shipped rule has one; a user's rule may not) still
    # shows its example.
    shipped = (REPO / "rules" / "BG011.yaml").read_text(encoding="utf-8")
    user_rule = shipped.replace("id: BG011", "id: ACME011").split("\nexample-check:")[0]
    write_tree(tmp_path, {"acme/ACME011.yaml": user_rule + "\nexample: |\n  Resources: {}   # ACME011\n"})
    text = bglint("explain", "ACME011", "--rules", "acme", cwd=tmp_path).stdout
    assert "Example:\nResources: {}   # ACME011\n" in text and "Fixed:" not in text
