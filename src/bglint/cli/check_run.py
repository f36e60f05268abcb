"""What `bglint check` does once its arguments are parsed. No click here: `bglint check PATH...`
without options (the pre-commit hook's call) runs this without importing it (`bglint.cli.run`)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from bglint.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    configs_for,
    echo,
    print_errors,
    wants_colour,
    write,
)

if TYPE_CHECKING:
    from bglint.report import Report
    from bglint.report.text import TextStyle


def check_and_report(
    paths: tuple[Path, ...],
    *,
    formats: Sequence[tuple[str, Path | None]] = (("text", None),),
    fail_on: str | None = None,
    baseline: Path | None = None,
    config_file: Path | None = None,
    rules_dirs: tuple[Path, ...] = (),
    all_roles: bool = False,
    network: str | None = None,
    app_config: Path | None = None,
    cfn_lint: bool = False,
    jobs: int | None = None,
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    show_fixes: bool = False,
    statistics: bool = False,
    quiet: bool = False,
    show_skipped: bool = False,
) -> NoReturn:
    """Check, write each format (to stdout or its file), then exit with the check's exit code.

    The defaults are what the `check` command's options parse to when none is given."""
    from bglint.parallel import default_jobs
    from bglint.pipeline.check import checked, merged
    from bglint.pipeline.common import CheckOptions
    from bglint.report import at_or_above, visible
    from bglint.report.text import TextStyle

    # Off for the rest of this short-lived process: a check makes millions of objects and no
    # reference cycles, and once back on, the cyclic collector would walk them all (~40 ms).
    gc.disable()
    groups, config_errors = configs_for(config_file, paths)
    reports = [
        checked(
            group,
            CheckOptions(
                config,
                rules_dirs,
                all_roles,
                network or "",
                app_config,
                jobs or default_jobs(),
                select,
                ignore,
                cfn_lint=cfn_lint,
            ),
            baseline,
            show_skipped,
        )
        for config, group in groups
    ]
    report = merged(reports)
    if config_errors:  # the paths under a broken config went unchecked: the run fails (exit 2)
        report = report._replace(errors=[*config_errors, *report.errors])
    for fmt, target in formats:
        style = TextStyle(target is None and wants_colour(), show_fixes, quiet, statistics)
        write(_render(report, fmt, style), target)
    print_errors(report.errors)
    if not quiet and all(target is not None for _, target in formats):  # nothing on stdout: say how it went
        from bglint.report.text import summary

        echo(summary(report) + "\n", err=True)
    if report.errors:
        sys.exit(EXIT_ERROR)
    # Each path's own config says what fails it (unless --fail-on does).
    failing = any(
        at_or_above(f.severity, fail_on or config.fail_on or "error")
        for (config, _), part in zip(groups, reports, strict=True)
        for f in visible(part)
    )
    sys.exit(EXIT_FINDINGS if failing else EXIT_CLEAN)


def _render(report: Report, fmt: str, style: TextStyle) -> str:
    from bglint.report.formats import render

    return render(report, fmt, style=style)
