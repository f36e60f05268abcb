"""The direction of imports: the import-linter contracts in pyproject.toml hold for the source,
and each contract catches the import it forbids when one is added to a copy of the source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # lint-imports in a subprocess, on copies of the source

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path, source: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the contracts of `project`/pyproject.toml over the package under `source`."""
    if not LINT_IMPORTS.is_file():
        pytest.fail(f"{LINT_IMPORTS} is missing: pip install -e '.[test]'")
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_source_keeps_every_contract() -> None:
    result = lint_imports(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


# (module to change, the import added, the contract that must break)
VIOLATIONS = [
    ("report/text.py", "from bglint.evaluate import engine", "report/ imports no evaluate, load, audit or pipeline"),
    ("evaluate/predicates/trust.py", "from bglint.parse import files", "predicates import no parse/ or load/"),
    ("parse/nodes.py", "from bglint.load import selection", "one-way flow"),
    ("load/selection.py", "from bglint.load import discover", "no import cycles between the modules of any package"),
]


@pytest.mark.parametrize(("module", "line", "contract"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src" / "bglint", tmp_path / "src" / "bglint", ignore=shutil.ignore_patterns("data"))
    changed = tmp_path / "src" / "bglint" / module
    changed.write_text(changed.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [text for text in result.stdout.splitlines() if text.endswith(" BROKEN")]
    # An upward import is also a cycle between the two packages: the cycle contract may break too.
    assert any(text.startswith(contract) for text in broken), result.stdout
