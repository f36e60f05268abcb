"""`bglint quickcreate`: print a CloudFormation console Quick-create link for a template.

The link is checked with the same code as BG021 (`bglint.quickcreate`): region, stack name,
https template URL, parameters that exist in the template, required ones present, none NoEcho
or secret. Invalid input exits 2 with one line per problem, `TEMPLATE: error: ...`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from bglint.cli.common import EXIT_ERROR
from bglint.errors import InputError


@click.command("quickcreate")
@click.argument("template", type=click.Path(path_type=Path))
@click.option("--template-url", required=True, help="The https URL the template is uploaded to (S3).")
@click.option("--stack-name", required=True, help="The stack's name (letters, digits, hyphens).")
@click.option("--region", required=True, help="The install's AWS region, e.g. us-east-1.")
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="A template parameter's value (repeatable)."
)
def quickcreate(template: Path, template_url: str, stack_name: str, region: str, params: tuple[str, ...]) -> None:
    """Print a Quick-create link that installs TEMPLATE, checked like BG021."""
    from bglint.load.cloudformation.detect import is_template, load_template_text
    from bglint.load.cloudformation.stackfacts import read_parameters
    from bglint.parse.files import read_text
    from bglint.quickcreate import (
        build,
        parameter_problems,
        region_problems,
        stack_name_problems,
        template_url_problems,
    )

    shown = str(template)
    if not template.exists():
        _fail([InputError(shown, "no such file")])
    try:
        data = load_template_text(read_text(template, shown), shown)
    except InputError as exc:
        _fail([exc])
    if not is_template(data):
        _fail([InputError(shown, "not a CloudFormation template (no Resources or AWSTemplateFormatVersion)")])
    given, errors = _pairs(params, shown)
    problems = [
        *region_problems(region, "region"),
        *stack_name_problems(stack_name, "stack-name"),
        *template_url_problems(template_url),
        *parameter_problems(tuple(given), read_parameters(data, shown)),
    ]
    errors += [InputError(shown, f"the link {p.message}; fix: {_for_cli(p.fix)}") for p in problems]
    if errors:
        _fail(errors)
    click.echo(build(region, template_url, stack_name, given))


def _pairs(params: tuple[str, ...], shown: str) -> tuple[list[tuple[str, str]], list[InputError]]:
    given: dict[str, str] = {}
    errors = []
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            errors.append(InputError(shown, f"--param '{item}' must be KEY=VALUE"))
        elif key in given:
            errors.append(InputError(shown, f"--param {key} is given twice"))
        else:
            given[key] = value
    return list(given.items()), errors


def _for_cli(fix: str) -> str:
    """Fix texts speak of link query names; on the command line they are options."""
    return fix.replace("param_", "--param ").replace("?region=", "--region ")


def _fail(errors: list[InputError]) -> NoReturn:
    from bglint.report.escape import for_terminal

    for error in errors:
        click.echo(for_terminal(str(error)), err=True)
    sys.exit(EXIT_ERROR)
