"""Every shipped rule's `example` and `fixed` are shown by `bglint explain`, and are true.

True means: `bglint check` reports the rule on the example, on the line its `# BGxxx` marker
is on, and does not report it on the fixed one. The rule file's `example-check` says how each
of the two becomes a checkable input, in a directory of its own:

- `file: NAME`: the example is the file NAME (a template, break_glass.toml, RUNBOOK.md...);
- `statement: policy` (or `boundary`): the example is one policy statement (JSON; `#` comments
  are allowed, as in YAML, which reads it). It is checked as the only statement of an inline
  policy (or of the permissions boundary) of the one break-glass role of a Nuon app; a boundary
  statement's role holds AdministratorAccess, which is what a boundary has to cap;
- `network`: the directory's .bglint.yaml states this network kind;
- `files`: the directory's other files; `fixed-files`, the fixed one's instead (when the fix is
  in another file than the one shown).

All examples are checked in one `bglint check --format json` run. Rules that judge only what
`bglint audit` reads from a live account have no `example-check` (UNCHECKED says why); their
own tests (tests/test_audit*.py) judge the same situations on a moto server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run_bglint, write_tree

RULES = sorted((Path(__file__).resolve().parents[1] / "rules").glob("BG*.yaml"))
SPECS = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in RULES}
# What bglint audit reads from an account (drift, last use, organisation policies, trails and
# event rules) cannot be written as a file for `bglint check`.
UNCHECKED = {
    "BG030": "drift between a deployed role and its definition: needs the deployed role",
    "BG031": "IAM's RoleLastUsed of a deployed role",
    "BG032": "the organisation's SCPs and RCPs",
    "BG033": "the organisation's SCPs and the account's roles",
    "BG034": "the account's CloudTrail trails and EventBridge rules",
}
ROLE_NAME = "{{.nuon.install.id}}-break-glass"
_JSON_IN_TOML = "'''"


def marker_lines(text: str, rule_id: str) -> list[int]:
    """Lines whose comment (`#` or `<!--`) names the rule: where the example says it fires."""
    pattern = re.compile(rf"(#|<!--).*\b{rule_id}\b")
    return [number for number, line in enumerate(text.splitlines(), start=1) if pattern.search(line)]


def statement_app(statement: str, where: str) -> dict[str, str]:
    """A Nuon app whose one break-glass role has `statement` in its policy or its boundary."""
    document = json.dumps({"Version": "2012-10-17", "Statement": [yaml.safe_load(statement)]})
    assert _JSON_IN_TOML not in document
    role = f'[[role]]\nname = "{ROLE_NAME}"\ndescription = "incident access"\n'
    if where == "boundary":
        role += f"permissions_boundary = {_JSON_IN_TOML}{document}{_JSON_IN_TOML}\n"
        role += '\n[[role.policies]]\nmanaged_policy_name = "AdministratorAccess"\n'
    else:
        role += f'\n[[role.policies]]\nname = "incident"\ncontents = {_JSON_IN_TOML}{document}{_JSON_IN_TOML}\n'
    return {"metadata.toml": 'version = "v1"\n', "break_glass.toml": role}


def input_files(spec: dict[str, Any], kind: str) -> tuple[dict[str, str], str]:
    """The directory for the `example` or the `fixed` one, and the file it is (for its markers)."""
    check = spec["example-check"]
    text = spec[kind]
    files = dict(check.get("fixed-files" if kind == "fixed" and "fixed-files" in check else "files") or {})
    if "statement" in check:
        files.update(statement_app(text, check["statement"]))
        main = ""  # a statement's findings point into the generated app, not at its markers
    else:
        files[check["file"]] = text
        main = check["file"]
    if "network" in check:
        files[".bglint.yaml"] = f"network: {check['network']}\n"
    return files, main


def test_every_rule_has_a_wrong_and_a_fixed_example_that_differ() -> None:
    assert len(SPECS) >= 32
    for rule_id, spec in SPECS.items():
        example, fixed = spec.get("example", "").strip(), spec.get("fixed", "").strip()
        assert example and fixed, f"{rule_id}: needs both `example` and `fixed`"
        assert example != fixed, rule_id
        assert marker_lines(example, rule_id), f"{rule_id}: the example marks where it fires with # {rule_id}"
        assert not marker_lines(fixed, rule_id), f"{rule_id}: the fixed example still says # {rule_id}"
        assert ("example-check" in spec) != (rule_id in UNCHECKED), rule_id


@pytest.mark.slow
def test_examples_are_true_bglint_flags_the_wrong_one_and_not_the_fixed_one(tmp_path: Path) -> None:
    cases: dict[str, tuple[str, str]] = {}  # directory -> (rule id, the file its markers are in)
    for rule_id, spec in SPECS.items():
        if "example-check" not in spec:
            continue
        for kind in ("example", "fixed"):
            files, main = input_files(spec, kind)
            write_tree(tmp_path / rule_id / kind, files)
            cases[f"{rule_id}/{kind}"] = (rule_id, main)
    result = run_bglint("check", *sorted(cases), "--format", "json", "--fail-on", "never", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == [], "an example must be valid input"
    fired: dict[str, set[tuple[str, int]]] = {case: set() for case in cases}
    for finding in report["findings"]:
        rule_id, kind, file = finding["path"].split("/", 2)
        if finding["rule"] == rule_id:
            fired[f"{rule_id}/{kind}"].add((file, finding["line"]))
    untrue = []
    for case, (rule_id, main) in cases.items():
        where = sorted(fired[case])
        if case.endswith("/fixed"):
            if where:
                untrue.append(f"{rule_id} fires on its own fixed example at {where}")
        elif not where:
            untrue.append(f"{rule_id} does not fire on its example")
        elif main:
            missed = set(marker_lines(SPECS[rule_id]["example"], rule_id)) - {n for file, n in where if file == main}
            if missed:
                untrue.append(f"{rule_id}'s example marks lines {sorted(missed)}; it fires at {where}")
    assert not untrue, "\n".join(untrue)


def explained(text: str) -> tuple[list[str], list[str]]:
    """The wrong and fixed examples `bglint explain` printed, side by side or one under the other."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Wrong:"))
    head = lines[start]
    if "│ Fixed:" in head:
        gap = head.index("│ Fixed:")
        rows = lines[start + 1 :]
        return [row[: gap - 2].rstrip() for row in rows], [row[gap + 2 :] for row in rows]
    rest = lines[start + 1 :]
    split = rest.index("Fixed:")
    return rest[: split - 1], rest[split + 1 :]


@pytest.mark.slow
@pytest.mark.parametrize("rule_id", sorted(SPECS))
def test_explain_prints_the_wrong_example_and_the_fixed_one(rule_id: str, tmp_path: Path) -> None:
    result = run_bglint("explain", rule_id, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    wrong, fixed = explained(result.stdout)
    assert non_blank(wrong) == non_blank(SPECS[rule_id]["example"].splitlines())
    assert non_blank(fixed) == non_blank(SPECS[rule_id]["fixed"].splitlines())


def non_blank(lines: list[str]) -> list[str]:
    return [line.rstrip() for line in lines if line.strip()]
