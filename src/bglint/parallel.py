"""Spread per-document work over processes, keeping results in input order.

Workers are forked, so they inherit the loaded documents, rules and IAM catalog instead of
receiving them pickled; only their results travel back. Small runs (a pre-commit hook's
one app) stay in-process: a fork costs more than it saves there.
"""

from __future__ import annotations

import gc
import itertools
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_PER_WORKER = 2
_WORK: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def fan_out(func: Callable[[Item], Result], items: Sequence[Item], jobs: int) -> list[Result]:
    """`[func(item) for item in items]`, over up to `jobs` forked processes."""
    jobs = min(jobs, len(items) // MIN_ITEMS_PER_WORKER)
    if jobs <= 1:
        return [func(item) for item in items]
    # Imported here: they cost ~15 ms, a third of a one-file run's own work.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return [func(item) for item in items]
    global _WORK
    _WORK = (func, items)
    # Several chunks per worker even out documents of very different sizes.
    bounds = [len(items) * i // (jobs * 4) for i in range(jobs * 4 + 1)]
    try:
        # An executor, not a Pool: a worker that dies (OOM kill) raises BrokenProcessPool
        # instead of hanging the run.
        context = multiprocessing.get_context("fork")
        # Workers need not collect what they inherit: frozen, it is out of their collector's
        # sight, so collections neither walk it nor write to its pages (shared until written).
        gc.freeze()
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            chunks = list(pool.map(_run, itertools.pairwise(bounds)))
    finally:
        gc.unfreeze()  # the caller's garbage is collectable again (e.g. a long-lived test process)
        _WORK = None
    return [result for chunk in chunks for result in chunk]


def _run(span: tuple[int, int]) -> list[Any]:
    assert _WORK is not None
    func, items = _WORK
    return [func(items[i]) for i in range(*span)]
