"""Spread per-document work over processes, keeping results in input order.

Workers are forked, so they inherit the loaded documents, rules and IAM catalog instead of
receiving them pickled; only their results travel back. The parent works too, taking
items from the same shared counter: its own results need no pickling, and the work evens
out however fast each process turns out to be. Small runs (a pre-commit hook's one app)
stay in-process: a fork costs more than it saves there.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_PER_WORKER = 2
# What forked workers inherit: the function, the items, and the counter of the next item.
_WORK: tuple[Callable[[Any], Any], Sequence[Any], Any] | None = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def fan_out(func: Callable[[Item], Result], items: Sequence[Item], jobs: int) -> list[Result]:
    """`[func(item) for item in items]`, over this process and up to `jobs - 1` forked ones."""
    jobs = min(jobs, len(items) // MIN_ITEMS_PER_WORKER)
    if jobs <= 1:
        return [func(item) for item in items]
    # Imported here: they cost ~15 ms, a third of a one-file run's own work.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return [func(item) for item in items]
    global _WORK
    context = multiprocessing.get_context("fork")
    _WORK = (func, items, context.Value("i", 0))
    try:
        # Workers need not collect what they inherit: frozen, it is out of their collector's
        # sight, so collections neither walk it nor write to its pages (shared until written).
        gc.freeze()
        # An executor, not a Pool: a worker that dies (OOM kill) raises BrokenProcessPool
        # instead of hanging the run.
        with ProcessPoolExecutor(jobs - 1, mp_context=context) as pool:
            # One task per item, so each worker result travels back (and is unpickled here)
            # while the rest is still being worked on; a task finding nothing left returns None.
            futures = [pool.submit(_next) for _ in items]
            done = list(iter(_next, None))
            done += [pair for future in futures if (pair := future.result()) is not None]
    finally:
        gc.unfreeze()  # the caller's garbage is collectable again (e.g. a long-lived test process)
        _WORK = None
    return [result for _, result in sorted(done, key=lambda pair: pair[0])]


def _next() -> tuple[int, Any] | None:
    """Take the next item and work on it: (its index, the result), or None when none is left."""
    assert _WORK is not None
    func, items, counter = _WORK
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    return (index, func(items[index])) if index < len(items) else None
