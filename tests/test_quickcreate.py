"""Quick-create links: `bglint quickcreate` prints them, BG021 checks the ones a runbook or app config shares.

Both use bglint.quickcreate, so a link the command prints passes BG021 (tested end to end).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bglint.model import Location, Parameter
from bglint.quickcreate import build, is_quickcreate, parse, problems
from conftest import run_bglint, write_tree
from runbooks import runbook

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  InstallId:
    Type: String
  SupportRoleArn:
    Type: String
    Default: arn:aws:iam::111122223333:role/vendor-support
  DbPassword:
    Type: String
    NoEcho: true
  Enable:
    Type: String
    Default: "true"
    AllowedValues: ["true", "false"]
Resources:
  BreakglassSupportRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Ref SupportRoleArn}
            Action: sts:AssumeRole
      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
"""
S3 = "https://acme-artifacts.s3.us-west-2.amazonaws.com/break-glass/break-glass.yaml"
GOOD = (
    "https://us-west-2.console.aws.amazon.com/cloudformation/home?region=us-west-2#/stacks/quickcreate"
    f"?templateURL={S3}&stackName=acme-break-glass&param_InstallId=inst-123"
)


# -- the shared module ----------------------------------------------------------------------


def _params() -> tuple[Parameter, ...]:
    here = Location("t.yaml")
    return (
        Parameter("InstallId", here),
        Parameter("SupportRoleArn", here, default="arn"),
        Parameter("DbPassword", here, no_echo=True),
        Parameter("Enable", here, default="true", allowed_values=("true", "false")),
    )


def keys(url: str, parameters: tuple[Parameter, ...] | None = None) -> list[str]:
    return [p.key for p in problems(parse(url), parameters)]


def test_a_good_link_has_no_problem() -> None:
    assert is_quickcreate(GOOD)
    assert keys(GOOD, _params()) == []


def test_nuon_style_and_older_links_are_recognised() -> None:
    nuon = f"https://console.aws.amazon.com/cloudformation/home#/stacks/quickcreate?templateUrl={S3}&stackName=x"
    review = f"https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/create/review?templateURL={S3}&stackName=x"
    assert is_quickcreate(nuon) and is_quickcreate(review)
    assert parse(nuon).template_url == S3
    assert keys(nuon) == ["region-missing"]
    assert keys(review) == []
    assert not is_quickcreate("https://console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks")
    assert not is_quickcreate("https://example.com/cloudformation/home#/stacks/quickcreate?templateURL=x")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("region=us-west-2#", "region=us-west2#"), "region"),
        (("us-west-2.console", "us-west-2a.console"), "region"),
        (("region=us-west-2#", "region=eu-west-1#"), "region-mismatch"),
        ((S3, S3.replace("https", "http")), "template-url-scheme"),
        (("stackName=acme-break-glass", "stackName=acme_break_glass"), "stack-name"),
        (("stackName=acme-break-glass", "stackName=9acme"), "stack-name"),
        (("&stackName=acme-break-glass", ""), "stack-name-missing"),
        (("stackName=", "stackname="), "key:stackname"),
        (("param_InstallId=inst-123", "param_InstalId=inst-123"), "param-unknown:InstalId"),
        (("param_InstallId=inst-123", "param_InstallId=inst-123&param_DbPassword=hunter2"), "param-noecho:DbPassword"),
        (("param_InstallId=inst-123", "param_InstallId=inst-123&param_Enable=yes"), "param-value:Enable"),
    ],
)
def test_each_problem(change: tuple[str, str], key: str) -> None:
    url = GOOD.replace(*change)
    assert url != GOOD
    found = keys(url, _params())
    assert key in found, found
    if key == "param-unknown:InstalId":
        assert "param-required:InstallId" in found


def test_without_the_template_only_the_link_itself_is_judged() -> None:
    url = GOOD.replace("param_InstallId", "param_Anything") + "&param_ApiToken=abc"
    assert keys(url, None) == ["param-secret:ApiToken"]


def test_placeholders_are_filled_in_later() -> None:
    url = (
        "https://{{.nuon.cloud_account.aws.region}}.console.aws.amazon.com/cloudformation/home"
        "?region={{.nuon.cloud_account.aws.region}}#/stacks/quickcreate"
        f"?templateURL={S3}&stackName=bg-{{{{.nuon.install.id}}}}&param_InstallId={{{{.nuon.install.id}}}}"
    )
    assert keys(url, _params()) == []


