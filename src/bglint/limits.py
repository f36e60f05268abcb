"""Per-file resource limits for untrusted input, and the guard that enforces the time budget.

bglint runs in CI on pull requests from people who should not get access, so every input is
hostile until parsed. Memory is bounded by bounded structures, not by an rlimit on the whole
process (which would also kill the report of every other file): a file is read only up to
`max_file_bytes`, parsers stop at `max_values` values and `max_depth` levels, a policy document
holds at most `max_statements` statements, and caches keyed by file content are bounded.

Time is bounded per document (a template, or an app directory) by `max_seconds`, shared by its
loading and its evaluation. `within_budget` arms `signal.setitimer` around the work; the alarm
raises an exception that unwinds the work, which becomes one InputError naming the file, and
the other documents are still checked. Where no interval timer exists (Windows, or a thread
other than the main one) the value limits alone bound the work. Matching never relies on the
timer: Python's `re` cannot be interrupted, so IAM wildcards are matched in linear time.
"""

import contextlib
import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any, NamedTuple, TypeVar

from bglint.errors import InputError

T = TypeVar("T")


class Limits(NamedTuple):
    """Limits on one input file; `limits:` in the bglint config sets them (kebab-case keys)."""

    max_file_bytes: int = 10 * 1024 * 1024
    max_values: int = 200_000  # scalars, keys and containers of one file (or JSON string)
    max_depth: int = 1000  # nesting of mappings and lists
    max_statements: int = 1000  # per policy document; AWS itself accepts a few hundred at most
    max_seconds: float = 2.0  # per document, loading and evaluation together; 0: no timer

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> "Limits":
        """From the config's `limits` table, e.g. {"max-seconds": 5}; absent keys keep defaults."""
        names = set(cls._fields)
        values = {key.replace("-", "_"): value for key, value in raw.items()}
        return cls(**{name: value for name, value in values.items() if name in names})


_current = Limits()


def current() -> Limits:
    return _current


def configure(limits: Limits) -> None:
    """Set the limits for this process (forked workers inherit them)."""
    global _current
    _current = limits


def too_many_values(limit: int) -> str:
    return f"more than {limit} values (limit max-values)"


class _Expired(BaseException):
    """Raised by the alarm. A BaseException, so no `except Exception` in the work swallows it."""


_Displaced = tuple[Any, float, float]  # the SIGALRM handler and alarm we displaced, and when


class _State:
    armed = False  # a budget is running (nested guards run inside the outer one)
    reading = ""  # the file being read when the alarm rang, for the message
    shared: _Displaced | None = None  # inside shared_alarm(): what it displaced


_state = _State()


def reading(display: str) -> None:
    """Note the file being read, so a budget that runs out names it."""
    _state.reading = display


def within_budget(shown: str, work: Callable[[], T], seconds: float | None = None, stage: str = "check") -> T:
    """`work()`, for the document `shown`, within `seconds` (default: max_seconds).

    Raises InputError when the time is up, and turns any unexpected exception (a bug that a
    hostile file found) into an InputError too: one file never stops the others being checked.
    """
    budget = current().max_seconds if seconds is None else seconds
    if _state.armed:  # inside another budget: that one governs
        return work()
    _state.reading = ""
    previous = _arm(budget)
    try:
        with paused_gc():
            return work()
    except _Expired:
        where = _state.reading if _state.reading and _state.reading != shown else ""
        detail = f" (while reading {where})" if where else ""
        limit = current().max_seconds  # what the user set; `budget` may be what loading left of it
        raise InputError(
            shown, f"took longer than {limit:g} s to {stage}{detail}; not checked (limit max-seconds)"
        ) from None
    except InputError:
        raise
    except Exception as exc:
        if os.environ.get("BGLINT_DEBUG"):
            raise
        name = type(exc).__name__
        raise InputError(shown, f"bglint failed on this file ({name}: {exc}); please report it") from None
    finally:
        _disarm(previous)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile, then as it was.

    Loading and checking make millions of objects and no reference cycles (none in 1000
    templates): the collector would only walk an ever larger heap, a tenth of the time.
    Reference counting still frees everything else; a cycle made meanwhile waits for the
    collector's return.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_SHARED: _Displaced = (None, 0.0, 0.0)  # armed inside shared_alarm(): nothing to give back per document


@contextlib.contextmanager
def shared_alarm() -> Iterator[None]:
    """The budgets inside share one SIGALRM handler, installed here once.

    Installing it and giving the old one back around every document cost ~18 us a document.
    Someone else's alarm (e.g. a test timeout) is held meanwhile and given back at the end,
    less the time spent; forked workers inherit the handler.
    """
    if _state.shared is not None or not _has_timer():
        yield
        return
    _state.shared = _install()
    try:
        yield
    finally:
        displaced, _state.shared = _state.shared, None
        _give_back(displaced)


def _has_timer() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _arm(seconds: float) -> _Displaced | None:
    """Start the alarm; None when there is no timer here (the value limits still bound the work)."""
    if seconds <= 0 or not _has_timer():
        return None
    displaced = _SHARED if _state.shared is not None else _install()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    _state.armed = True
    return displaced


def _disarm(displaced: _Displaced | None) -> None:
    if displaced is None:
        return
    _state.armed = False  # first: an alarm already on its way now does nothing
    signal.setitimer(signal.ITIMER_REAL, 0)
    if displaced is not _SHARED:
        _give_back(displaced)


def _install() -> _Displaced:
    """Our handler in, any running alarm held: what to give back, and since when."""
    handler = signal.signal(signal.SIGALRM, _on_alarm)
    delay, _interval = signal.setitimer(signal.ITIMER_REAL, 0)
    return (handler, delay, time.monotonic())


def _give_back(displaced: _Displaced) -> None:
    handler, delay, started = displaced
    signal.signal(signal.SIGALRM, handler)
    if delay:  # someone else's alarm (e.g. a test timeout): give back what is left of it
        signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - started), 0.001))


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    if _state.armed:
        _state.armed = False
        raise _Expired
