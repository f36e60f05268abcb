"""The `bglint` command group: its commands, imported by name when they run or a help lists them."""

from __future__ import annotations

import importlib

import click

from bglint import __version__
from bglint.cli.common import EXIT_CODES_HELP

# Each command as "module:attribute", imported when it runs or a help lists it: `bglint check`
# on one file does not import the other commands or build their options.
_COMMANDS = {
    "audit": "bglint.cli.audit:audit",
    "baseline": "bglint.cli.check:baseline",
    "check": "bglint.cli.check:check",
    "config": "bglint.cli.check:config_group",
    "explain": "bglint.cli.check:explain",
    "merge": "bglint.cli.merge:merge",
    "permissions": "bglint.cli.check:permissions",
    "quickcreate": "bglint.cli.quickcreate:quickcreate",
    "render": "bglint.cli.render:render",
    "rules": "bglint.cli.check:list_rules",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported by name (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module, _, name = _COMMANDS[cmd_name].partition(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # "did you mean": among all names, not the loaded ones
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=_COMMANDS, ctx=ctx) from None


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from bglint.iam.managed import load_managed
    from bglint.pipeline.common import provenance

    data = provenance()
    catalog, managed = data["iam_catalog"], data["aws_managed_policies"]
    gcp, azure = data["gcp_roles"], data["azure_roles"]
    click.echo(
        f"bglint {__version__}\n"
        f"IAM catalog: {catalog.get('source')} {catalog.get('version')} (data {catalog.get('date')})\n"
        f"AWS-managed policies: {len(load_managed().names()):,} from {managed.get('source')} {managed.get('version')}"
        f" {managed.get('file')} (data {managed.get('date')}, built {managed.get('built')})\n"
        f"GCP predefined roles: {gcp.get('source')} {gcp.get('version')} (data {gcp.get('date')})\n"
        f"Azure built-in roles: {azure.get('source')} {azure.get('version')} (data {azure.get('date')})"
    )
    ctx.exit()


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
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
