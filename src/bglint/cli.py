"""Command line: `bglint check`, `bglint permissions`, `bglint rules`, `bglint explain`.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or
input errors (the findings for the other files are still written).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from bglint import __version__
from bglint.errors import InputError

if TYPE_CHECKING:
    from bglint.evaluate.rules import Rule
    from bglint.load.config import Config
    from bglint.report import Report

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_EXIT_CODES = (
    "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; "
    "2 usage or input errors (the findings for the other files are still written)."
)
_NETWORKS = ("customer-managed", "vendor-managed", "unknown")


def _provenance() -> dict[str, dict[str, str]]:
    from bglint.iam.catalog import load_catalog
    from bglint.iam.managed import managed_provenance

    return {"iam_catalog": load_catalog().provenance, "aws_managed_policies": managed_provenance()}


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from bglint.iam.managed import load_managed

    data = _provenance()
    catalog, managed = data["iam_catalog"], data["aws_managed_policies"]
    click.echo(
        f"bglint {__version__}\n"
        f"IAM catalog: {catalog.get('source')} {catalog.get('version')} (data {catalog.get('date')})\n"
        f"AWS-managed policies: {len(load_managed().names()):,} from {managed.get('source')} {managed.get('version')}"
        f" {managed.get('file')} (data {managed.get('date')}, built {managed.get('built')})"
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


def _config(config_file: Path | None, paths: tuple[Path, ...]) -> Config:
    from bglint.load.config import Config, find_config, load_config

    found = config_file or (find_config(paths[0]) if paths else None)
    try:
        return load_config(found) if found else Config()
    except InputError as exc:
        _fail(exc)


_config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Config file (default: .bglint.yaml or pyproject.toml [tool.bglint], searched upwards from the first path).",
)
_all_roles_option = click.option("--all-roles", is_flag=True, help="Treat every IAM role as a break-glass role.")
_network_option = click.option(
    "--network", type=click.Choice(_NETWORKS), help="State the network kind instead of inferring it."
)
_app_config_option = click.option(
    "--app-config",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="App config directory whose context (network kind) applies to the templates checked.",
)
_rules_option = click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An extra directory of rule YAML files (repeatable).",
)
# readable=False: an unreadable file is one input error from the loader, not a usage error
# that stops every other file being checked.
_paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))


def _output_spec(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, Path | None]]:
    from bglint.report.formats import FORMATS

    specs: list[tuple[str, Path | None]] = []
    for value in values:
        fmt, _, target = value.partition(":")
        if fmt not in FORMATS:
            raise click.BadParameter(f"{fmt!r} is not one of {', '.join(FORMATS)}")
        specs.append((fmt, Path(target) if target else None))
    return specs or [("text", None)]


@main.command(epilog=_EXIT_CODES)
@_paths_argument
@click.option(
    "--format",
    "formats",
    multiple=True,
    callback=_output_spec,
    metavar="FORMAT[:FILE]",
    help="text (default), json, sarif, github, markdown or junit; repeat for several, "
    "e.g. --format sarif:bglint.sarif --format text.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option(
    "--fail-on",
    type=click.Choice(("error", "warning", "note", "never")),
    help="Lowest severity that makes the exit code 1 (default: error).",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Report only findings not in this baseline (see `bglint baseline create`); list fixed ones.",
)
@_config_option
@_rules_option
@_all_roles_option
@_network_option
@_app_config_option
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
    jobs: int | None,
) -> None:
    """Check app config directories and CloudFormation templates."""
    from bglint.parallel import default_jobs
    from bglint.report import at_or_above, visible

    # Off for the rest of this short-lived process: a check makes millions of objects and no
    # reference cycles, and once back on, the cyclic collector would walk them all (~40 ms).
    gc.disable()
    config = _config(config_file, paths)
    report = _checked(paths, config, rules_dirs, all_roles, network, app_config, baseline, jobs or default_jobs())
    if output is not None:
        if len(formats) > 1:
            raise click.UsageError("--output goes with a single --format; write FORMAT:FILE for several")
        formats = [(formats[0][0], formats[0][1] or output)]
    for fmt, target in formats:
        _write(_render(report, fmt), target)
    _print_errors(report.errors)
    if report.errors:
        sys.exit(EXIT_ERROR)
    threshold = fail_on or config.fail_on or "error"
    sys.exit(EXIT_FINDINGS if any(at_or_above(f.severity, threshold) for f in visible(report)) else EXIT_CLEAN)


def _checked(
    paths: tuple[Path, ...],
    config: Config,
    rules_dirs: tuple[Path, ...],
    all_roles: bool,
    network: str | None,
    app_config: Path | None,
    baseline: Path | None = None,
    jobs: int = 1,
) -> Report:
    """Run the check pipeline and wrap the result as a report (with the baseline applied)."""
    from bglint.check import CheckOptions, run_check
    from bglint.report import Report

    options = CheckOptions(config, rules_dirs, all_roles, network or "", app_config, jobs)
    result = run_check(list(paths), options)
    findings, baselined = result.findings, 0
    stale: list[str] = []
    if baseline is not None:
        from bglint.evaluate.baseline import compare
        from bglint.load.baseline import load_baseline

        try:
            findings, baselined, stale = compare(findings, load_baseline(baseline))
        except InputError as exc:
            result.errors.append(exc)
    return Report(
        __version__,
        _provenance(),
        result.rules,
        findings,
        result.errors,
        result.documents,
        result.skipped,
        _repo_root(Path.cwd()),
        baselined,
        stale,
    )


@main.group()
def baseline() -> None:
    """Record today's findings so a gate reports only new ones."""


