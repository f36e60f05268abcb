"""Command line: `bglint check`, `bglint permissions`, `bglint rules`, `bglint explain`.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or
input errors (the findings for the other files are still written).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from bglint import __version__
from bglint.cli.audit import audit
from bglint.cli.check import baseline, check, config_group, explain, list_rules, permissions
from bglint.cli.common import EXIT_ERROR
from bglint.cli.quickcreate import quickcreate


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from bglint.pipeline.common import provenance

    data = provenance()
    catalog, managed = data["iam_catalog"], data["aws_managed_policies"]
    click.echo(
        f"bglint {__version__}\n"
        f"IAM catalog: {catalog.get('source')} {catalog.get('version')} (data {catalog.get('date')})\n"
        f"AWS-managed policies: {managed.get('source')} (built {managed.get('built')})"
    )
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=(__doc__ or "").split("\n\n")[1])
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the IAM data it uses.",
)
def main() -> None:
    """bglint: lint break-glass IAM roles in Nuon app configs and CloudFormation templates."""


def run() -> NoReturn:
    """The `bglint` command: `main`, then an exit that skips tearing down the heap.

    A check leaves millions of objects that the interpreter would free one by one at exit
    (~13 ms on 1000 templates), only for the process to end. Output is flushed first; bglint
    has no atexit work (thread pools are joined where they are used).
    """
    try:
        main()
    except SystemExit as exc:
        # Exits from inside the handler: the traceback keeps the command's frames, and so the
        # report, alive; leaving the handler would free them all, the teardown skipped here.
        _exit(exc.code)
    _exit(0)


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


for command in (check, baseline, config_group, permissions, list_rules, explain, quickcreate, audit):
    main.add_command(command)
