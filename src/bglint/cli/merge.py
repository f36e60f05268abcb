"""`bglint merge`: combine the JSON or SARIF reports of `bglint audit --shard I/N` runs into one."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
def merge(reports: tuple[Path, ...], output: Path | None) -> None:
    """Merge the shards' reports (all JSON or all SARIF) into the report one unsharded audit writes.

    Exit 2 when accounts have no result (a shard not given, or accounts a shard could not audit:
    they are named on stderr; the partial report is still written), else 1 when the merged
    report has an error finding, else 0.
    """
    import json

    from bglint.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, fail, print_errors, write
    from bglint.errors import InputError
    from bglint.pipeline.merge import merge_reports

    loaded = []
    for path in reports:
        try:
            loaded.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError) as exc:
            fail(InputError(str(path), f"cannot read: {exc}"))
        except json.JSONDecodeError as exc:
            fail(InputError(str(path), f"not JSON: {exc.msg}", exc.lineno, exc.colno))
    kinds = {"runs" in data for _, data in loaded if isinstance(data, dict)}
    if len(kinds) != 1 or not all(isinstance(data, dict) for _, data in loaded):
        fail(InputError(str(reports[0]), "give the shards' reports, all JSON or all SARIF"))
    merged = merge_reports(loaded)
    if merged.text:
        write(merged.text, output)
    problems = list(merged.errors)
    if merged.missing:
        problems.append(
            InputError("merge", f"no result for {len(merged.missing)} accounts: {', '.join(merged.missing)}")
        )
    print_errors(problems)
    if problems:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if merged.has_errors else EXIT_CLEAN)