@baseline.command("create")
@_paths_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".bglint-baseline.json"),
    show_default=True,
)
@_config_option
@_rules_option
@_all_roles_option
@_network_option
@_app_config_option
def baseline_create(
    paths: tuple[Path, ...],
    output: Path,
    config_file: Path | None,
    rules_dirs: tuple[Path, ...],
    all_roles: bool,
    network: str | None,
    app_config: Path | None,
) -> None:
    """Write the current findings (suppressed ones excluded) to a baseline file."""
    from bglint.report.baseline import render_baseline

    report = _checked(paths, _config(config_file, paths), rules_dirs, all_roles, network, app_config)
    _write(render_baseline(report), output)
    _print_errors(report.errors)
    click.echo(f"wrote {len(report.findings) - len(report.suppressed())} findings to {output}", err=True)
    sys.exit(EXIT_ERROR if report.errors else EXIT_CLEAN)


@main.group("config")
def config_group() -> None:
    """Inspect the bglint configuration."""


@config_group.command("show")
@click.argument("path", required=False, type=click.Path(path_type=Path), default=Path("."))
@_config_option
def config_show(path: Path, config_file: Path | None) -> None:
    """Print the effective configuration and where each value comes from."""
    from bglint.report.config_view import render_config

    click.echo(render_config(_config(config_file, (path,))), nl=False)


@main.command()
@_paths_argument
@click.option("--role", help="Only the role with this name or logical id (break-glass or not).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@_config_option
@_all_roles_option
@_network_option
@_app_config_option
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
    from bglint.check import CheckOptions, load_documents, permission_views, settings_of
    from bglint.report.permissions import render_permissions

    config = _config(config_file, paths)
    loaded = load_documents(list(paths), CheckOptions(config, (), all_roles, network or "", app_config))
    settings = settings_of(config)
    # Each document within its time budget: one that runs out becomes an input error.
    views = loaded.evaluate_each(lambda doc: permission_views([doc], role, settings))
    click.echo(render_permissions(views, fmt), nl=False)
    _print_errors(loaded.errors)
    sys.exit(EXIT_ERROR if loaded.errors else EXIT_CLEAN)


@main.command("rules")
@_config_option
@_rules_option
def list_rules(config_file: Path | None, rules_dirs: tuple[Path, ...]) -> None:
    """List the rules (shipped and the config's): id, severity after the config, enabled, title."""
    from bglint.report.escape import for_terminal

    config = _config(config_file, (Path("."),))
    for rule in _all_rules(config, rules_dirs):
        enabled = "disabled" if rule.id in config.disable else "enabled"
        title = for_terminal(rule.title)  # a user rule file's text
        click.echo(f"{rule.id}  {config.severity.get(rule.id, rule.severity):<8} {enabled:<9} {title}")


@main.command()
@click.argument("rule_id")
@_config_option
@_rules_option
def explain(rule_id: str, config_file: Path | None, rules_dirs: tuple[Path, ...]) -> None:
    """Print a rule's rationale, remediation and example."""
    config = _config(config_file, (Path("."),))
    found = next((r for r in _all_rules(config, rules_dirs) if r.id == rule_id.upper()), None)
    if found is None:
        _fail(InputError(rule_id, "no such rule (see `bglint rules`)"))
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
        _fail(errors[0])
    return rules


def _render(report: Report, fmt: str) -> str:
    from bglint.report.formats import render

    return render(report, fmt)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        try:
            click.echo(text, nl=False)
            sys.stdout.flush()
        except OSError as exc:  # a full disk, a closed pipe (`| head`): the report is cut short
            # Whatever is left in the buffer would fail again at exit: drop it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            _fail(InputError("stdout", f"cannot write report: {exc.strerror or exc}"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(InputError(str(output), f"cannot write report: {exc.strerror or exc}"))


def _print_errors(errors: list[InputError]) -> None:
    from bglint.report.escape import for_terminal_line

    for error in errors:
        click.echo(for_terminal_line(str(error)), err=True)


def _fail(error: InputError) -> NoReturn:
    _print_errors([error])
    sys.exit(EXIT_ERROR)


def _repo_root(start: Path) -> Path:
    """The enclosing git work tree, so SARIF URIs are repository-relative; else `start`."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


from bglint.cli_quickcreate import quickcreate  # noqa: E402  (a command in its own module)

main.add_command(quickcreate)

from bglint.cli_audit import audit  # noqa: E402  (a command in its own module; imports no boto3)

main.add_command(audit)
