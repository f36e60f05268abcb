"""Parallel runs: the same output as one process, ordering included, from every process count."""

from __future__ import annotations

import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bglint.parallel import fan_out
from conftest import run_bglint

GENERATOR = Path(__file__).resolve().parents[1] / "bench" / "generate.py"


def _slow_square(item: int) -> tuple[int, int]:
    time.sleep(0.01)
    return item * item, os.getpid()


class Rendezvous:
    """A barrier on each process's first item: workers wait there until the parent has seen
    `workers` of them arrive. The parent does its share of the items too, and on a busy machine
    one process could otherwise do them all before another starts: a test about the workers
    would see none, or fewer than it forked."""

    _RELEASES = 64  # more than any test forks: a worker arriving late is never left waiting

    def __init__(self, workers: int) -> None:
        self.home, self.workers, self.first = os.getpid(), workers, True
        self.arrivals = os.pipe()
        self.releases = os.pipe()

    def arrive(self) -> bool:
        """True in a worker; each process waits at its first item only (state is per process)."""
        in_worker = os.getpid() != self.home
        if self.first:
            self.first = False
            if in_worker:
                os.write(self.arrivals[1], struct.pack("=i", os.getpid()))  # 4 bytes: one atomic write
                os.read(self.releases[0], 1)
            else:
                seen: set[int] = set()
                while len(seen) < self.workers and select.select([self.arrivals[0]], [], [], 60)[0]:
                    seen.add(struct.unpack("=i", os.read(self.arrivals[0], 4))[0])
                os.write(self.releases[1], b"." * self._RELEASES)
        return in_worker

    def close(self) -> None:
        for fd in (*self.arrivals, *self.releases):
            os.close(fd)


@pytest.fixture
def one_worker() -> Iterator[Rendezvous]:
    rendezvous = Rendezvous(1)
    yield rendezvous
    rendezvous.close()


def _square_with_every_worker(item: tuple[int, Rendezvous]) -> tuple[int, int]:
    value, rendezvous = item
    rendezvous.arrive()
    return value * value, os.getpid()


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_come_back_in_input_order(jobs: int) -> None:
    rendezvous = Rendezvous(jobs - 1)
    try:
        results = fan_out(_square_with_every_worker, [(i, rendezvous) for i in range(40)], jobs)
    finally:
        rendezvous.close()
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


def _fails_in_worker(rendezvous: Rendezvous) -> int:
    if rendezvous.arrive():
        raise ValueError("broken in the worker")
    return 0


def _dies_in_worker(rendezvous: Rendezvous) -> int:
    if rendezvous.arrive():
        os.kill(os.getpid(), signal.SIGKILL)
    return 0


def test_a_worker_failure_fails_the_run_with_its_traceback(one_worker: Rendezvous) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)a worker process failed:.*ValueError: broken in the worker"):
        fan_out(_fails_in_worker, [one_worker] * 20, 2)


def test_a_killed_worker_fails_the_run_instead_of_hanging(one_worker: Rendezvous) -> None:
    with pytest.raises(RuntimeError, match=r"a worker process \(pid \d+\) died: killed by SIGKILL"):
        fan_out(_dies_in_worker, [one_worker] * 20, 2)


def test_no_worker_outlives_the_run(one_worker: Rendezvous) -> None:
    before = _children()
    fan_out(_slow_square, list(range(20)), 3)
    with pytest.raises(RuntimeError):
        fan_out(_fails_in_worker, [one_worker] * 20, 3)
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
    # A time budget no document overruns on a busy machine (the default 2 s was, under coverage):
    # the runs compare their outputs, and one refusal the other did not make is no difference of -j.
    (root / ".bglint.yaml").write_text("limits:\n  max-seconds: 60\n", encoding="utf-8")
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


def _forks_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every os.fork from now on is counted (and still forks)."""
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    return forks


def test_a_run_of_a_few_templates_never_forks(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bglint.pipeline.check import MIN_DOCUMENTS_TO_FORK, run_check
    from bglint.pipeline.common import CheckOptions

    few = sorted((inputs / "templates").glob("stack-*.yaml"))[:8]
    many = sorted((inputs / "templates").glob("stack-*.yaml"))[:MIN_DOCUMENTS_TO_FORK]
    forks = _forks_counted(monkeypatch)
    result = run_check(few, CheckOptions(jobs=4))
    assert len(result.documents) == 8 and result.findings
    assert forks == []
    run_check(many, CheckOptions(jobs=2))
    assert len(forks) == 1  # enough documents: one worker besides this process


def test_a_single_process_check_keeps_no_policy_statements(inputs: Path) -> None:
    """--jobs 1 holds what reports read, as the workers of a parallel run send back: the
    statements are counted, then dropped once the document is evaluated (memory on big runs)."""
    from bglint.pipeline.check import run_check
    from bglint.pipeline.common import CheckOptions

    result = run_check([inputs / "templates"], CheckOptions(jobs=1))
    policies = [p for doc in result.documents for role in doc.roles for p in role.policies]
    assert policies and result.findings
    assert all(p.statements == () for p in policies)
    assert any(p.statement_count > 0 for p in policies)


def test_a_single_process_holds_one_piece_of_parsed_documents_at_a_time(
    inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--jobs 1 loads and evaluates a big run piece by piece, as the workers do: the parse trees
    of every template at once were what made 5,000 templates peak at 225 MB."""
    import bglint.pipeline.check as check
    from bglint.pipeline.common import CheckOptions

    templates = sorted((inputs / "templates").glob("stack-*.yaml"))
    loaded_at_once: list[int] = []
    real_load_plan = check.load_plan

    def counting_load_plan(plan: Any, options: Any) -> Any:
        loaded_at_once.append(len(plan.templates))
        return real_load_plan(plan, options)

    monkeypatch.setattr(check, "load_plan", counting_load_plan)
    forks = _forks_counted(monkeypatch)
    result = check.run_check(templates, CheckOptions(jobs=1))
    assert forks == [] and len(result.documents) == len(templates) >= 2 * check.MIN_DOCUMENTS_TO_FORK
    assert sum(loaded_at_once) == len(templates) and max(loaded_at_once) < len(templates) / 2


def test_findings_share_one_copy_of_each_repeated_fix_and_detail(inputs: Path) -> None:
    """Thousands of findings repeat a few fixes: each text is held once (memory on big runs)."""
    from bglint.pipeline.check import run_check
    from bglint.pipeline.common import CheckOptions

    findings = run_check([inputs / "templates"], CheckOptions(jobs=1)).findings
    for texts in ([f.fix for f in findings], [f.detail for f in findings]):
        assert len({id(text) for text in texts}) == len(set(texts)) < len(texts)
