"""What the commands share: exit codes, common options, the config lookup and writing output."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

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
    from bglint.load.config import Config, find_config, load_config

    found = config_file or (find_config(paths[0]) if paths else None)
    try:
        return load_config(found) if found else Config()
    except InputError as exc:
        fail(exc)


def configs_for(config_file: Path | None, paths: tuple[Path, ...]) -> list[tuple[Config, tuple[Path, ...]]]:
    """The paths grouped by their config: `--config` for all, else each path's nearest one, so
    the order of the paths never changes a result."""
    if config_file is not None or len(paths) <= 1:
        return [(load_config_for(config_file, paths), paths)]
    from bglint.load.config import find_config

    groups: dict[Path | None, list[Path]] = {}
    for path in paths:
        groups.setdefault(find_config(path), []).append(path)
    return [(load_config_for(found, tuple(group)), tuple(group)) for found, group in groups.items()]


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Config file (default: .bglint.yaml or pyproject.toml [tool.bglint], searched upwards from each checked path).",
)
all_roles_option = click.option("--all-roles", is_flag=True, help="Treat every IAM role as a break-glass role.")
network_option = click.option(
    "--network", type=click.Choice(NETWORKS), help="State the network kind instead of inferring it."
)
app_config_option = click.option(
    "--app-config",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="App config directory whose context (network kind) applies to the templates checked.",
)
rules_option = click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An extra directory of rule YAML files (repeatable).",
)


def _rule_ids(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """`BG001,BG003` or repeated: upper-cased ids or id prefixes."""
    ids = tuple(part.strip().upper() for value in values for part in value.split(",") if part.strip())
    for rule_id in ids:
        if not rule_id.startswith("BG"):
            raise click.BadParameter(f"{rule_id!r} is not a rule id or prefix (BG001, BG00...; see `bglint rules`)")
    return ids


select_option = click.option(
    "--select",
    multiple=True,
    callback=_rule_ids,
    metavar="IDS",
    help="Run only these rules: ids or prefixes, comma-separated or repeated (BG001,BG00).",
)
ignore_option = click.option(
    "--ignore", multiple=True, callback=_rule_ids, metavar="IDS", help="Do not run these rules (ids or prefixes)."
)


def wants_colour() -> bool:
    """Colour on a terminal; NO_COLOR (no-color.org) turns it off, FORCE_COLOR on, NO_COLOR first."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(("error", "warning", "note", "never")),
    help="Lowest severity that makes the exit code 1 (default: error).",
)


def _cfn_lint_installed(_ctx: click.Context, _param: click.Parameter, wanted: bool) -> bool:
    """Asked for without cfn-lint installed: one error line and exit 2, before any work."""
    if wanted:
        from bglint.evaluate.cfn_lint import require

        try:
            require()
        except InputError as exc:
            fail(exc)
    return wanted


cfn_lint_option = click.option(
    "--cfn-lint",
    is_flag=True,
    callback=_cfn_lint_installed,
    help="Also run cfn-lint's template validation on the templates (pip install 'bglint[cfn-lint]'); "
    "its findings are reported as CFNLINT-<cfn-lint id>, e.g. CFNLINT-E3002.",
)
# readable=False: an unreadable file is one input error from the loader, not a usage error
# that stops every other file being checked.
paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))


def output_spec(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, Path | None]]:
    from bglint.report.formats import FORMATS

    specs: list[tuple[str, Path | None]] = []
    for value in values:
        fmt, _, target = value.partition(":")
        if fmt not in FORMATS:
            raise click.BadParameter(f"{fmt!r} is not one of {', '.join(FORMATS)}")
        specs.append((fmt, Path(target) if target else None))
    return specs or [("text", None)]


def write(text: str, output: Path | None) -> None:
    if output is None:
        try:
            click.echo(text, nl=False, color=True)  # colour was decided already (wants_colour)
            sys.stdout.flush()
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
        click.echo(for_terminal_line(str(error)), err=True)


def fail(error: InputError) -> NoReturn:
    print_errors([error])
    sys.exit(EXIT_ERROR)
