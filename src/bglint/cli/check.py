"""`bglint check`, `bglint baseline create`, `bglint config show`, `bglint permissions`,
`bglint rules` and `bglint explain`: the commands over files in a repository."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bglint.cli.common import (
    EXIT_CLEAN,
    EXIT_CODES_HELP,
    EXIT_ERROR,
    configs_for,
    fail,
    load_config_for,
    print_errors,
    write,
)
from bglint.cli.options import (
    all_roles_option,
    app_config_option,
    cfn_lint_option,
    config_option,
    fail_on_option,
    ignore_option,
    network_option,
    output_spec,
    paths_argument,
    rules_option,
    select_option,
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
@select_option
@ignore_option
@click.option("--show-fixes", is_flag=True, help="Text: under each line, every finding's why and smallest fix.")
@click.option("--statistics", is_flag=True, help="Text: how many findings per rule, instead of the findings.")
@click.option("--quiet", "-q", is_flag=True, help="Text: the findings only, no summary.")
@click.option("--show-skipped", is_flag=True, help="List every path a directory scan did not check, with the reason.")
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
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    show_fixes: bool,
    statistics: bool,
    quiet: bool,
    show_skipped: bool,
) -> None:
    """Check app config directories and CloudFormation templates."""
    from bglint.cli.check_run import check_and_report

    if output is not None:
        if len(formats) > 1:
            raise click.UsageError("--output goes with a single --format; write FORMAT:FILE for several")
        formats = [(formats[0][0], formats[0][1] or output)]
    check_and_report(
        paths,
        formats=formats,
        fail_on=fail_on,
        baseline=baseline,
        config_file=config_file,
        rules_dirs=rules_dirs,
        all_roles=all_roles,
        network=network,
        app_config=app_config,
        cfn_lint=cfn_lint,
        jobs=jobs,
        select=select,
        ignore=ignore,
        show_fixes=show_fixes,
        statistics=statistics,
        quiet=quiet,
        show_skipped=show_skipped,
    )


@click.group()
def baseline() -> None:
    """Record today's findings so a gate reports only new ones."""


def _baseline_inputs(command: Callable[..., None]) -> Callable[..., None]:
    """The options `baseline create` and `baseline prune` share with `check`."""
    options = (
        paths_argument,
        config_option,
        rules_option,
        all_roles_option,
        network_option,
        app_config_option,
        cfn_lint_option,
    )
    for option in reversed(options):
        command = option(command)
    return command


def _report_per_config(
    paths: tuple[Path, ...],
    config_file: Path | None,
    rules_dirs: tuple[Path, ...],
    all_roles: bool,
    network: str | None,
    app_config: Path | None,
    cfn_lint: bool,
) -> tuple[Config, Report]:
    """The first path's config and the findings, each path under its own config, no baseline."""
    from bglint.pipeline.check import merged, run_check, wrapped
    from bglint.pipeline.common import CheckOptions

    groups, errors = configs_for(config_file, paths)
    if errors:  # a baseline of some of the paths would drop the others' entries
        print_errors(errors)
        sys.exit(EXIT_ERROR)
    results = [
        run_check(
            list(group), CheckOptions(config, rules_dirs, all_roles, network or "", app_config, cfn_lint=cfn_lint)
        )
        for config, group in groups
    ]
    return groups[0][0], merged([wrapped(result) for result in results])


@baseline.command("create")
@_baseline_inputs
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: the config's `baseline:`, else .bglint-baseline.json, which "
    "`bglint check` then reads by itself).",
)
def baseline_create(output: Path | None, **inputs: Any) -> None:
    """Write the current findings (suppressed ones excluded) to a baseline file."""
    from bglint.findings import DEFAULT_BASELINE
    from bglint.report.baseline import render_baseline

    config, report = _report_per_config(**inputs)
    target = output or config.baseline or Path(DEFAULT_BASELINE)
    write(render_baseline(report), target)
    print_errors(report.errors)
    click.echo(f"wrote {len(report.findings) - len(report.suppressed())} findings to {target}", err=True)
    sys.exit(EXIT_ERROR if report.errors else EXIT_CLEAN)


@baseline.command("prune")
@_baseline_inputs
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The baseline to prune (default: the config's `baseline:`, else .bglint-baseline.json).",
)
def baseline_prune(baseline_file: Path | None, **inputs: Any) -> None:
    """Drop the entries of checked files that no finding matches any more (fixed ones)."""
    from bglint.evaluate.baseline import fixed
    from bglint.findings import DEFAULT_BASELINE
    from bglint.load.baseline import baseline_document, entries_of
    from bglint.report import visible
    from bglint.report.baseline import without

    config, report = _report_per_config(**inputs)
    target = baseline_file or config.baseline or Path(DEFAULT_BASELINE)
    try:
        document = baseline_document(target)
        entries = entries_of(document, str(target))
    except InputError as exc:
        fail(exc)
    print_errors(report.errors)
    if report.errors:  # a file that did not load has no findings: its entries are not fixed
        sys.exit(EXIT_ERROR)
    checked = [doc.path for doc in report.documents] + [str(p) for p in inputs["paths"]]
    gone = fixed(visible(report), entries, checked)
    write(without(document, {entry.fingerprint for entry in gone}), target)
    click.echo(f"removed {len(gone)} fixed entries from {target}; {len(entries) - len(gone)} left", err=True)
    sys.exit(EXIT_CLEAN)


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
@click.option("--all", "every_action", is_flag=True, help="List every action with its access level and scoping.")
@config_option
@all_roles_option
@network_option
@app_config_option
def permissions(
    paths: tuple[Path, ...],
    role: str | None,
    fmt: str,
    every_action: bool,
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
    views = loaded.evaluate_each(lambda doc: permission_views([doc], role, settings, every_action))
    if not views:
        wanted = f"no role named {role!r}" if role else "no break-glass roles"
        print_errors(loaded.errors)
        fail(InputError(", ".join(map(str, paths)), f"{wanted} found (see --all-roles, `bglint check`)"))
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
        from bglint.report.explain import wrong_and_fixed

        click.echo(wrong_and_fixed(found.example, found.fixed))


def _all_rules(config: Config, rules_dirs: tuple[Path, ...]) -> list[Rule]:
    """Shipped rules and the user's, disabled ones included (the listing says which)."""
    from bglint.evaluate.rules import load_rules, shipped_rules_dir

    rules, errors = load_rules([shipped_rules_dir(), *config.rules_dirs, *rules_dirs], validate=True)
    if errors:
        fail(errors[0])
    return rules