def test_china_region_needs_the_china_console() -> None:
    url = GOOD.replace("us-west-2", "cn-north-1")
    assert keys(url) == ["region-partition"]
    assert keys(build("cn-north-1", S3, "x", [])) == []


VALUE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    region=st.sampled_from(["us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1", "cn-northwest-1"]),
    stack=st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,40}", fullmatch=True),
    values=st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True), VALUE, max_size=4),
    template_query=VALUE,
)
def test_build_then_parse_gives_back_every_value(
    region: str, stack: str, values: dict[str, str], template_query: str
) -> None:
    """Whatever the values hold (&, =, #, %, spaces, non-ASCII), they survive the round trip."""
    template_url = f"{S3}?v={template_query}"
    url = build(region, template_url, stack, list(values.items()))
    assert is_quickcreate(url)
    link = parse(url)
    assert (link.template_url, link.stack_name, dict(link.params)) == (template_url, stack, values)
    assert region in (link.host_region or link.query_region)
    assert " " not in url and "\n" not in url


# -- bglint quickcreate ----------------------------------------------------------------------


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    write_tree(tmp_path, {"break-glass.yaml": TEMPLATE, "notes.yaml": "just: text\n"})
    return tmp_path


def quickcreate(cwd: Path, *args: str) -> Any:
    return run_bglint("quickcreate", *args, cwd=cwd)


BASE = ("break-glass.yaml", "--template-url", S3, "--stack-name", "acme-break-glass", "--region", "us-west-2")


@pytest.mark.slow
def test_prints_a_checked_percent_encoded_link(template_dir: Path) -> None:
    result = quickcreate(template_dir, *BASE, "--param", "InstallId=inst 1&x=y", "--param", "Enable=false")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (url,) = result.stdout.splitlines()
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.hostname == "us-west-2.console.aws.amazon.com"
    assert parts.path == "/cloudformation/home" and parts.query == "region=us-west-2"
    route, query = parts.fragment.split("?", 1)
    assert route == "/stacks/quickcreate"
    assert parse_qsl(query) == [
        ("templateURL", S3),
        ("stackName", "acme-break-glass"),
        ("param_InstallId", "inst 1&x=y"),
        ("param_Enable", "false"),
    ]
    assert "inst%201%26x%3Dy" in query  # encoded, not split at the & or =


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--region", "us-east"), "'us-east' as its region, which is not an AWS region name"),
        (("--region", "us-east-1b"), "availability zone"),
        (("--template-url", "http://acme-artifacts.s3.amazonaws.com/bg.yaml"), "not https"),
        (("--stack-name", "acme_bg"), "stack name 'acme_bg'"),
        (("--param", "InstalId=1"), "param_InstalId, which the template does not define"),
        (("--param", "DbPassword=hunter2"), "NoEcho parameter DbPassword"),
        (("--param", "Enable=maybe"), "AllowedValues"),
        (("--param", "nokey"), "--param 'nokey' must be KEY=VALUE"),
    ],
)
def test_invalid_input_exits_2_with_one_line(template_dir: Path, args: tuple[str, ...], says: str) -> None:
    base = dict(zip(BASE[1::2], BASE[2::2], strict=True))
    params = ["--param", "InstallId=inst-1"]
    if args[0] == "--param":
        params += list(args)
    else:
        base[args[0]] = args[1]
    result = quickcreate(template_dir, "break-glass.yaml", *(x for kv in base.items() for x in kv), *params)
    assert result.returncode == 2
    assert result.stdout == ""
    problems_ = [line for line in result.stderr.splitlines() if "required parameter" not in line]
    (line,) = problems_
    assert line.startswith("break-glass.yaml: error: ") and says in line, line
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_missing_required_parameter_exits_2(template_dir: Path) -> None:
    result = quickcreate(template_dir, *BASE)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "break-glass.yaml: error: the link does not set required parameter InstallId (it has no Default), so the "
        "customer must find the right value during the incident; fix: add --param InstallId=<value>"
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("nope.yaml", "nope.yaml: error: no such file"),
        ("notes.yaml", "notes.yaml: error: not a CloudFormation template"),
    ],
)
def test_template_that_is_not_one_exits_2(template_dir: Path, template: str, says: str) -> None:
    result = quickcreate(template_dir, template, *BASE[1:])
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(says)


# -- BG021 in `bglint check` ------------------------------------------------------------------

