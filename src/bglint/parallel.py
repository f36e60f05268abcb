"""Spread per-item work over processes, keeping results in input order.

Workers are forked, so they inherit the loaded rules, IAM catalog and the items instead of
receiving them pickled; only their results travel back. The parent works too. Every process
takes tickets (item numbers) from one pipe, so the work evens out however fast each process
turns out to be, and a worker streams each result back as soon as it has it, which the parent
reads between its own items: no threads, no executor, no result waiting for the end.
Small runs (a pre-commit hook's one app) stay in-process: a fork costs more than it saves there.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_PER_WORKER = 2
_TICKET = struct.Struct("<I")
_FRAME = struct.Struct("<Iq")  # payload length, item number (or one of the two marks below)
_DONE, _FAILED = -1, -2
_PIPE_BYTES = 1 << 20  # asked of the kernel, so a worker seldom waits for the parent to read


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def fan_out(func: Callable[[Item], Result], items: Sequence[Item], jobs: int) -> list[Result]:
    """`[func(item) for item in items]`, over this process and up to `jobs - 1` forked ones."""
    jobs = min(jobs, len(items) // MIN_ITEMS_PER_WORKER)
    if jobs <= 1 or not hasattr(os, "fork"):
        return [func(item) for item in items]
    results: dict[int, Result] = {}
    tickets, per_ticket = _tickets(len(items))
    workers: list[_Worker] = []
    # Workers need not collect what they inherit: frozen, it is out of their collector's
    # sight, so collections neither walk it nor write to its pages (shared until written).
    gc.freeze()
    try:
        for _ in range(jobs - 1):
            workers.append(_Worker.fork(func, items, tickets, per_ticket))
        for index in _taken(tickets, per_ticket, len(items)):
            results[index] = func(items[index])
            for worker in workers:
                results.update(worker.received(wait=False))
        for worker in workers:
            results.update(worker.received(wait=True))
    finally:
        os.close(tickets)
        for worker in workers:
            worker.stop()
        gc.unfreeze()  # the caller's garbage is collectable again (e.g. a long-lived test process)
    return [results[index] for index in range(len(items))]


def _tickets(count: int) -> tuple[int, int]:
    """A pipe of tickets, its write end closed (an empty read means none is left), and how many
    consecutive items a ticket stands for: one, unless the pipe cannot hold a ticket per item.

    Each read takes one whole ticket: the kernel serialises reads of a pipe, and the pipe holds
    nothing but whole tickets. A killed worker loses at most the one it held.
    """
    read_end, write_end = os.pipe()
    room = _widen(write_end, count * _TICKET.size) // _TICKET.size
    per_ticket = -(-count // room)
    _send_all(write_end, b"".join(_TICKET.pack(t) for t in range(-(-count // per_ticket))))  # fits: no wait
    os.close(write_end)
    return read_end, per_ticket


def _taken(tickets: int, per_ticket: int, count: int) -> Iterator[int]:
    """Item numbers, ticket by ticket, until the tickets run out."""
    while ticket := os.read(tickets, _TICKET.size):
        first = _TICKET.unpack(ticket)[0] * per_ticket
        yield from range(first, min(first + per_ticket, count))


def _widen(pipe: int, wanted: int) -> int:
    """Ask for a pipe of `wanted` bytes (Linux lets a process grow its pipes to 1 MiB); what it holds."""
    import fcntl  # POSIX only, as fork is

    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, max(wanted, 4096))
    with contextlib.suppress(OSError, AttributeError):
        return int(fcntl.fcntl(pipe, fcntl.F_GETPIPE_SZ))
    return 4096  # what every POSIX pipe holds, at least on the systems that fork


class _Worker:
    """A forked process working through the tickets, and the parent's end of its result pipe."""

    def __init__(self, pid: int, results: int) -> None:
        self.pid, self.results, self.buffer, self.finished = pid, results, bytearray(), False

    @classmethod
    def fork(cls, func: Callable[[Any], Any], items: Sequence[Any], tickets: int, per_ticket: int) -> _Worker:
        read_end, write_end = os.pipe()
        _widen(write_end, _PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            os.close(read_end)
            os._exit(_work(func, items, _taken(tickets, per_ticket, len(items)), write_end))
        os.close(write_end)
        os.set_blocking(read_end, False)
        return cls(pid, read_end)

    def received(self, wait: bool) -> Iterator[tuple[int, Any]]:
        """The results the worker has sent so far; with `wait`, every one until it has finished."""
        while not self.finished:
            chunk = self._read(wait)
            if chunk is None:
                return
            if not chunk:
                raise RuntimeError(f"a worker process (pid {self.pid}) died: {self._status()}")
            self.buffer += chunk
            yield from self._frames()

    def _frames(self) -> Iterator[tuple[int, Any]]:
        """The whole frames in the buffer, unpickled; a partial one stays for the next read."""
        import pickle  # here, not at the top: a run that never forks never imports it

        at, buffer = 0, self.buffer
        try:
            while len(buffer) - at >= _FRAME.size:
                size, index = _FRAME.unpack_from(buffer, at)
                start = at + _FRAME.size
                if len(buffer) < start + size:
                    break
                at = start + size
                if index == _DONE:
                    self.finished = True
                elif index == _FAILED:
                    raise RuntimeError(f"a worker process failed:\n{pickle.loads(buffer[start:at])}")
                else:
                    yield index, pickle.loads(buffer[start:at])
        finally:
            del buffer[:at]  # once per read, not once per frame

    def _read(self, wait: bool) -> bytes | None:
        """Bytes from the worker, b"" at its end, None if none is there yet (without `wait`)."""
        if wait:
            os.set_blocking(self.results, True)
        try:
            return os.read(self.results, _PIPE_BYTES)
        except BlockingIOError:
            return None

    def _status(self) -> str:
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            guess = " (out of memory?)" if number == signal.SIGKILL else ""
            return f"killed by {signal.Signals(number).name}{guess}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"

    def stop(self) -> None:
        """Reap the worker; one still working (the parent failed) is killed first."""
        os.close(self.results)
        if self.pid:
            if not self.finished:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)


def _work(func: Callable[[Any], Any], items: Sequence[Any], taken: Iterator[int], results: int) -> int:
    """The worker's life: results out as they come, then the end mark; the exit status."""
    import pickle

    try:
        for index in taken:
            _send(results, index, pickle.dumps(func(items[index]), pickle.HIGHEST_PROTOCOL))
        _send(results, _DONE, b"")
        return 0
    except BaseException:  # the parent reports it: nothing may escape into the forked copy of its code
        import traceback

        with contextlib.suppress(BaseException):
            _send(results, _FAILED, pickle.dumps(traceback.format_exc()))
        return 1


def _send(results: int, index: int, payload: bytes) -> None:
    _send_all(results, _FRAME.pack(len(payload), index) + payload)


def _send_all(pipe: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(pipe, view) :]
