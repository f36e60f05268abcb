"""`bglint check`, `bglint baseline create`, `bglint config show`, `bglint permissions`,
`bglint rules` and `bglint explain`: the commands over files in a repository."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bglint.cli.common import (
    EXIT_CLEAN,
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_FINDINGS,
    all_roles_option,
    app_config_option,
    cfn_lint_option,
    config_option,
    fail,
    fail_on_option,
    load_config_for,
    network_option,
    output_spec,
    paths_argument,
    print_errors,
    rules_option,
    write,
)
from bglint.errors import InputError

if TYPE_CHECKING:
    from bglint.findings import Rule
    from bglint.load.config import Config
    from bglint.report import Report


@click.command(epilog=EXIT_CODES_HELP)
@paths_argument
@click.option(
    "--format",
    "formats",
    multiple=True,
    callback=output_spec,
    metavar="FORMAT[:FILE]",
    help="text (default), json, sarif, github, markdown or junit; repeat for several, "
    "e.g. --format sarif:bglint.sarif --format text.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@fail_on_option
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Report only findings not in this baseline (see `bglint baseline create`); list fixed ones.",
)
@config_option
@rules_option
@all_roles_option
@network_option
@app_config_option
@cfn_lint_option
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Processes for large runs (default: every core). The output is the same for any value.",
)
def check(
    paths: tuple[Path, ...],
    formats: list[tuple[str, Path | None]],
    output: Path | None,
    fail_on: str | None,
    baseline: Path | None,
    config_file: Path | None,
    rules_dirs: tuple[Path, ...],
    all_roles: bool,
    network: str | None,
    app_config: Path | None,
    cfn_lint: bool,
    jobs: int | None,
) -> None:
    """Check app config directories and CloudFormation templates."""
    from bglint.parallel import default_jobs
    from bglint.pipeline.check import checked
    from bglint.pipeline.common import CheckOptions
    from bglint.report import at_or_above, visible

    # Off for the rest of this short-lived process: a check makes millions of objects and no
    # reference cycles, and once back on, the cyclic collector would walk them all (~40 ms).
    gc.disable()
    config = load_config_for(config_file, paths)
    options = CheckOptions(config, rules_dirs, all_roles, network or "", app_config, jobs or default_jobs(), cfn_lint)
    report = checked(paths, options, baseline)
    if output is not None:
        if len(formats) > 1:
            raise click.UsageError("--output goes with a single --format; write FORMAT:FILE for several")
        formats = [(formats[0][0], formats[0][1] or output)]
    for fmt, target in formats:
        write(_render(report, fmt), target)
    print_errors(report.errors)
    if report.errors:
        sys.exit(EXIT_ERROR)
    threshold = fail_on or config.fail_on or "error"
    sys.exit(EXIT_FINDINGS if any(at_or_above(f.severity, threshold) for f in visible(report)) else EXIT_CLEAN)


@click.group()
def baseline() -> None:
    """Record today's findings so a gate reports only new ones."""


@baseline.command("create")
@paths_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".bglint-baseline.json"),
    show_default=True,
)
@config_option
@rules_option
@all_roles_option
@network_option
@app_config_option
@cfn_lint_option
def baseline_create(
    paths: tuple[Path, ...],
    output: Path,
    config_file: Path | None,
    rules_dirs: tuple[Path, ...],
    all_roles: bool,
    network: str | None,
    app_config: Path | None,
    cfn_lint: bool,
) -> None:
    """Write the current findings (suppressed ones excluded) to a baseline file."""
    from bglint.pipeline.check import checked
    from bglint.pipeline.common import CheckOptions
    from bglint.report.baseline import render_baseline

    config = load_config_for(config_file, paths)
    options = CheckOptions(config, rules_dirs, all_roles, network or "", app_config, cfn_lint=cfn_lint)
    report = checked(paths, options)
    write(render_baseline(report), output)
    print_errors(report.errors)
    click.echo(f"wrote {len(report.findings) - len(report.suppressed())} findings to {output}", err=True)
    sys.exit(EXIT_ERROR if report.errors else EXIT_CLEAN)


@click.group("config")
def config_group() -> None:
    """Inspect the bglint configuration."""


@config_group.command("show")
@click.argument("path", required=False, type=click.Path(path_type=Path), default=Path("."))
@config_option
def config_show(path: Path, config_file: Path | None) -> None:
    """Print the effective configuration and where each value comes from."""
    from bglint.report.config_view import render_config

    click.echo(render_config(load_config_for(config_file, (path,))), nl=False)


@click.command()
@paths_argument
@click.option("--role", help="Only the role with this name or logical id (break-glass or not).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@config_option
@all_roles_option
@network_option
@app_config_option
def permissions(
    paths: tuple[Path, ...],
    role: str | None,
    fmt: str,
    config_file: Path | None,
    all_roles: bool,
    network: str | None,
    app_config: Path | None,
) -> None:
    """Show what each break-glass role can really do, by access level and service."""
    from bglint.pipeline.check import permission_views
    from bglint.pipeline.common import CheckOptions, load_documents, settings_of
    from bglint.report.permissions import render_permissions

    config = load_config_for(config_file, paths)
    loaded = load_documents(list(paths), CheckOptions(config, (), all_roles, network or "", app_config))
    settings = settings_of(config)
    # Each document within its time budget: one that runs out becomes an input error.
    views = loaded.evaluate_each(lambda doc: permission_views([doc], role, settings))
    click.echo(render_permissions(views, fmt), nl=False)
    print_errors(loaded.errors)
    sys.exit(EXIT_ERROR if loaded.errors else EXIT_CLEAN)


@click.command("rules")
@config_option
@rules_option
def list_rules(config_file: Path | None, rules_dirs: tuple[Path, ...]) -> None:
    """List the rules (shipped and the config's): id, severity after the config, enabled, title."""
    from bglint.report.escape import for_terminal

    config = load_config_for(config_file, (Path("."),))
    for rule in _all_rules(config, rules_dirs):
        enabled = "disabled" if rule.id in config.disable else "enabled"
        title = for_terminal(rule.title)  # a user rule file's text
        click.echo(f"{rule.id}  {config.severity.get(rule.id, rule.severity):<8} {enabled:<9} {title}")


@click.command()
@click.argument("rule_id")
@config_option
@rules_option
def explain(rule_id: str, config_file: Path | None, rules_dirs: tuple[Path, ...]) -> None:
    """Print a rule's rationale, remediation and example."""
    config = load_config_for(config_file, (Path("."),))
    found = next((r for r in _all_rules(config, rules_dirs) if r.id == rule_id.upper()), None)
    if found is None:
        fail(InputError(rule_id, "no such rule (see `bglint rules`)"))
    click.echo(
        f"{found.id} {found.name}: {found.title}\nseverity: {found.severity}\n\n"
        f"Why:\n{found.rationale}\n\nFix:\n{found.remediation}\n"
    )
    if found.example:
        click.echo(f"Example:\n{found.example}\n")


def _all_rules(config: Config, rules_dirs: tuple[Path, ...]) -> list[Rule]:
    """Shipped rules and the user's, disabled ones included (the listing says which)."""
    from bglint.evaluate.rules import load_rules, shipped_rules_dir

    rules, errors = load_rules([shipped_rules_dir(), *config.rules_dirs, *rules_dirs], validate=True)
    if errors:
        fail(errors[0])
    return rules


def _render(report: Report, fmt: str) -> str:
    from bglint.report.formats import render

    return render(report, fmt)
