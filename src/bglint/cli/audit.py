"""`bglint audit`: judge the break-glass roles deployed in live AWS accounts with the same rules.

Registered by `bglint.cli.main`. Importing this module costs nothing beyond click: boto3 and the
audit machinery are imported when the command runs, so `bglint check` never pays for them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bglint.cli.common import NETWORKS
from bglint.cli.options import fail_on_option, rules_option

_FORMATS = ("text", "json", "sarif", "markdown", "html")  # the keys of report.formats.AUDIT_FORMATS


@click.command()
@click.option("--profile", help="AWS profile (default: the standard AWS configuration: AWS_PROFILE, env, ...).")
@click.option(
    "--region", help="AWS region for STS and Organizations (default: the profile's or env's; else us-east-1)."
)
@click.option(
    "--assume-role",
    "assume_role",
    metavar="ROLE_NAME",
    help="Role to assume (sts:AssumeRole) in each audited account, e.g. BglintAuditor.",
)
@click.option(
    "--accounts",
    multiple=True,
    metavar="IDS|FILE",
    help="Accounts to audit: ids separated by commas, or a file of ids (one per line, # comments). Repeatable.",
)
@click.option("--organization", is_flag=True, help="Audit every active account of the caller's AWS Organization.")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Judge saved bulk reads offline: one `aws iam get-account-authorization-details` JSON per account.",
)
@click.option("--shard", metavar="I/N", help="Audit only slice I of N of the accounts (stable; combine with merge).")
@click.option(
    "--tag", "tags", multiple=True, metavar="KEY[=VALUE]", help="Roles with this tag are break-glass. Repeatable."
)
@click.option(
    "--name", "names", multiple=True, metavar="GLOB", help="Roles whose name matches are break-glass. Repeatable."
)
@click.option("--path", "path_prefix", default="/", show_default=True, help="Only roles under this IAM path.")
@click.option("--role-arn", "role_arns", multiple=True, metavar="ARN", help="Audit exactly these roles. Repeatable.")
@click.option("--all-roles", is_flag=True, help="Treat every role (under --path) as break-glass.")
@click.option(
    "--against",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="App configs or templates defining the roles: report drift (BG030). Repeatable.",
)
@click.option("--network", type=click.Choice(NETWORKS), help="State the network kind of the audited accounts.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=8, show_default=True, help="Concurrent IAM reads.")
@click.option("--page-size", type=click.IntRange(1, 1000), help="Items per list call (MaxItems), as in the AWS CLI.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the readable audit report here (HTML for .html/.htm, else Markdown).",
)
@fail_on_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Config file (default: .bglint.yaml or pyproject.toml [tool.bglint], searched from --against or here).",
)
@rules_option
@click.option(
    "--progress/--no-progress", default=None, help="Show progress on stderr (default: when it is a terminal)."
)
def audit(
    profile: str | None,
    region: str | None,
    assume_role: str | None,
    accounts: tuple[str, ...],
    organization: bool,
    from_dir: Path | None,
    shard: str | None,
    tags: tuple[str, ...],
    names: tuple[str, ...],
    path_prefix: str,
    role_arns: tuple[str, ...],
    all_roles: bool,
    against: tuple[Path, ...],
    network: str | None,
    jobs: int,
    page_size: int | None,
    fmt: str,
    output: Path | None,
    report_file: Path | None,
    fail_on: str | None,
    config_file: Path | None,
    rules_dirs: tuple[Path, ...],
    progress: bool | None,
) -> None:
    """Audit the break-glass IAM roles deployed in AWS accounts (read-only: Get/List and sts:AssumeRole).

    Reads each role's trust policy, inline and attached policies, permissions boundary, tags,
    maximum session and last use through boto3, judges them with the same rules as `check`,
    and, with --against, reports drift from their definitions. Exit codes as for `check`; an
    account that cannot be audited is an input error (2), the others are still reported.
    """
    from bglint.audit.discovery import parse_role_arn
    from bglint.audit.targets import parse_accounts, parse_shard
    from bglint.cli.common import (
        EXIT_CLEAN,
        EXIT_ERROR,
        EXIT_FINDINGS,
        fail,
        load_config_for,
        print_errors,
        write,
        write_chunks,
    )
    from bglint.errors import InputError
    from bglint.pipeline.audit import AuditRequest, run_audit_pipeline
    from bglint.report import at_or_above, visible
    from bglint.report.formats import render, render_chunks

    if organization and not assume_role:
        fail(InputError("--organization", "needs --assume-role ROLE_NAME: the role to assume in each account"))
    if organization and accounts:
        fail(InputError("--organization", "give either --organization or --accounts, not both"))
    if from_dir is not None and (organization or accounts or assume_role):
        fail(InputError("--from", "judges saved dumps: give no --organization, --accounts or --assume-role"))
    if shard and not (from_dir or organization or accounts):
        fail(InputError("--shard", "shards a list of accounts: give --accounts, --organization or --from"))
    try:
        shard_of = parse_shard(shard) if shard else None
    except ValueError as exc:
        fail(InputError("--shard", str(exc)))
    try:
        account_ids = tuple(parse_accounts(accounts))
        for arn in role_arns:
            parse_role_arn(arn)
    except InputError as exc:
        fail(exc)
    except ValueError as exc:
        fail(InputError("--role-arn", str(exc)))

    config = load_config_for(config_file, against or (Path("."),))
    request = AuditRequest(
        profile,
        region,
        assume_role or "",
        account_ids,
        organization,
        tags,
        names,
        path_prefix,
        role_arns,
        all_roles,
        against,
        network,
        jobs,
        page_size,
        rules_dirs,
        sys.stderr.isatty() if progress is None else progress,
        fmt in ("markdown", "html") or report_file is not None,
        from_dir,
        shard_of,
        # SARIF results need a file: the audit writes a snapshot per account next to the report.
        ((output.parent if output else Path(".")) if fmt == "sarif" else None),
    )
    outcome = run_audit_pipeline(request, config)
    report, view, errors = outcome.report, outcome.view, outcome.errors
    redact = outcome.redact
    write_chunks(render_chunks(report, fmt, view), output, redact)
    if report_file is not None:
        human = "html" if report_file.suffix.lower() in (".html", ".htm") else "markdown"
        write(redact(render(report, human, view)), report_file)
    print_errors([InputError(e.path, redact(e.message), e.line, e.col) for e in errors])
    if errors:
        sys.exit(EXIT_ERROR)
    threshold = fail_on or config.fail_on or "error"
    sys.exit(EXIT_FINDINGS if any(at_or_above(f.severity, threshold) for f in visible(report)) else EXIT_CLEAN)