ROLE = "{{.nuon.install.id}}-support-bg"


def app_with(links: list[str], stack_comment: str = "") -> dict[str, str]:
    book = runbook({ROLE: "component"}, extra="\n## Links\n\n" + "".join(f"- [install]({u})\n" for u in links))
    return {
        "metadata.toml": 'version = "v2"\n',
        "stack.toml": f'{stack_comment}name = "s"\ndescription = "d"\nvpc_nested_template_url = "https://x/vpc/eks/stack.yaml"\n',
        "break_glass.toml": f'[[role]]\nname = "{ROLE}"\ndescription = "d"\n\n[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n',
        "RUNBOOK.md": book,
        "cloudformation/break-glass.yaml": TEMPLATE,
    }


CASES: dict[str, tuple[list[str], str, list[str]]] = {
    # name: (links in the runbook, stack.toml comment, the BG021 problems expected, by message piece)
    "valid": ([GOOD], "", []),
    "invalid-region": ([GOOD.replace("region=us-west-2#", "region=us-west-02x#")], "", ["'us-west-02x' as its region"]),
    "http-template": ([GOOD.replace(S3, S3.replace("https:", "http:"))], "", ["templateURL that is not https"]),
    "unknown-parameter": (
        [GOOD + "&param_SupportRole=arn:aws:iam::111122223333:role/x"],
        "",
        [
            "(template unknown-parameter/cloudformation/break-glass.yaml) sets param_SupportRole, which the "
            "template does not define; CloudFormation silently ignores it. Fix: remove it or fix the name "
            "(did you mean 'SupportRoleArn'?)"
        ],
    ),
    "missing-required": ([GOOD.replace("&param_InstallId=inst-123", "")], "", ["required parameter InstallId"]),
    "noecho-value": ([GOOD + "&param_DbPassword=hunter2"], "", ["NoEcho parameter DbPassword"]),
    "link-in-stack-toml": (
        [],
        f"# break glass: {GOOD.replace('us-west-2#', 'us-west-2a#')}\n",
        ["'us-west-2a' as its region, which is an availability zone"],
    ),
}


@pytest.fixture(scope="module")
def bg021(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    base = tmp_path_factory.mktemp("links")
    for name, (links, comment, _) in CASES.items():
        write_tree(base / name, app_with(links, comment))
    result = run_bglint("check", "--format", "json", *CASES, cwd=base)
    data = json.loads(result.stdout)
    assert data["errors"] == [], result.stderr
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in CASES}
    for finding in data["findings"]:
        found[finding["document"].split("/")[0]].append(finding)  # the app, or a template inside it
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_bg021_case(name: str, bg021: dict[str, list[dict[str, Any]]]) -> None:
    links, _, expected = CASES[name]
    hits = [f for f in bg021[name] if f["rule"] == "BG021"]
    assert len(hits) == len(expected), [f["message"] for f in hits]
    for finding, piece in zip(hits, expected, strict=True):
        assert piece in finding["message"], finding["message"]
        assert finding["severity"] == "error"
        assert " Fix: " in finding["message"]
    assert [f for f in bg021[name] if f["rule"] == "BG020"] == []
    if hits and links:
        (finding,) = hits
        assert finding["path"] == f"{name}/RUNBOOK.md"
        line = (Path(finding["path"]).name, finding["line"], finding["column"])
        book = app_with(links)["RUNBOOK.md"].splitlines()
        assert book[line[1] - 1][line[2] - 1 :].startswith("https://"), line
    if name == "link-in-stack-toml":
        (finding,) = hits
        assert (finding["path"], finding["line"], finding["column"]) == (f"{name}/stack.toml", 1, 16)


@pytest.mark.slow
def test_a_link_bglint_quickcreate_printed_passes_bg021(tmp_path: Path) -> None:
    write_tree(tmp_path / "app", app_with([]))
    made = run_bglint(
        "quickcreate",
        "app/cloudformation/break-glass.yaml",
        "--template-url",
        S3,
        "--stack-name",
        "acme-break-glass",
        "--region",
        "eu-central-1",
        "--param",
        "InstallId=inst-1",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    write_tree(tmp_path / "app", {"RUNBOOK.md": app_with([made.stdout.strip()])["RUNBOOK.md"]})
    result = run_bglint("check", "--format", "json", "app", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert data["errors"] == []
    assert [f for f in data["findings"] if f["rule"] in ("BG020", "BG021")] == []
