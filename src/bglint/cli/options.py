"""The click options and arguments several commands share."""

from __future__ import annotations

from pathlib import Path

import click

from bglint.cli.common import NETWORKS, fail
from bglint.errors import InputError

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
