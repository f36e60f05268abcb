"""Parallel runs: the same output as one process, ordering included, from every process count."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bglint.parallel import fan_out
from conftest import run_bglint

GENERATOR = Path(__file__).resolve().parents[1] / "bench" / "generate.py"


def _slow_square(item: int) -> tuple[int, int]:
    time.sleep(0.01)  # long enough that the forked worker takes some items too
    return item * item, os.getpid()


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_come_back_in_input_order(jobs: int) -> None:
    results = fan_out(_slow_square, list(range(40)), jobs)
    assert [value for value, _ in results] == [i * i for i in range(40)]
    processes = {pid for _, pid in results}
    assert os.getpid() in processes  # the parent works too
    assert len(processes) == jobs


def test_small_runs_stay_in_process() -> None:
    assert {pid for _, pid in fan_out(_slow_square, [1, 2, 3], 8)} == {os.getpid()}


@pytest.mark.slow
def test_more_items_than_the_ticket_pipe_holds() -> None:
    """Past 262144 items (a 1 MiB pipe of 4-byte tickets) a ticket stands for several items."""
    count = 300_000
    results = fan_out(_negate, range(count), 2)
    assert results == [-i for i in range(count)]


def _negate(item: int) -> int:
    return -item


Held = tuple[int, int, int]  # (the parent's pid, a pipe's read end, its write end)


@pytest.fixture
def held() -> Iterator[list[Held]]:
    """Twenty items the parent works on only once a worker has taken one: the parent does its
    share too, and on a busy machine it could otherwise do them all before a worker starts."""
    read_end, write_end = os.pipe()
    yield [(os.getpid(), read_end, write_end)] * 20
    os.close(read_end)
    os.close(write_end)


def _in_worker(item: Held) -> bool:
    """True in a forked worker, which says so on the pipe; in the parent, once one has said so."""
    home, read_end, write_end = item
    if os.getpid() != home:
        os.write(write_end, b".")
        return True
    select.select([read_end], [], [], 60)
    return False


def _fails_in_worker(item: Held) -> int:
    if _in_worker(item):
        raise ValueError("broken in the worker")
    return item[0]


def _dies_in_worker(item: Held) -> int:
    if _in_worker(item):
        os.kill(os.getpid(), signal.SIGKILL)
    return item[0]


def test_a_worker_failure_fails_the_run_with_its_traceback(held: list[Held]) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)a worker process failed:.*ValueError: broken in the worker"):
        fan_out(_fails_in_worker, held, 2)


def test_a_killed_worker_fails_the_run_instead_of_hanging(held: list[Held]) -> None:
    with pytest.raises(RuntimeError, match=r"a worker process \(pid \d+\) died: killed by SIGKILL"):
        fan_out(_dies_in_worker, held, 2)


def test_no_worker_outlives_the_run(held: list[Held]) -> None:
    before = _children()
    fan_out(_slow_square, list(range(20)), 3)
    with pytest.raises(RuntimeError):
        fan_out(_fails_in_worker, held, 3)
    assert _children() == before


def _children() -> set[str]:
    """This process's live (or unreaped) children, from /proc."""
    task = Path(f"/proc/{os.getpid()}/task")
    if not task.exists():
        pytest.skip("needs /proc")
    return {pid for thread in task.iterdir() for pid in (thread / "children").read_text().split()}


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


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_parallel_output_is_the_single_process_output(inputs: Path, fmt: str) -> None:
    runs = [run_bglint("check", f"-j{jobs}", "--format", fmt, "templates", "apps", cwd=inputs) for jobs in (1, 2, 3)]
    one = runs[0]
    assert one.returncode == 2 and "broken-1.yaml" in one.stderr  # findings and input errors alike
    assert one.stdout.count("BG0") > 40
    for many in runs[1:]:
        assert (many.returncode, many.stdout, many.stderr) == (one.returncode, one.stdout, one.stderr)


@pytest.mark.slow
def test_the_app_config_context_is_loaded_once_whatever_the_jobs(inputs: Path, tmp_path: Path) -> None:
    """--app-config is read before the run is split: its error is reported once, as with -j1."""
    context = tmp_path / "context"
    context.mkdir()
    (context / "break_glass.toml").write_text("[[role]\nname = 'x'\n", encoding="utf-8")
    runs = [
        run_bglint("check", f"-j{jobs}", "--app-config", str(context), "templates", cwd=inputs) for jobs in (1, 2, 3)
    ]
    one = runs[0]
    assert one.stderr.count("break_glass.toml") == 1, one.stderr
    for many in runs[1:]:
        assert (many.returncode, many.stdout, many.stderr) == (one.returncode, one.stdout, one.stderr)
