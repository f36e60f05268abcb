"""What the commands share, without click: exit codes, the config lookup and writing output.

`bglint check PATH...` runs through here without importing click (see `bglint.cli.run`); only
on Windows does writing go through click's echo, for its console colours.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from bglint.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from bglint.load.config import Config

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_CODES_HELP = (
    "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; "
    "2 usage or input errors (the findings for the other files are still written)."
)
NETWORKS = ("customer-managed", "vendor-managed", "unknown")


def load_config_for(config_file: Path | None, paths: tuple[Path, ...]) -> Config:
    """`--config`, else the first path's config; one that does not load ends the command."""
    groups, _ = configs_for(config_file, paths[:1])
    return groups[0][0]


def configs_for(
    config_file: Path | None, paths: tuple[Path, ...]
) -> tuple[list[tuple[Config, tuple[Path, ...]]], list[InputError]]:
    """The paths grouped by their config: `--config` for all, else each path's nearest one, so
    the order of the paths never changes a result. A config that does not load is an input
    error for its own paths, which go unchecked; when none loads, the command ends there."""
    from bglint.load.config import Config, find_config, load_config

    if config_file is not None or len(paths) <= 1:
        by_config = {config_file or (find_config(paths[0]) if paths else None): list(paths)}
    else:
        by_config = {}
        for path in paths:
            by_config.setdefault(find_config(path), []).append(path)
    groups, errors = [], []
    for found, group in by_config.items():
        try:
            groups.append((load_config(found) if found else Config(), tuple(group)))
        except InputError as exc:
            errors.append(exc)
    if not groups:
        print_errors(errors)
        sys.exit(EXIT_ERROR)
    return groups, errors


def wants_colour() -> bool:
    """Colour on a terminal; NO_COLOR (no-color.org) turns it off, FORCE_COLOR on, NO_COLOR first."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def echo(text: str, err: bool = False) -> None:
    """Write to stdout (or stderr) now. Colour was decided already (wants_colour)."""
    if os.name == "nt":  # click's echo turns colours into console calls (colorama) there
        import click

        click.echo(text, nl=False, err=err, color=True)
        return
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # no console (pythonw)
        return
    stream.write(text)
    stream.flush()


def write(text: str, output: Path | None) -> None:
    if output is None:
        try:
            echo(text)
        except OSError as exc:  # a full disk, a closed pipe (`| head`): the report is cut short
            # Whatever is left in the buffer would fail again at exit: drop it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            fail(InputError("stdout", f"cannot write report: {exc.strerror or exc}"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(InputError(str(output), f"cannot write report: {exc.strerror or exc}"))


def write_chunks(chunks: Iterable[str], output: Path | None, transform: Callable[[str], str]) -> None:
    """`write` for a report made in pieces, each ~1 MB of them passed through `transform` (redaction)
    at once: the whole text is never in memory. Pieces hold whole JSON strings, so a credential
    inside one is never split between two."""
    try:
        with contextlib.ExitStack() as stack:
            out = sys.stdout if output is None else stack.enter_context(output.open("w", encoding="utf-8"))
            for block in _blocks(chunks, 1 << 20):
                out.write(transform(block))
            out.flush()
    except OSError as exc:
        if output is None:  # a full disk, a closed pipe (`| head`): as `write`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        fail(InputError(str(output or "stdout"), f"cannot write report: {exc.strerror or exc}"))


def _blocks(chunks: Iterable[str], size: int) -> Iterator[str]:
    pending: list[str] = []
    length = 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def print_errors(errors: list[InputError]) -> None:
    from bglint.report.escape import for_terminal_line

    for error in errors:
        echo(for_terminal_line(str(error)) + "\n", err=True)


def fail(error: InputError) -> NoReturn:
    print_errors([error])
    sys.exit(EXIT_ERROR)
