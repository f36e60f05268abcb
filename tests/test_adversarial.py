"""The adversarial corpus: tests/adversarial/<family>/<case>.yaml, run through the real CLI.

Each case holds a CloudFormation `template`, the `network` kind it is checked in, the rule ids
it must raise (`expect`) and must not raise (`absent`), and the AWS documentation `fact` the
expectation rests on. Adding a case is adding a file; a family is a folder. All cases of one
network kind are checked in one `bglint check` run, each template in its own directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS = Path(__file__).resolve().parent / "adversarial"
FIELDS = {"description", "fact", "network", "expect", "absent", "template"}


def _cases() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(CORPUS.glob("*/*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.append((f"{path.parent.name}/{path.stem}", case))
    return found


CASES = _cases()


def test_corpus_is_well_formed() -> None:
    assert len(CASES) >= 50
    for name, case in CASES:
        assert set(case) == FIELDS, name
        assert case["fact"].strip(), f"{name}: every case names the AWS fact it rests on"
        assert case["expect"] or case["absent"], f"{name}: a case asserts something"
        assert not set(case["expect"]) & set(case["absent"]), name
    # Both directions: bad inputs that must be caught, good inputs that must stay clean.
    assert any(c["expect"] for _, c in CASES) and any(not c["expect"] for _, c in CASES)


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Rule ids found per case, from one CLI run per network kind."""
    root = tmp_path_factory.mktemp("adversarial")
    by_network: dict[str, list[str]] = {}
    for name, case in CASES:
        folder = root / name.replace("/", "__")
        folder.mkdir()
        (folder / "template.yaml").write_text(case["template"], encoding="utf-8")
        by_network.setdefault(case["network"], []).append(folder.name)
    found: dict[str, set[str]] = {name: set() for name, _ in CASES}
    for network, folders in by_network.items():
        done = subprocess.run(
            [sys.executable, "-m", "bglint", "check", "--network", network, "--format", "json", *folders],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        report = json.loads(done.stdout)
        assert not report["errors"], report["errors"]
        for finding in report["findings"]:
            case_name = Path(finding["path"]).parts[0].replace("__", "/")
            found[case_name].add(finding["rule"])
    return found


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_case(name: str, case: dict[str, Any], findings: dict[str, set[str]]) -> None:
    got = findings[name]
    missing = set(case["expect"]) - got
    wrong = set(case["absent"]) & got
    assert not missing, f"{name}: expected {sorted(missing)} ({case['fact']}); got {sorted(got)}"
    assert not wrong, f"{name}: must not raise {sorted(wrong)} ({case['fact']}); got {sorted(got)}"
