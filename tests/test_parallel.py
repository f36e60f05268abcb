"""Parallel runs: the same output as one process, ordering included, from every process count."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bglint.parallel import fan_out
from conftest import run_bglint

GENERATOR = Path(__file__).resolve().parents[1] / "bench" / "generate.py"


def _slow_square(item: int) -> tuple[int, int]:
    time.sleep(0.01)  # long enough that the forked worker takes some items too
    return item * item, os.getpid()


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_come_back_in_input_order(jobs: int) -> None:
    results = fan_out(_slow_square, list(range(40)), jobs)
    assert [value for value, _ in results] == [i * i for i in range(40)]
    processes = {pid for _, pid in results}
    assert os.getpid() in processes  # the parent works too
    assert len(processes) == jobs


def test_small_runs_stay_in_process() -> None:
    assert {pid for _, pid in fan_out(_slow_square, [1, 2, 3], 8)} == {os.getpid()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated templates and app configs, plus broken files: findings, warnings and errors."""
    root = tmp_path_factory.mktemp("many")
    subprocess.run(
        [sys.executable, str(GENERATOR), str(root), "--templates", "40", "--apps", "6"], check=True, capture_output=True
    )
    (root / "templates" / "broken-1.yaml").write_text("Resources: [\n", encoding="utf-8")
    (root / "templates" / "broken-2.yaml").write_text("Resources:\n  R: {Type: AWS::IAM::Role, Properties: 5}\n")
    return root


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_parallel_output_is_the_single_process_output(inputs: Path, fmt: str) -> None:
    runs = [run_bglint("check", f"-j{jobs}", "--format", fmt, "templates", "apps", cwd=inputs) for jobs in (1, 2, 3)]
    one = runs[0]
    assert one.returncode == 2 and "broken-1.yaml" in one.stderr  # findings and input errors alike
    assert one.stdout.count("BG0") > 40
    for many in runs[1:]:
        assert (many.returncode, many.stdout, many.stderr) == (one.returncode, one.stdout, one.stderr)
