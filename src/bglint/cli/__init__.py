"""Command line: `bglint check`, `bglint audit`, `bglint permissions`, `bglint rules`... (`main`).

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or
input errors (the findings for the other files are still written).

`run` is the `bglint` command. `bglint check PATH...` with no option, the pre-commit hook's
call, skips click: click and the standard modules it imports (inspect, uuid...) are ~74 M of
the ~395 M instructions a one-template check costs. Any other call goes to click, which parses
it; the plain call gets exactly what click would give it (tests/test_plain_check.py).
"""

from __future__ import annotations

import codecs
import gc
import os
import sys
from pathlib import Path
from typing import NoReturn

from bglint.cli.common import EXIT_ERROR


def run() -> NoReturn:
    """The `bglint` command, then an exit that skips tearing down the heap.

    A check leaves millions of objects that the interpreter would free one by one at exit
    (~13 ms on 1000 templates), only for the process to end. Output is flushed first; bglint
    has no atexit work (thread pools are joined where they are used).
    """
    _utf8_if_ascii()
    paths = _plain_check_paths(sys.argv[1:])
    try:
        if paths is None:
            from bglint.cli.main import main

            main()
        else:
            _plain_check(paths)
    except SystemExit as exc:
        # Exits from inside the handler: the traceback keeps the command's frames, and so the
        # report, alive; leaving the handler would free them all, the teardown skipped here.
        _exit(exc.code)
    _exit(0)


def _plain_check_paths(args: list[str]) -> list[str] | None:
    """The paths of `check PATH...` where no argument can be an option, else None. None too
    where click does more than parse: on Windows it expands globs, ~ and %VARS% in them; with
    _BGLINT_COMPLETE set it answers a shell's completion request instead of running."""
    if len(args) < 2 or args[0] != "check" or os.name == "nt" or os.environ.get("_BGLINT_COMPLETE"):
        return None
    paths = args[1:]
    return paths if all(path and not path.startswith("-") for path in paths) else None


def _plain_check(paths: list[str]) -> NoReturn:
    # The check turns the cyclic collector off (check_and_report); here already before its
    # imports, whose objects live to the end anyway: ~6 M instructions of collections saved.
    gc.disable()
    try:  # the import too: click reports a Ctrl-C there, as it imports the command in its handler
        from bglint.cli.check_run import check_and_report

        check_and_report(tuple(map(Path, paths)))
    except KeyboardInterrupt:  # as click reports it (a closed stderr ends both ways with exit 1)
        print("\nAborted!", file=sys.stderr)
        sys.exit(1)


def _utf8_if_ascii() -> None:
    """An ASCII-only stdout or stderr writes UTF-8, unknown characters replaced, as click's echo
    does (PYTHONIOENCODING=ascii): a path with an accent is not a crash."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "ascii"
        if codecs.lookup(encoding).name == "ascii" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")


def _exit(code: object) -> NoReturn:
    if not isinstance(code, int):  # sys.exit("message"), as the interpreter would show it
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a full disk or a closed pipe: what was written may be short
        code = code or EXIT_ERROR
    os._exit(code)
