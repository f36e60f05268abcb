"""`bglint render APP...`: the break-glass stack Nuon generates for each app, as bglint models it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bglint.cli.common import EXIT_CLEAN, EXIT_ERROR, load_config_for, print_errors
from bglint.cli.options import config_option


@click.command()
@click.argument("apps", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@config_option
def render(apps: tuple[Path, ...], config_file: Path | None) -> None:
    """Print the CloudFormation Nuon generates for each app config's roles (what the rules judge)."""
    from bglint.pipeline.common import CheckOptions, load_documents
    from bglint.report.cloudformation import render_stack

    config = load_config_for(config_file, apps)
    loaded = load_documents(list(apps), CheckOptions(config, (), False, "", None))
    stacks = [doc for doc in loaded.documents if doc.generated_stack is not None]
    texts = [
        render_stack(doc.generated_stack, f"the stack Nuon generates for {doc.path}")  # type: ignore[arg-type]
        for doc in sorted(stacks, key=lambda doc: doc.path)
    ]
    click.echo("---\n".join(texts), nl=False)
    print_errors(loaded.errors)
    if not stacks and not loaded.errors:
        print_errors([])
        click.echo("bglint render: no Nuon app config among the paths given", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_ERROR if loaded.errors else EXIT_CLEAN)
