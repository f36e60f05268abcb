"""The brief's "ruff and mypy clean", held by the suite so CI catches a slip: ruff's rules and
formatting over src/ and tests/, and mypy (strict, per pyproject.toml) over the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # mypy takes tens of seconds without its cache

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "src", "tests", "bench", "scripts"],
        ["ruff", "format", "--check", "src", "tests", "bench", "scripts"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_the_source_is_clean(command: list[str], tmp_path: Path) -> None:
    tool = Path(sys.executable).with_name(command[0])
    if not tool.is_file():
        pytest.fail(f"{tool} is missing: pip install -e '.[test]'")
    # mypy's cache outside the checkout: a clean clone stays clean.
    extra = ["--cache-dir", str(tmp_path / "mypy-cache")] if command[0] == "mypy" else []
    proc = subprocess.run(
        [str(tool), *command[1:], *extra], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
