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


# `python -m bglint`, then its peak memory written to the file named by BGLINT_PEAK_FILE as it
# exits (bglint ends with os._exit). Read from /proc/self/status (VmHWM, the high-water mark of this
# program's memory since exec): a child's rusage (ru_maxrss) also counts its parent's at the fork.
_MEASURED = """
import os, runpy, sys
def measured_exit(code, exit=os._exit):
    with open("/proc/self/status") as status, open(os.environ["BGLINT_PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    exit(code)
os._exit = measured_exit
sys.argv[0] = "bglint"
runpy.run_module("bglint", run_name="__main__", alter_sys=True)
"""


def run_bglint_measured(
    *args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None, timeout: float | None = 120
) -> tuple[subprocess.CompletedProcess[str], float]:
    """`run_bglint`, and the peak resident memory (MB) of the bglint process (Linux)."""
    peak = cwd / f".bglint-peak-{os.getpid()}"
    environment = {**(env if env is not None else os.environ), "BGLINT_PEAK_FILE": str(peak)}
    environment.pop("PYTHONWARNINGS", None)
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    try:
        return proc, int(peak.read_text(encoding="utf-8")) / 1024  # kB
    finally:
        peak.unlink(missing_ok=True)


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
