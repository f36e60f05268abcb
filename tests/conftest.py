"""Helpers shared by the test modules: real files on disk and the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# Timings belong to the benchmark (bench/): no property test fails for being slow on a busy
# machine, neither by Hypothesis' default 200 ms deadline per example nor its too-slow check.
settings.register_profile("bglint", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("bglint")


def run_bglint(*args: str | os.PathLike[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bglint ARGS` in `cwd`, as a user would run it; output captured as text."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    return subprocess.run(
        [sys.executable, "-m", "bglint", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `{relative path: content}` under `root` (parents created); returns `root`."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root
