"""The CI gate end to end: config, governed suppressions, baseline, CI output formats, the
GitHub Action, the pre-commit entry, rule docs and exit codes.

Everything runs the real CLI (`python -m bglint`) in a subprocess on files written to disk;
the baseline tests work in a real git repository, and SARIF with suppressions is checked by
the official schema and Microsoft's SARIF Multitool with GitHub's rules (as in test_sarif).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from bglint.load.config import may_name_tool_bglint
from conftest import run_bglint, write_tree
from test_sarif import SCHEMA, _tool, multitool_errors

REPO = Path(__file__).resolve().parents[1]
REPORT_SCHEMA = REPO / "schemas" / "report.schema.json"
IDENTITY = ("-c", "user.name=bglint tests", "-c", "user.email=tests@bglint.invalid")
# GIT_DIR and friends (set when pytest runs inside a git hook) would point git at the project.
GIT_ENV = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}

TODAY = dt.date.today()
YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()
NEXT_YEAR = (TODAY + dt.timedelta(days=365)).isoformat()

ANNOTATION = re.compile(r"^::(error|warning|notice) file=[^,:\n]+,line=\d+,col=\d+,title=[^,:\n]+::\S.*$")

# -- fixtures: templates -----------------------------------------------------------------

TRUST = """\
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: arn:aws:iam::111122223333:role/vendor-oncall}
            Action: sts:AssumeRole
"""

BOUNDARY_RESOURCE = """\
  OpsBoundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: [sts:GetCallerIdentity]
            Resource: "*"
"""


def cfn_role(logical: str, *, bounded: bool = True, broad: bool = False, ignore: str = "") -> str:
    """A break-glass role (Nuon's `Breakglass...` logical id) that only reads its own identity.

    Unbounded: BG002 (an error in a customer-managed network). Broad (and unbounded): also
    s3:DeleteBucket on every bucket, BG003. `ignore`: YAML list items for Metadata bglint.ignore.
    """
    text = f"  {logical}:\n    Type: AWS::IAM::Role\n"
    if ignore:
        text += "    Metadata:\n      bglint:\n        ignore:\n" + textwrap.indent(textwrap.dedent(ignore), " " * 10)
    text += "    Properties:\n" + TRUST
    if bounded:
        text += "      PermissionsBoundary: !Ref OpsBoundary\n"
    actions = "[sts:GetCallerIdentity, s3:DeleteBucket]" if broad else "[sts:GetCallerIdentity]"
    text += f"""\
      Policies:
        - PolicyName: ops
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: {actions}
                Resource: "*"
"""
    return text


def template(*roles: str, head: str = "") -> str:
    return head + 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n' + "".join(roles) + BOUNDARY_RESOURCE


# -- fixtures: Nuon app configs --------------------------------------------------------------

APP_BASE: dict[str, str | bytes] = {
    "metadata.toml": 'version = "v2"\n',
    # byo-vpc: a customer-managed network, where BG002 and BG003 are errors.
    "stack.toml": (
        'type = "aws-cloudformation"\nname = "demo-{{.nuon.install.id}}"\ndescription = "install stack"\n'
        'vpc_nested_template_url = "https://example.com/templates/v1/byo-vpc/default/stack.yaml"\n'
    ),
    "permissions/boundary.json": (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity"], '
        '"Resource": "*"}]}\n'
    ),
}


def toml_role(short: str, *, bounded: bool = True, broad: bool = False, above: str = "", inside: str = "") -> str:
    """A [[role]] of break_glass.toml named `{{.nuon.install.id}}-<short>`, like test fixtures above.

    `above`: comment lines right above the header; `inside`: comment lines after its keys.
    """
    actions = '"sts:GetCallerIdentity", "s3:DeleteBucket"' if broad else '"sts:GetCallerIdentity"'
    boundary = '"./boundary.json"' if bounded else '""'
    return f"""\
{above}[[role]]
name                 = "{{{{.nuon.install.id}}}}-{short}"
description          = "Incident access: {short}"
permissions_boundary = {boundary}
{inside}
[[role.policies]]
name     = "{{{{.nuon.install.id}}}}-{short}"
contents = '{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": [{actions}], "Resource": "*"}}]}}'

"""


def app(*roles: str) -> dict[str, str | bytes]:
    return {**APP_BASE, "break_glass.toml": "".join(roles)}


def role_name(short: str) -> str:
    return "{{.nuon.install.id}}-" + short


# -- helpers -----------------------------------------------------------------------------------


def lines(text: str) -> list[str]:
    return text.splitlines()


def check_json(cwd: Path, *args: str | os.PathLike[str]) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_bglint("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), f"exit {result.returncode}\n{result.stderr}"
    data: dict[str, Any] = json.loads(result.stdout)
    return result, data


def facts(data: dict[str, Any]) -> set[tuple[str, str, bool]]:
    """(rule, role, suppressed) of every finding in a JSON report."""
    return {(f["rule"], f["role"], f["suppression"] is not None) for f in data["findings"]}


def visible(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["suppression"] is None]


def one(data: dict[str, Any], rule: str, role: str = "") -> dict[str, Any]:
    (found,) = [f for f in data["findings"] if f["rule"] == rule and (not role or f["role"] == role)]
    result: dict[str, Any] = found
    return result


def assert_one_error_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = lines(result.stderr)
    assert ": error: " in line, line
    for needle in needles:
        assert needle in line, line
    return line


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True)
    return proc.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, *IDENTITY, "commit", "-q", "-m", message)


def validate_sarif(path: Path, tmp_path: Path) -> None:
    """The official SARIF 2.1.0 schema and the Multitool with GitHub's rules (see test_sarif)."""
    log = json.loads(path.read_text(encoding="utf-8"))
    schema = json.loads(_tool(SCHEMA).read_text(encoding="utf-8"))
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(log)]
    assert not errors, "\n".join(errors)
    problems = multitool_errors(path, tmp_path)
    assert not problems, "SARIF Multitool errors:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def report_validator() -> Draft202012Validator:
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# == configuration ==============================================================================


def _bg002_severities(data: dict[str, Any]) -> list[str]:
    return [f["severity"] for f in data["findings"] if f["rule"] == "BG002"]


@pytest.mark.slow
def test_config_is_discovered_from_a_parent_directory_of_the_checked_path(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "repo",
        {
            ".bglint.yaml": "network: customer-managed\nseverity: {BG002: warning}\n",
            "deploy/stacks/ops.yaml": template(cfn_role("BreakglassOps", bounded=False)),
        },
    )
    # From inside the tree, and from outside it (the search starts at the path, not the cwd).
    _, inside = check_json(root / "deploy" / "stacks", "ops.yaml")
    _, outside = check_json(tmp_path, "repo/deploy/stacks/ops.yaml")
    assert _bg002_severities(inside) == _bg002_severities(outside) == ["warning"]
    (doc,) = inside["documents"]
    assert doc["network"]["signal"] == "stated in the bglint config"

    # The other direction: a sibling tree without a config gets the defaults (BG002 is a note
    # in a network of unknown kind).
    write_tree(tmp_path / "elsewhere", {"ops.yaml": template(cfn_role("BreakglassOps", bounded=False))})
    _, plain = check_json(tmp_path / "elsewhere", "ops.yaml")
    assert _bg002_severities(plain) == ["note"]


@pytest.mark.slow
def test_config_from_pyproject_tool_bglint(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "infra"\n\n[tool.bglint]\nnetwork = "customer-managed"\n'
            'fail-on = "never"\n\n[tool.bglint.severity]\nBG002 = "warning"\n',
            "stacks/ops.yaml": template(cfn_role("BreakglassOps", bounded=False, broad=True)),
        },
    )
    result, data = check_json(root, "stacks/ops.yaml")
    assert _bg002_severities(data) == ["warning"]
    assert one(data, "BG003")["severity"] == "error"  # network: customer-managed applied
    assert result.returncode == 0  # fail-on: never


@pytest.mark.slow
def test_pyproject_without_tool_bglint_is_passed_over_for_a_config_above(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            ".bglint.yaml": "network: customer-managed\n",
            "pkg/pyproject.toml": '[project]\nname = "pkg"\n\n[tool.ruff]\nline-length = 100\n',
            "pkg/ops.yaml": template(cfn_role("BreakglassOps", bounded=False)),
        },
    )
    _, data = check_json(root / "pkg", "ops.yaml")
    assert _bg002_severities(data) == ["error"]
    shown = run_bglint("config", "show", cwd=root / "pkg")
    assert lines(shown.stdout)[0] == f"# config file: {root.resolve() / '.bglint.yaml'}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "pyproject",
    [
        '[tool.bglint.severity]\nBG002 = "warning"\n',
        'tool.bglint.severity = {BG002 = "warning"}\n',
        '[tool]\nbglint = {severity = {BG002 = "warning"}}\n',
        '[ tool . "bglint" ]\nnetwork = "customer-managed"\n',
        "tool = { 'bglint' = { network = \"customer-managed\" } }\n",
        '[tool."bgl\\u0069nt"]\nnetwork = "customer-managed"\n',
    ],
    ids=["sub-table-only", "dotted-key", "inline-table", "quoted-header", "quoted-inline", "escaped"],
)
def test_pyproject_tool_bglint_written_without_its_own_header_is_found(tmp_path: Path, pyproject: str) -> None:
    """Valid TOML spellings of [tool.bglint] without the literal `[tool.bglint]` header line."""
    root = write_tree(tmp_path, {"pyproject.toml": pyproject, "ops.yaml": template(cfn_role("BreakglassOps"))})
    shown = run_bglint("config", "show", cwd=root)
    # Named relative to the working directory, as findings name files.
    assert lines(shown.stdout)[0] == "# config file: pyproject.toml", shown.stdout


@pytest.mark.slow
def test_config_option_overrides_discovery(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            ".bglint.yaml": "network: customer-managed\nseverity: {BG002: warning}\n",
            "ci/strict.yaml": "network: customer-managed\n",
            "ops.yaml": template(cfn_role("BreakglassOps", bounded=False)),
        },
    )
    discovered, data = check_json(root, "ops.yaml")
    assert _bg002_severities(data) == ["warning"] and discovered.returncode == 0
    chosen, data = check_json(root, "--config", "ci/strict.yaml", "ops.yaml")
    assert _bg002_severities(data) == ["error"] and chosen.returncode == 1
    shown = run_bglint("config", "show", "--config", "ci/strict.yaml", cwd=root)
    assert lines(shown.stdout)[0] == "# config file: ci/strict.yaml"
    assert "severity: {}    # from default" in lines(shown.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("fail-on: sometimes\n", "fail-on"),
        ("severity: {BG002: critical}\n", "BG002"),
        ("subnet-ids: [net-1]\n", "subnet-ids"),
        ("apps: {apps/demo: {network: partly}}\n", "network"),
        ("ignore:\n  - rule: BG002\n", "reason"),
        ("ignore:\n  - rule: BG002\n    reason: ok\n    until: 20301231\n", "until"),
        ("network: [customer-managed\n", ".bglint.yaml:"),
    ],
    ids=["fail-on", "severity", "subnet", "app-network", "ignore-no-reason", "until-number", "yaml-syntax"],
)
def test_invalid_config_exits_2_with_one_line_naming_the_config(tmp_path: Path, text: str, needle: str) -> None:
    root = write_tree(tmp_path, {".bglint.yaml": text, "ops.yaml": template(cfn_role("BreakglassOps"))})
    result = run_bglint("check", "ops.yaml", cwd=root)
    assert result.returncode == 2
    line = assert_one_error_line(result, needle)
    assert line.startswith(".bglint.yaml:"), line
    assert result.stdout == ""
    # The same file named with --config is shown as given.
    named = run_bglint("check", "--config", ".bglint.yaml", "ops.yaml", cwd=root)
    assert named.returncode == 2
    assert assert_one_error_line(named, needle).startswith(".bglint.yaml")


@pytest.mark.slow
def test_a_broken_config_fails_only_its_own_paths_the_others_are_checked(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "broken/.bglint.yaml": "fail-on: sometimes\n",
            "broken/ops.yaml": template(cfn_role("BreakglassOps", bounded=False, broad=True)),
            "fine/ops.yaml": template(cfn_role("BreakglassOps", bounded=False, broad=True)),
        },
    )
    result = run_bglint("check", "--format", "json", "broken/ops.yaml", "fine/ops.yaml", cwd=root)
    assert result.returncode == 2
    assert assert_one_error_line(result, "fail-on").startswith("broken/.bglint.yaml:1:10: error: invalid config")
    data = json.loads(result.stdout)
    assert {f["path"] for f in data["findings"]} == {"fine/ops.yaml"}
    assert [e["path"] for e in data["errors"]] == ["broken/.bglint.yaml"]
    # A baseline of some of the paths would drop the others' entries: none is written.
    made = run_bglint("baseline", "create", "broken/ops.yaml", "fine/ops.yaml", cwd=root)
    assert made.returncode == 2 and not (root / ".bglint-baseline.json").exists()
    assert assert_one_error_line(made, "fail-on").startswith("broken/.bglint.yaml:1:10")


@pytest.mark.slow
@pytest.mark.parametrize("until", ["2030-13-45", "2030-02-30"])
def test_config_until_that_is_no_calendar_date_exits_2_with_one_line(tmp_path: Path, until: str) -> None:
    """YAML reads 2030-13-45 as a timestamp and fails while building it, before the schema sees it."""
    config = f"ignore:\n  - rule: BG002\n    reason: boundary next sprint\n    until: {until}\n"
    root = write_tree(tmp_path, {".bglint.yaml": config, "ops.yaml": template(cfn_role("BreakglassOps"))})
    result = run_bglint("check", "ops.yaml", cwd=root)
    assert result.returncode == 2
    assert_one_error_line(result, ".bglint.yaml", "until")


@pytest.mark.slow
def test_config_show_names_the_file_for_set_keys_and_default_for_the_rest(tmp_path: Path) -> None:
    config = (
        "fail-on: warning\nsubnet-ids: [subnet-0abc1234]\n"
        "ignore:\n  - rule: BG003\n    reason: tags arrive in v2\n    owner: alice\n    role: 'Breakglass*'\n"
    )
    root = write_tree(tmp_path / "proj", {".bglint.yaml": config, "sub/ops.yaml": template(cfn_role("BreakglassOps"))})
    result = run_bglint("config", "show", "sub", cwd=root)
    assert result.returncode == 0, result.stderr
    head, *rows = lines(result.stdout)
    source = ".bglint.yaml"  # relative to the working directory, as findings name files
    assert head == f"# config file: {source}"
    by_key = {row.split(":", 1)[0]: row for row in rows}
    for key in ("fail-on", "subnet-ids", "ignore"):
        assert by_key[key].endswith(f"# from {source}"), by_key[key]
    assert "warning" in by_key["fail-on"] and "subnet-0abc1234" in by_key["subnet-ids"]
    assert "BG003" in by_key["ignore"] and "Breakglass*" in by_key["ignore"]
    defaults = set(by_key) - {"fail-on", "subnet-ids", "ignore"}
    assert {"network", "tag-keys", "severity", "disable", "rules"} <= defaults
    for key in defaults:
        assert by_key[key].endswith("# from default"), by_key[key]

    # No config anywhere: every value is a default.
    write_tree(tmp_path / "bare", {"ops.yaml": template(cfn_role("BreakglassOps"))})
    bare = run_bglint("config", "show", cwd=tmp_path / "bare")
    head, *rows = lines(bare.stdout)
    assert head == "# config file: no config file found"
    assert rows and all(row.endswith("# from default") for row in rows)
    assert any(row.startswith("fail-on: error") for row in rows)


CONFIG_SCHEMA = json.loads((REPO / "schemas" / "config.schema.json").read_text(encoding="utf-8"))


def _config_rows(cwd: Path) -> tuple[str, dict[str, str]]:
    """`bglint config show` run in `cwd`: its header line and its rows by key."""
    result = run_bglint("config", "show", cwd=cwd)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    head, *rows = lines(result.stdout)
    return head, {row.split(":", 1)[0]: row for row in rows}


@pytest.mark.slow
def test_config_show_prints_every_key_the_schema_accepts_with_its_default(tmp_path: Path) -> None:
    """The rows are the schema's keys, so a key added to the schema and not to `config show` fails
    here. Defaults are the ones the schema documents."""
    head, by_key = _config_rows(write_tree(tmp_path, {"ops.yaml": template(cfn_role("BreakglassOps"))}))
    assert head == "# config file: no config file found"
    assert set(by_key) == set(CONFIG_SCHEMA["properties"])
    assert all(row.endswith("    # from default") for row in by_key.values()), by_key
    assert by_key["standing-access-days"].startswith("standing-access-days: 30    #")
    assert "'in-stack': 'optional'" in by_key["alerts"]
    assert "not judged" in by_key["drills"]
    limits = ("'max-file-bytes': 10485760", "'max-values': 200000", "'max-depth': 1000", "'max-statements': 1000")
    assert all(limit in by_key["limits"] for limit in (*limits, "'max-seconds': 2")), by_key["limits"]
    assert "RUNBOOK.md" in by_key["runbook"] and ".bglint-baseline.json" in by_key["baseline"]


@pytest.mark.slow
def test_config_show_prints_the_values_a_config_sets_for_every_key(tmp_path: Path) -> None:
    config = """\
alerts: {in-stack: required}
drills:
  interval-days: 90
  incidents: [{start: 2026-01-02, end: "2026-01-03T12:00:00Z"}]
standing-access-days: 14
limits: {max-seconds: 5}
runbook: docs/incident.md
baseline: ci/bglint-baseline.json
apps: {apps/demo: {network: vendor-managed, runbook: RUNBOOK-demo.md}}
"""
    root = write_tree(tmp_path, {".bglint.yaml": config, "ops.yaml": template(cfn_role("BreakglassOps"))})
    head, by_key = _config_rows(root)
    assert head == "# config file: .bglint.yaml"
    assert set(by_key) == set(CONFIG_SCHEMA["properties"])
    written = set(yaml.safe_load(config))
    for key, row in by_key.items():
        assert row.endswith("    # from .bglint.yaml" if key in written else "    # from default"), row
    # An object key's row names every key the schema accepts inside it.
    for key in written:
        for inner in CONFIG_SCHEMA["properties"][key].get("properties", ()):
            assert f"'{inner}'" in by_key[key], (inner, by_key[key])
    assert by_key["standing-access-days"].startswith("standing-access-days: 14    #")
    assert "'in-stack': 'required'" in by_key["alerts"]
    assert "'interval-days': 90" in by_key["drills"]
    assert "'start': '2026-01-02', 'end': '2026-01-03T12:00:00Z'" in by_key["drills"]
    assert re.search(r"'max-seconds': 5[,}]", by_key["limits"]) and "'max-depth': 1000" in by_key["limits"]
    assert by_key["runbook"].startswith("runbook: docs/incident.md    #")
    assert str(Path("ci") / "bglint-baseline.json") in by_key["baseline"]
    assert "'network': 'vendor-managed', 'runbook': 'RUNBOOK-demo.md'" in by_key["apps"]


# == governed suppressions =====================================================================


@pytest.mark.slow
def test_metadata_suppression_suppresses_exactly_its_rule_on_its_role(tmp_path: Path) -> None:
    ignore = f"""\
    - rule: BG002
      reason: the boundary ships with the next release
      owner: platform-team
      until: {NEXT_YEAR}
    """
    write_tree(
        tmp_path,
        {
            "ops.yaml": template(
                cfn_role("BreakglassA", bounded=False, broad=True, ignore=ignore),
                cfn_role("BreakglassB", bounded=False),
            )
        },
    )
    result, data = check_json(tmp_path, "--network", "customer-managed", "ops.yaml")
    assert {
        ("BG002", "BreakglassA", True),
        ("BG003", "BreakglassA", False),
        ("BG002", "BreakglassB", False),
    } <= facts(data)
    suppression = one(data, "BG002", "BreakglassA")["suppression"]
    assert suppression == {
        "reason": "the boundary ships with the next release",
        "owner": "platform-team",
        "until": NEXT_YEAR,
        "source": "metadata",
        "path": "ops.yaml",
        "line": suppression["line"],
    }
    text = lines(ops_text := (tmp_path / "ops.yaml").read_text())
    assert text[suppression["line"] - 1].strip() == "- rule: BG002", ops_text
    assert data["summary"]["suppressed"] == 1
    assert data["summary"]["findings"] == len(visible(data))
    assert not {"BG040", "BG041", "BG042"} & {f["rule"] for f in data["findings"]}
    assert result.returncode == 1  # BreakglassA's BG003 and BreakglassB's BG002 still count

    # Text hides the suppressed finding and counts it.
    shown = run_bglint("check", "--network", "customer-managed", "ops.yaml", cwd=tmp_path)
    assert not [ln for ln in lines(shown.stdout) if " BG002 " in ln and "'BreakglassA'" in ln]
    assert [ln for ln in lines(shown.stdout) if " BG002 " in ln and "'BreakglassB'" in ln]
    assert lines(shown.stdout)[-1].endswith("; 1 suppressed.")


TOP_LEVEL_IGNORE = {"bglint": {"ignore": [{"rule": "BG002", "reason": "the boundary ships with v2"}]}}


def _top_level_metadata_template(kind: str, metadata: dict[str, Any]) -> tuple[str, str]:
    """(file name, text) of an unbounded break-glass role's template with `metadata` at its top."""
    body = yaml.safe_load(template(cfn_role("BreakglassOps", bounded=False)))
    data = {"AWSTemplateFormatVersion": body.pop("AWSTemplateFormatVersion"), "Metadata": metadata, **body}
    if kind == "json":
        return "ops.json", json.dumps(data, indent=2) + "\n"
    return "ops.yaml", yaml.safe_dump(data, sort_keys=False)


def _key_position(text: str, key: str) -> tuple[int, int]:
    """Line and column (1-based) where `key` is first written as a YAML or JSON key."""
    for number, line in enumerate(lines(text), start=1):
        stripped = line.lstrip()
        if stripped.startswith((f"{key}:", f'"{key}":')):
            return number, len(line) - len(stripped) + 1
    raise AssertionError(f"no key {key!r} in\n{text}")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_suppression_in_a_templates_top_level_metadata_is_an_input_error_and_suppresses_nothing(
    tmp_path: Path, kind: str
) -> None:
    """cfn-lint reads its own `Metadata: cfn-lint: config` at the template's top; bglint keeps
    each suppression on the role it excuses, so one written at the top is named, never obeyed."""
    name, text = _top_level_metadata_template(kind, TOP_LEVEL_IGNORE)
    write_tree(tmp_path, {name: text})
    result = run_bglint("check", "--format", "json", "--network", "customer-managed", name, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    line, col = _key_position(text, "ignore")
    error = assert_one_error_line(result, "`Metadata: bglint: ignore` at the top of a template suppresses nothing")
    assert error.startswith(f"{name}:{line}:{col}: error: "), error
    assert "under that role's `Metadata: bglint: ignore`" in error and "`.bglint.yaml` `ignore:`" in error
    data = json.loads(result.stdout)
    assert ("BG002", "BreakglassOps", False) in facts(data)  # still reported, still counts
    assert data["summary"]["suppressed"] == 0

    # The text report says the same on stderr, under the findings it left standing.
    shown = run_bglint("check", "--network", "customer-managed", name, cwd=tmp_path)
    assert [ln for ln in lines(shown.stdout) if " BG002 " in ln and "'BreakglassOps'" in ln]
    assert assert_one_error_line(shown) == error


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "key", "value"), [("yaml", "break_glass", True), ("json", "level", "sandbox")])
def test_a_role_setting_in_a_templates_top_level_metadata_is_an_input_error(
    tmp_path: Path, kind: str, key: str, value: object
) -> None:
    """`break_glass` and `level` are read on each role; at the top they would select or place nothing."""
    name, text = _top_level_metadata_template(kind, {"bglint": {key: value}})
    write_tree(tmp_path, {name: text})
    result = run_bglint("check", "--format", "json", "--network", "customer-managed", name, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    line, col = _key_position(text, key)
    error = assert_one_error_line(result, f"`Metadata: bglint: {key}` at the top of a template is not read")
    assert error.startswith(f"{name}:{line}:{col}: error: "), error
    assert f"under that role's `Metadata: bglint: {key}`" in error
    assert ("BG002", "BreakglassOps", False) in facts(json.loads(result.stdout))  # the role is still checked


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_other_top_level_metadata_is_not_an_error(tmp_path: Path, kind: str) -> None:
    """cfn-lint's own config and the console's parameter groups are not bglint's to judge."""
    metadata = {
        "cfn-lint": {"config": {"ignore_checks": ["E3002"]}},
        "AWS::CloudFormation::Interface": {"ParameterGroups": []},
    }
    name, text = _top_level_metadata_template(kind, metadata)
    write_tree(tmp_path, {name: text})
    result, data = check_json(tmp_path, "--network", "customer-managed", name)
    assert result.stderr == "" and result.returncode == 1
    assert ("BG002", "BreakglassOps", False) in facts(data)


@pytest.mark.slow
def test_toml_comment_suppressions_inside_a_table_and_right_above_a_header(tmp_path: Path) -> None:
    inside = f'# bglint: ignore BG003 reason="bucket cleanup is this role\'s job" owner=alice until={NEXT_YEAR}\n'
    above = '# Why the boundary is missing:\n# bglint: ignore BG002 reason="boundary comes with v2" owner=bob\n'
    write_tree(
        tmp_path / "demo",
        app(
            toml_role("alpha", bounded=False, broad=True, inside=inside),
            toml_role("beta", bounded=False, broad=True, above=above),
        ),
    )
    _, data = check_json(tmp_path, "demo")
    alpha, beta = role_name("alpha"), role_name("beta")
    assert {
        ("BG002", alpha, False),
        ("BG003", alpha, True),
        ("BG002", beta, True),
        ("BG003", beta, False),
    } <= facts(data)
    assert one(data, "BG003", alpha)["suppression"] == {
        "reason": "bucket cleanup is this role's job",
        "owner": "alice",
        "until": NEXT_YEAR,
        "source": "toml-comment",
        "path": "demo/break_glass.toml",
        "line": 5,
    }
    assert one(data, "BG002", beta)["suppression"]["owner"] == "bob"
    assert data["summary"]["suppressed"] == 2
    assert not {"BG040", "BG041", "BG042"} & {f["rule"] for f in data["findings"]}


@pytest.mark.slow
def test_toml_comment_at_the_end_of_a_roles_table_stays_with_that_role(tmp_path: Path) -> None:
    """A comment closing role alpha's [[role.policies]], then a blank line, then beta's header."""
    first = toml_role("alpha", bounded=False, broad=True).rstrip("\n")
    first += '\n# bglint: ignore BG003 reason="alpha deletes scratch buckets"\n\n'
    write_tree(tmp_path / "demo", app(first, toml_role("beta", bounded=False, broad=True)))
    _, data = check_json(tmp_path, "demo")
    assert ("BG003", role_name("alpha"), True) in facts(data)
    assert ("BG003", role_name("beta"), False) in facts(data)


@pytest.mark.slow
def test_toml_comment_anywhere_in_a_permissions_role_file(tmp_path: Path) -> None:
    """permissions/*.toml holds one role per file; BG008 (unknown action) applies to every role."""
    role = """\
type        = "{kind}"
name        = "{{{{.nuon.install.id}}}}-{kind}"
description = "{kind} the install"

[[policies]]
name     = "{{{{.nuon.install.id}}}}-{kind}"
contents = '{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObjct", "Resource": "arn:aws:s3:::demo/*"}}]}}'
{comment}"""
    comment = '\n# bglint: ignore BG008 reason="fixed upstream in the next Nuon release" owner=carol\n'
    files = app(toml_role("alpha"))
    files["permissions/provision.toml"] = role.format(kind="provision", comment=comment)
    files["permissions/deprovision.toml"] = role.format(kind="deprovision", comment="")
    write_tree(tmp_path / "demo", files)
    _, data = check_json(tmp_path, "demo")
    assert {
        ("BG008", role_name("provision"), True),
        ("BG008", role_name("deprovision"), False),
    } <= facts(data)
    assert one(data, "BG008", role_name("provision"))["suppression"]["path"] == "demo/permissions/provision.toml"


@pytest.mark.slow
def test_config_suppression_with_role_and_path_patterns_covers_only_what_they_match(tmp_path: Path) -> None:
    config = f"""\
network: customer-managed
ignore:
  - rule: BG002
    reason: legacy stacks, boundaries tracked in OPS-42
    owner: platform-team
    until: {NEXT_YEAR}
    role: "BreakglassLegacy*"
    path: "stacks/*.yaml"
"""
    write_tree(
        tmp_path,
        {
            ".bglint.yaml": config,
            "stacks/a.yaml": template(
                cfn_role("BreakglassLegacyOps", bounded=False), cfn_role("BreakglassNew", bounded=False)
            ),
            "other/b.yaml": template(cfn_role("BreakglassLegacyOps", bounded=False)),
        },
    )
    _, data = check_json(tmp_path, "stacks", "other")
    bg002 = {(f["path"], f["role"]): f["suppression"] for f in data["findings"] if f["rule"] == "BG002"}
    assert bg002.keys() == {
        ("stacks/a.yaml", "BreakglassLegacyOps"),
        ("stacks/a.yaml", "BreakglassNew"),
        ("other/b.yaml", "BreakglassLegacyOps"),
    }
    assert bg002[("stacks/a.yaml", "BreakglassNew")] is None  # role pattern does not match
    assert bg002[("other/b.yaml", "BreakglassLegacyOps")] is None  # path pattern does not match
    covered = bg002[("stacks/a.yaml", "BreakglassLegacyOps")]
    assert covered is not None
    assert (covered["source"], covered["reason"], covered["owner"], covered["until"]) == (
        "config",
        "legacy stacks, boundaries tracked in OPS-42",
        "platform-team",
        NEXT_YEAR,
    )
    assert covered["path"].endswith(".bglint.yaml")


@pytest.mark.slow
def test_config_suppression_path_is_relative_to_the_config_file_not_the_cwd(tmp_path: Path) -> None:
    config = (
        "network: customer-managed\nignore:\n  - rule: BG002\n    reason: tracked in OPS-42\n    path: 'stacks/*'\n"
    )
    root = write_tree(
        tmp_path, {".bglint.yaml": config, "stacks/a.yaml": template(cfn_role("BreakglassOps", bounded=False))}
    )
    for cwd, path in (
        (root, "stacks/a.yaml"),
        (root / "stacks", "a.yaml"),
        (tmp_path.parent, root / "stacks" / "a.yaml"),
    ):
        result, data = check_json(cwd, path)
        assert ("BG002", "BreakglassOps", True) in facts(data), (cwd, path)
        assert "BG041" not in {f["rule"] for f in data["findings"]}, (cwd, path)
        assert result.returncode == 0, (cwd, path)


@pytest.mark.slow
def test_config_suppression_for_an_app_not_checked_this_run_is_not_unused(tmp_path: Path) -> None:
    """A pre-commit run checks only the changed app; the repo's config suppresses in others too."""
    config = (
        "ignore:\n  - rule: BG003\n    reason: bucket cleanup role\n    path: 'apps/beta/*'\n"
        "  - rule: BG002\n    reason: typo'd rule id would be caught\n    path: 'apps/alpha/*'\n"
    )
    write_tree(tmp_path, {".bglint.yaml": config})
    write_tree(tmp_path / "apps" / "alpha", app(toml_role("alpha")))
    write_tree(tmp_path / "apps" / "beta", app(toml_role("beta", broad=True, bounded=False)))
    _, only_alpha = check_json(tmp_path, "apps/alpha/break_glass.toml")
    unused = [f["message"] for f in only_alpha["findings"] if f["rule"] == "BG041"]
    # alpha was checked and has no BG002: that suppression is unused; beta's was not judged.
    assert len(unused) == 1 and "BG002" in unused[0], unused
    _, both = check_json(tmp_path, "apps")
    assert ("BG003", role_name("beta"), True) in facts(both)
    assert [f["message"] for f in both["findings"] if f["rule"] == "BG041"] == unused


@pytest.mark.slow
def test_suppressed_findings_are_in_sarif_with_justification_and_the_sarif_validates(tmp_path: Path) -> None:
    config = f"ignore:\n  - rule: BG003\n    reason: scratch buckets only\n    owner: ops\n    until: {NEXT_YEAR}\n    role: BreakglassB\n"
    ignore = "- rule: BG002\n  reason: boundary comes with v2 | see OPS-7\n  owner: platform-team\n"
    write_tree(
        tmp_path,
        {
            ".bglint.yaml": "network: customer-managed\n" + config,
            "ops.yaml": template(
                cfn_role("BreakglassA", bounded=False, ignore=ignore),
                cfn_role("BreakglassB", bounded=False, broad=True),
            ),
        },
    )
    git(tmp_path, "init", "-q")  # SARIF URIs are relative to the repository root
    result = run_bglint("check", "--format", "sarif:out.sarif", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    sarif = tmp_path / "out.sarif"
    (run,) = json.loads(sarif.read_text(encoding="utf-8"))["runs"]
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for res in run["results"]:
        name = res["locations"][0].get("logicalLocations", [{}])[0].get("fullyQualifiedName", "")
        by_key[(res["ruleId"], name.split("/", 1)[0])] = res
    assert by_key[("BG002", "BreakglassA")]["suppressions"] == [
        {
            "kind": "inSource",
            "status": "accepted",
            "justification": "boundary comes with v2 | see OPS-7",
            "properties": {"owner": "platform-team", "until": ""},
        }
    ]
    external = by_key[("BG003", "BreakglassB")]["suppressions"]
    assert [(s["kind"], s["status"], s["justification"]) for s in external] == [
        ("external", "accepted", "scratch buckets only")
    ]
    assert "suppressions" not in by_key[("BG002", "BreakglassB")]
    validate_sarif(sarif, tmp_path)


@pytest.mark.slow
def test_expired_suppression_stops_suppressing_and_is_reported(tmp_path: Path) -> None:
    def run(until: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        ignore = f"- rule: BG002\n  reason: boundary was due\n  owner: bob\n  until: {until}\n"
        write_tree(tmp_path, {"ops.yaml": template(cfn_role("BreakglassOps", bounded=False, ignore=ignore))})
        return check_json(tmp_path, "--network", "customer-managed", "ops.yaml")

    result, data = run(YESTERDAY)
    assert ("BG002", "BreakglassOps", False) in facts(data)
    expired = one(data, "BG040")
    assert expired["path"] == "ops.yaml" and expired["line"] > 0
    assert YESTERDAY in expired["message"] and "bob" in expired["message"]
    assert "BG041" not in {f["rule"] for f in data["findings"]}  # expired is not also "unused"
    assert result.returncode == 1

    result, data = run(NEXT_YEAR)
    assert ("BG002", "BreakglassOps", True) in facts(data)
    assert "BG040" not in {f["rule"] for f in data["findings"]}
    assert result.returncode == 0

    # The same in a TOML comment.
    comment = f'# bglint: ignore BG002 reason="boundary was due" until={YESTERDAY}\n'
    write_tree(tmp_path / "demo", app(toml_role("alpha", bounded=False, above=comment)))
    _, data = check_json(tmp_path, "demo")
    assert ("BG002", role_name("alpha"), False) in facts(data)
    assert one(data, "BG040")["line"] == 1


@pytest.mark.slow
def test_suppression_that_matches_nothing_is_reported_as_unused(tmp_path: Path) -> None:
    ignore = "- rule: BG002\n  reason: no boundary yet\n- rule: BG001\n  reason: it is not admin anyway\n"
    write_tree(tmp_path, {"ops.yaml": template(cfn_role("BreakglassOps", bounded=False, ignore=ignore))})
    _, data = check_json(tmp_path, "ops.yaml")
    assert ("BG002", "BreakglassOps", True) in facts(data)
    unused = one(data, "BG041")
    assert "BG001" in unused["message"] and unused["path"] == "ops.yaml"
    ops = lines((tmp_path / "ops.yaml").read_text())
    assert ops[unused["line"] - 1].strip() == "- rule: BG001"

    # Config suppression for a rule that does not fire.
    write_tree(
        tmp_path / "c",
        {".bglint.yaml": "ignore:\n  - rule: BG005\n    reason: r\n", "ops.yaml": template(cfn_role("BreakglassOps"))},
    )
    _, data = check_json(tmp_path / "c", "ops.yaml")
    assert "BG005" in one(data, "BG041")["message"]


@pytest.mark.slow
def test_config_suppression_findings_point_at_its_line_in_the_config(tmp_path: Path) -> None:
    """BG041 for a config suppression: where to look, for text, annotations and SARIF regions."""
    config = "network: customer-managed\nignore:\n  - rule: BG002\n    reason: r\n  - rule: BG005\n    reason: nothing fires\n"
    write_tree(tmp_path, {".bglint.yaml": config, "ops.yaml": template(cfn_role("BreakglassOps", bounded=False))})
    _, data = check_json(tmp_path, "ops.yaml")
    unused = one(data, "BG041")
    assert unused["line"] == 5, unused


@pytest.mark.slow
def test_config_suppression_annotation_names_the_config_relative_to_the_workspace(tmp_path: Path) -> None:
    """GitHub attaches an annotation only to a workspace-relative file with a line."""
    write_tree(
        tmp_path,
        {".bglint.yaml": "ignore:\n  - rule: BG005\n    reason: r\n", "ops.yaml": template(cfn_role("BreakglassOps"))},
    )
    result = run_bglint("check", "--format", "github", "ops.yaml", cwd=tmp_path)
    (line,) = [ln for ln in lines(result.stdout) if "BG041" in ln]
    assert line.startswith("::warning file=.bglint.yaml,line=2,"), line
    assert ANNOTATION.match(line), line


@pytest.mark.slow
def test_metadata_suppression_in_a_json_template(tmp_path: Path) -> None:
    role = {
        "Type": "AWS::IAM::Role",
        "Metadata": {"bglint": {"ignore": [{"rule": "BG002", "reason": "json stacks too", "until": NEXT_YEAR}]}},
        "Properties": yaml.safe_load(TRUST.replace("      ", "", 1).replace("\n      ", "\n")),
    }
    role["Properties"]["Policies"] = [
        {
            "PolicyName": "ops",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
            },
        }
    ]
    write_tree(tmp_path, {"ops.json": json.dumps({"Resources": {"BreakglassOps": role}}, indent=2)})
    result, data = check_json(tmp_path, "--network", "customer-managed", "ops.json")
    suppression = one(data, "BG002")["suppression"]
    assert (suppression["source"], suppression["reason"], suppression["until"]) == (
        "metadata",
        "json stacks too",
        NEXT_YEAR,
    )
    assert suppression["line"] > 1
    assert result.returncode == 0


@pytest.mark.slow
def test_suppression_without_reason_is_reported_and_does_not_suppress(tmp_path: Path) -> None:
    ignore = "- rule: BG002\n  owner: bob\n- rule: BG003\n  reason: '   '\n"
    write_tree(tmp_path, {"ops.yaml": template(cfn_role("BreakglassOps", bounded=False, broad=True, ignore=ignore))})
    result, data = check_json(tmp_path, "--network", "customer-managed", "ops.yaml")
    assert {("BG002", "BreakglassOps", False), ("BG003", "BreakglassOps", False)} <= facts(data)
    unjustified = [f for f in data["findings"] if f["rule"] == "BG042"]
    assert sorted(f["message"].split(" (")[0] for f in unjustified) == [
        "suppression of BG002",
        "suppression of BG003",
    ]
    assert all(f["severity"] == "error" for f in unjustified)
    assert data["summary"]["suppressed"] == 0
    assert result.returncode == 1

    comment = "# bglint: ignore BG002 owner=bob\n"
    write_tree(tmp_path / "demo", app(toml_role("alpha", bounded=False, above=comment)))
    _, data = check_json(tmp_path, "demo")
    assert ("BG002", role_name("alpha"), False) in facts(data)
    assert one(data, "BG042")["line"] == 1


@pytest.mark.slow
def test_exit_code_ignores_suppressed_findings(tmp_path: Path) -> None:
    ignore = "- rule: BG002\n  reason: boundary comes with v2\n- rule: BG003\n  reason: scratch buckets\n"
    write_tree(
        tmp_path,
        {
            "suppressed.yaml": template(cfn_role("BreakglassOps", bounded=False, broad=True, ignore=ignore)),
            "open.yaml": template(cfn_role("BreakglassOps", bounded=False, broad=True)),
        },
    )
    suppressed = run_bglint("check", "--network", "customer-managed", "suppressed.yaml", cwd=tmp_path)
    assert suppressed.returncode == 0, suppressed.stdout
    assert lines(suppressed.stdout)[-1] == "Found 0 findings in 1 document; 2 suppressed."
    for fail_on in ("note", "warning"):  # suppressed findings never count, whatever the threshold
        low = run_bglint(
            "check", "--network", "customer-managed", "--fail-on", fail_on, "suppressed.yaml", cwd=tmp_path
        )
        assert low.returncode == 0, low.stdout
    opened = run_bglint("check", "--network", "customer-managed", "open.yaml", cwd=tmp_path)
    assert opened.returncode == 1


@pytest.mark.slow
def test_json_report_with_suppressions_and_a_baseline_validates(
    tmp_path: Path, report_validator: Draft202012Validator
) -> None:
    ignore = f"- rule: BG002\n  reason: r\n  until: {NEXT_YEAR}\n- rule: BG001\n  reason: unused\n- rule: BG003\n"
    write_tree(tmp_path, {"ops.yaml": template(cfn_role("BreakglassOps", bounded=False, broad=True, ignore=ignore))})
    write_tree(
        tmp_path,
        {
            "old.json": json.dumps(
                {
                    "format": "bglint-baseline/1",
                    "findings": [
                        {"fingerprint": "0" * 32, "rule": "BG002", "path": "gone.yaml", "role": "BreakglassGone"}
                    ],
                }
            )
        },
    )
    # The whole directory is checked, so the entry of a file no longer there is fixed (stale).
    _, data = check_json(tmp_path, "--baseline", "old.json", ".")
    errors = sorted(report_validator.iter_errors(data), key=str)
    assert errors == [], [e.message for e in errors]
    assert data["stale_baseline"] == ["BG002 gone.yaml role BreakglassGone"]
    assert {"BG041", "BG042"} <= {f["rule"] for f in data["findings"]}


@pytest.mark.slow
def test_fingerprints_of_suppression_findings_differ_between_files(tmp_path: Path) -> None:
    """Two apps with the usual role name, each with an unused suppression: two different problems."""
    comment = '# bglint: ignore BG005 reason="nothing to see"\n'
    for name in ("alpha", "beta"):
        write_tree(tmp_path / "apps" / name, app(toml_role("break-glass", above=comment)))
    _, data = check_json(tmp_path, "apps")
    unused = [f for f in data["findings"] if f["rule"] == "BG041"]
    assert [f["path"] for f in unused] == ["apps/alpha/break_glass.toml", "apps/beta/break_glass.toml"]
    fingerprints = [f["fingerprint"] for f in data["findings"]]
    assert len(set(fingerprints)) == len(fingerprints), "findings share a fingerprint"


# A finding's fingerprint is stored in users' baselines and in code scanning's alerts: the values
# bglint gave these findings must never change (a change would make every baselined finding new).
# In a git work tree, as the path in a fingerprint is relative to it.
FINGERPRINTED_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  BreakglassOps:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::123456789012:role/vendor-support"}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: ops
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [s3:DeleteBucket, ec2:TerminateInstances]
                Resource: "*"
"""
RECORDED_FINGERPRINTS = {"BG002": "d6ed10e02b47b169e9bff1d0c6aee3b6", "BG003": "5eb8467b483a5e70e5bf94d5729c6534"}


@pytest.mark.slow
def test_fingerprints_keep_their_recorded_values_in_json_sarif_and_baseline(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ops.yaml": FINGERPRINTED_TEMPLATE})
    git(tmp_path, "init", "-q")
    _, data = check_json(tmp_path, "ops.yaml")
    assert {f["rule"]: f["fingerprint"] for f in data["findings"]} == RECORDED_FINGERPRINTS
    sarif = run_bglint("check", "--format", "sarif", "ops.yaml", cwd=tmp_path)
    (run,) = json.loads(sarif.stdout)["runs"]
    assert {r["ruleId"]: r["partialFingerprints"]["bglintFingerprint/v1"] for r in run["results"]} == (
        RECORDED_FINGERPRINTS
    )
    created = run_bglint("baseline", "create", "ops.yaml", "-o", "baseline.json", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    entries = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert {e["rule"]: e["fingerprint"] for e in entries} == RECORDED_FINGERPRINTS
    # And the baseline, compared by those values, holds back both findings.
    _, gated = check_json(tmp_path, "--baseline", "baseline.json", "ops.yaml")
    assert gated["findings"] == [] and gated["summary"]["baselined"] == 2


# == baseline in a git repository ================================================================


BASELINE_APP_ROLES = (toml_role("ops", bounded=False, broad=True), toml_role("reader"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with an app (alpha: BG002 + BG003) and a template (BreakglassA: BG002)."""
    root = tmp_path / "repo"
    write_tree(root, {".bglint.yaml": "network: customer-managed\n"})
    write_tree(root / "apps" / "demo", app(*BASELINE_APP_ROLES))
    write_tree(
        root, {"templates/stack.yaml": template(cfn_role("BreakglassA", bounded=False), cfn_role("BreakglassB"))}
    )
    git(root, "init", "-q")
    commit_all(root, "app and template")
    return root


def _create_baseline(repo: Path) -> list[dict[str, Any]]:
    result = run_bglint("baseline", "create", "apps", "templates", "-o", ".bglint-baseline.json", cwd=repo)
    assert result.returncode == 0, result.stderr
    data = json.loads((repo / ".bglint-baseline.json").read_text(encoding="utf-8"))
    assert data["format"] == "bglint-baseline/1"
    entries: list[dict[str, Any]] = data["findings"]
    assert f"wrote {len(entries)} findings to .bglint-baseline.json" in result.stderr
    commit_all(repo, "baseline")
    return entries


def _gate(repo: Path, *paths: str | Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    return check_json(repo, "--baseline", ".bglint-baseline.json", *(paths or ("apps", "templates")))


@pytest.mark.slow
def test_baseline_survives_lines_moving(repo: Path) -> None:
    entries = _create_baseline(repo)
    assert {("BG002", role_name("ops")), ("BG003", role_name("ops")), ("BG002", "BreakglassA")} <= {
        (e["rule"], e["role"]) for e in entries
    }
    _, before = check_json(repo, "apps", "templates")
    # The role findings (a document-level one such as a missing runbook stays at line 1).
    before_lines = {(f["rule"], f["role"]): f["line"] for f in visible(before) if f["role"]}

    stack = repo / "templates" / "stack.yaml"
    stack.write_text(
        "# Break-glass stack\n# Owner: platform\n"
        + stack.read_text().replace("Resources:\n", "Resources:\n  # roles\n\n"),
    )
    toml = repo / "apps" / "demo" / "break_glass.toml"
    toml.write_text("# Break-glass roles of the demo app\n\n\n" + toml.read_text())
    commit_all(repo, "comments above the roles")

    _, moved = check_json(repo, "apps", "templates")
    moved_lines = {(f["rule"], f["role"]): f["line"] for f in visible(moved) if f["role"]}
    assert moved_lines.keys() == before_lines.keys()
    assert all(moved_lines[key] > before_lines[key] for key in before_lines), (before_lines, moved_lines)

    result, data = _gate(repo)
    assert result.returncode == 0, result.stdout
    assert visible(data) == []
    assert data["summary"]["baselined"] == len(entries)
    assert data["stale_baseline"] == []
    text = run_bglint("check", "--baseline", ".bglint-baseline.json", "apps", "templates", cwd=repo)
    assert text.returncode == 0
    assert lines(text.stdout)[-1] == f"Found 0 findings in 2 documents; {len(entries)} in the baseline, 0 fixed since."


@pytest.mark.slow
def test_baseline_reports_only_a_new_bad_role(repo: Path) -> None:
    _create_baseline(repo)
    stack = repo / "templates" / "stack.yaml"
    stack.write_text(
        stack.read_text().replace("  OpsBoundary:", cfn_role("BreakglassNew", bounded=False) + "  OpsBoundary:")
    )
    toml = repo / "apps" / "demo" / "break_glass.toml"
    toml.write_text(toml.read_text() + toml_role("fresh", broad=True, bounded=False))
    commit_all(repo, "two new bad roles")

    result, data = _gate(repo)
    assert result.returncode == 1
    assert {(f["rule"], f["role"]) for f in visible(data)} == {
        ("BG002", "BreakglassNew"),
        ("BG002", role_name("fresh")),
        ("BG003", role_name("fresh")),
    }
    assert data["stale_baseline"] == []


@pytest.mark.slow
def test_baseline_survives_a_role_inserted_above_in_break_glass_toml(repo: Path) -> None:
    """Nuon roles have names; a new [[role]] first in the file must not make the old ones new."""
    _create_baseline(repo)
    toml = repo / "apps" / "demo" / "break_glass.toml"
    toml.write_text(toml_role("fresh") + toml.read_text())  # a clean role, first
    commit_all(repo, "a clean role first")
    result, data = _gate(repo)
    assert [(f["rule"], f["role"], f["logical_path"]) for f in visible(data)] == []
    assert data["stale_baseline"] == []
    assert result.returncode == 0


@pytest.mark.slow
def test_baseline_lists_fixed_problems_as_stale(repo: Path) -> None:
    _create_baseline(repo)
    stack = repo / "templates" / "stack.yaml"
    fixed = stack.read_text().replace(cfn_role("BreakglassA", bounded=False), cfn_role("BreakglassA"))
    assert fixed != stack.read_text()
    stack.write_text(fixed)
    commit_all(repo, "bound BreakglassA")

    result, data = _gate(repo)
    assert result.returncode == 0
    assert visible(data) == []
    assert data["stale_baseline"] == ["BG002 templates/stack.yaml role BreakglassA"]
    text = run_bglint("check", "--baseline", ".bglint-baseline.json", "apps", "templates", cwd=repo)
    assert lines(text.stdout)[-1].endswith("in the baseline, 1 fixed since.")
    markdown = run_bglint(
        "check", "--baseline", ".bglint-baseline.json", "--format", "markdown", "apps", "templates", cwd=repo
    )
    section = markdown.stdout.split("### Fixed since the baseline", 1)
    assert len(section) == 2, markdown.stdout
    assert "BreakglassA" in section[1] and "BG002" in section[1]


@pytest.mark.slow
def test_baseline_does_not_depend_on_how_the_paths_are_given(repo: Path) -> None:
    """CI may run `bglint check $GITHUB_WORKSPACE/apps` or from a sub-directory."""
    entries = _create_baseline(repo)
    result, data = check_json(repo, "--baseline", ".bglint-baseline.json", repo / "apps", repo / "templates")
    assert visible(data) == [] and data["stale_baseline"] == [], "absolute paths"
    assert result.returncode == 0
    result, data = check_json(repo / "apps", "--baseline", "../.bglint-baseline.json", "demo")
    assert visible(data) == [], "from a sub-directory"
    assert data["summary"]["baselined"] == len([e for e in entries if e["path"].startswith("apps/")])


@pytest.mark.slow
def test_baseline_create_leaves_out_suppressed_findings(repo: Path) -> None:
    toml = repo / "apps" / "demo" / "break_glass.toml"
    toml.write_text('# bglint: ignore BG003 reason="cleanup role"\n' + toml.read_text())
    entries = _create_baseline(repo)
    pairs = {(e["rule"], e["role"]) for e in entries}
    assert ("BG002", role_name("ops")) in pairs and ("BG003", role_name("ops")) not in pairs
    result, data = _gate(repo)
    assert result.returncode == 0
    assert ("BG003", role_name("ops"), True) in facts(data)  # still in the JSON, as suppressed


@pytest.mark.slow
def test_baseline_create_takes_the_rule_options_of_check(repo: Path) -> None:
    """`check --rules DIR` adds findings; the baseline must be able to record them too."""
    rule = {
        "id": "ACME001",
        "name": "acme-role-needs-a-policy",
        "title": "Every role carries at least one policy",
        "severity": "error",
        "security-severity": 2.0,
        "applies-to": "all-roles",
        "message": "role '{role}' {detail}. Fix: {fix}.",
        "check": {"predicate": "grants_nothing"},
        "rationale": "ACME deploys no empty roles.",
        "remediation": "Attach a policy.",
        "help": "https://acme.example/rules/ACME001",
    }
    write_tree(repo, {"acme/ACME001.yaml": yaml.safe_dump(rule)})
    result = run_bglint("baseline", "create", "--rules", "acme", "templates", "-o", "b.json", cwd=repo)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not JSON"),
        ('{"format": "something-else/1", "findings": []}', "not a bglint baseline"),
        ('{"format": "bglint-baseline/1", "findings": [{"rule": "BG002"}]}', "findings[0]"),
        ("[]", "not a bglint baseline"),
        ("\xff\xfe", ""),
    ],
    ids=["syntax", "format", "entry", "list", "binary"],
)
def test_corrupt_baseline_exits_2_with_one_line(repo: Path, content: str, needle: str) -> None:
    (repo / "bad-baseline.json").write_bytes(content.encode("latin-1"))
    result = run_bglint("check", "--baseline", "bad-baseline.json", "apps", cwd=repo)
    assert result.returncode == 2, result.stdout
    line = assert_one_error_line(result, needle)
    assert line.startswith("bad-baseline.json"), line


@pytest.mark.slow
def test_missing_baseline_file_is_a_usage_error(repo: Path) -> None:
    result = run_bglint("check", "--baseline", "nope.json", "apps", cwd=repo)
    assert result.returncode == 2
    assert "nope.json" in result.stderr and "Traceback" not in result.stderr


# == CI output formats ==========================================================================


def _mixed(tmp_path: Path) -> Path:
    """Notes (BG002, a network of unknown kind), a warning (BG041) and a suppressed finding (BG003).

    With --network customer-managed the BG002 are errors.
    """
    ignore = "- rule: BG003\n  reason: scratch buckets\n- rule: BG005\n  reason: nothing fires\n"
    write_tree(
        tmp_path,
        {
            "ops.yaml": template(
                cfn_role("BreakglassA", bounded=False, broad=True, ignore=ignore),
                cfn_role("BreakglassB", bounded=False),
            )
        },
    )
    return tmp_path


@pytest.mark.slow
def test_github_annotations_one_well_formed_line_per_visible_finding(tmp_path: Path) -> None:
    root = _mixed(tmp_path)
    _, data = check_json(root, "ops.yaml")
    result = run_bglint("check", "--format", "github", "ops.yaml", cwd=root)
    assert result.returncode == 0  # BG002 are notes here, BG041 a warning
    out = lines(result.stdout)
    assert len(out) == len(visible(data)) >= 3
    for line in out:
        assert ANNOTATION.match(line), line
    levels = [line.split(" ", 1)[0] for line in out]
    assert {"::warning", "::notice"} <= set(levels)
    assert any(",title=BG002 " in line for line in out)
    assert not any("BG003" in line for line in out)  # suppressed: not annotated


@pytest.mark.slow
def test_github_annotations_from_hostile_names_cannot_forge_commands(tmp_path: Path) -> None:
    name = "we,ird:na\nme.yaml"
    hostile = cfn_role("BreakglassOps").replace(
        "[sts:GetCallerIdentity]", '["sts:GetCallerIdentity", "s3:Get%0A::error file=x.yaml::pwned", "s3:Del\\nete"]'
    )
    write_tree(tmp_path, {name: template(hostile)})
    _, data = check_json(tmp_path, name)
    assert len(visible(data)) >= 2
    result = run_bglint("check", "--format", "github", name, cwd=tmp_path)
    out = lines(result.stdout)
    assert len(out) == len(visible(data)), result.stdout
    for line in out:
        assert ANNOTATION.match(line), line
        assert line.startswith(("::warning file=we%2Cird%3Ana%0Ame.yaml,", "::notice file=we%2Cird%3Ana%0Ame.yaml,")), (
            line
        )
    forged = [line for line in out if "pwned" in line]
    assert len(forged) == 1 and "%250A::error" in forged[0], forged
    assert all("\r" not in line for line in out)


@pytest.mark.slow
def test_markdown_summary_counts_and_one_row_per_rule_and_file(tmp_path: Path) -> None:
    root = _mixed(tmp_path)
    piped = cfn_role("BreakglassP").replace("[sts:GetCallerIdentity]", '["sts:GetCallerIdentity", "s3:Get|Object"]')
    write_tree(root, {"piped.yaml": template(piped)})
    _, data = check_json(root, "ops.yaml", "piped.yaml")
    result = run_bglint("check", "--format", "markdown", "ops.yaml", "piped.yaml", cwd=root)
    text = result.stdout
    summary = data["summary"]
    assert (
        f"2 documents checked: **{summary['error']} errors**, {summary['warning']} warnings, "
        f"{summary['note']} notes; 0 input errors; 1 suppressed."
    ) in text
    # A table of rules (one row per rule and severity), then per rule one row per file.
    per_rule = {(f["rule"], f["severity"]) for f in visible(data)}
    per_file = {(f["rule"], f["severity"], f["path"]) for f in visible(data)}
    rule_rows = [ln for ln in lines(text) if re.match(r"\| \S+ \| BG\d{3} \| \d+ \|", ln)]
    file_rows = [ln for ln in lines(text) if ln.startswith("| ") and ".yaml" in ln.split("|")[1]]
    assert len(rule_rows) == len(per_rule) and len(file_rows) == len(per_file), text
    assert sum(int(row.split("|")[3]) for row in rule_rows) == len(visible(data))
    for row in file_rows:
        # Three cells: an unescaped | would make more.
        assert len(re.split(r"(?<!\\)\|", row)) == 5, row
    (piped_row,) = [row for row in file_rows if "Get" in row and "piped.yaml" in row and "did you mean" in row]
    assert "s3:Get\\|Object" in piped_row
    # Readable raw text: no code span, and no escapes where Markdown needs none.
    assert "piped.yaml:" in piped_row and "\\." not in piped_row and "\\-" not in piped_row
    assert "`" not in piped_row.split("|")[1]
    # Worst first: the sections follow severity.
    sections = re.findall(r"^### \S+ (BG\d{3}) .*\((error|warning|note):", text, re.M)
    order = ["error", "warning", "note"]
    assert [order.index(sev) for _, sev in sections] == sorted(order.index(sev) for _, sev in sections)
    assert "### Suppressed" in text and "scratch buckets" in text


@pytest.mark.slow
def test_junit_parses_and_error_findings_are_failures(tmp_path: Path) -> None:
    root = _mixed(tmp_path)
    write_tree(root, {"gov.yaml": template(cfn_role("BreakglassG", ignore="- rule: BG002\n  owner: nobody\n"))})
    _, data = check_json(root, "--network", "customer-managed", "ops.yaml", "gov.yaml")
    errors = [f for f in visible(data) if f["severity"] == "error"]
    assert {"BG002", "BG042"} <= {f["rule"] for f in errors}
    result = run_bglint(
        "check", "--format", "junit:junit.xml", "--network", "customer-managed", "ops.yaml", "gov.yaml", cwd=root
    )
    assert result.returncode == 1 and result.stdout == ""
    suites = ET.parse(root / "junit.xml").getroot()
    (suite,) = suites.findall("testsuite")
    failures = suite.findall("testcase/failure")
    assert int(suite.get("failures", "-1")) == len(failures) == len(errors)
    assert sorted(f.get("type", "") for f in failures) == sorted(f["rule"] for f in errors)
    assert int(suite.get("tests", "-1")) == len(suite.findall("testcase"))
    assert not [f for f in failures if "BG003" in (f.text or "")]  # the suppressed one


@pytest.mark.slow
def test_junit_stays_well_formed_with_control_characters_in_the_input(tmp_path: Path) -> None:
    hostile = cfn_role("BreakglassOps", bounded=False).replace(
        "[sts:GetCallerIdentity]", '["sts:GetCallerIdentity", "s3:Get\\e[31mRed\\x01"]'
    )
    write_tree(tmp_path, {"ops.yaml": template(hostile)})
    result = run_bglint("check", "--format", "junit:j.xml", "--network", "customer-managed", "ops.yaml", cwd=tmp_path)
    assert result.returncode == 1
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.findall("testsuite/testcase/failure")


@pytest.mark.slow
def test_several_formats_in_one_run(tmp_path: Path) -> None:
    root = _mixed(tmp_path)
    git(root, "init", "-q")
    result = run_bglint(
        "check", "--format", "sarif:out.sarif", "--format", "text", "--format", "json:out.json", "ops.yaml", cwd=root
    )
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout)[-1].startswith("Found ") and "BG002" in result.stdout
    sarif = json.loads((root / "out.sarif").read_text(encoding="utf-8"))
    report = json.loads((root / "out.json").read_text(encoding="utf-8"))
    assert len(sarif["runs"][0]["results"]) == len(report["findings"]) >= 4
    validate_sarif(root / "out.sarif", tmp_path)


@pytest.mark.slow
def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    root = _mixed(tmp_path)
    for spec in ("nonsense", "nonsense:out.txt", "SARIF"):
        result = run_bglint("check", "--format", spec, "ops.yaml", cwd=root)
        assert result.returncode == 2, spec
        assert "Usage:" in result.stderr and "--format" in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == ""


@pytest.mark.slow
def test_output_option_is_not_silently_dropped_with_several_formats(tmp_path: Path) -> None:
    root = _mixed(tmp_path)
    result = run_bglint("check", "--format", "json", "--format", "text", "--output", "report.out", "ops.yaml", cwd=root)
    # Either refused as a usage error or honoured; never ignored.
    assert result.returncode == 2 or (root / "report.out").is_file(), result.stdout[:300]


# == rules, explain, exit codes ===================================================================


@pytest.mark.slow
def test_rules_lists_id_severity_state_and_title(tmp_path: Path) -> None:
    result = run_bglint("rules", cwd=tmp_path)
    assert result.returncode == 0
    rows = {line.split()[0]: line for line in lines(result.stdout)}
    assert {"BG002", "BG040", "BG041", "BG042"} <= rows.keys()
    for rule_id in ("BG002", "BG041"):
        spec = yaml.safe_load((REPO / "rules" / f"{rule_id}.yaml").read_text(encoding="utf-8"))
        assert rows[rule_id].split()[1:3] == [spec["severity"], "enabled"]
        assert rows[rule_id].endswith(spec["title"])
    write_tree(tmp_path, {".bglint.yaml": "disable: [BG041]\nseverity: {BG042: warning}\n"})
    configured = {line.split()[0]: line.split() for line in lines(run_bglint("rules", cwd=tmp_path).stdout)}
    assert configured["BG041"][2] == "disabled" and configured["BG042"][1:3] == ["warning", "enabled"]
    elsewhere = run_bglint("rules", "--config", ".bglint.yaml", cwd=tmp_path)
    assert elsewhere.stdout == run_bglint("rules", cwd=tmp_path).stdout


@pytest.mark.slow
def test_rules_and_explain_know_user_rules_from_the_config(tmp_path: Path) -> None:
    rule = {
        "id": "ACME001",
        "name": "acme-role-needs-a-policy",
        "title": "Every role carries at least one policy",
        "severity": "error",
        "security-severity": 2.0,
        "applies-to": "all-roles",
        "message": "role '{role}' {detail}. Fix: {fix}.",
        "check": {"predicate": "grants_nothing"},
        "rationale": "ACME deploys no empty roles.",
        "remediation": "Attach a policy.",
        "help": "https://acme.example/rules/ACME001",
    }
    write_tree(tmp_path, {".bglint.yaml": "rules: [acme]\n", "acme/ACME001.yaml": yaml.safe_dump(rule)})
    listed = run_bglint("rules", cwd=tmp_path)
    assert any(line.split()[:3] == ["ACME001", "error", "enabled"] for line in lines(listed.stdout)), listed.stdout
    explained = run_bglint("explain", "ACME001", cwd=tmp_path)
    assert explained.returncode == 0 and "ACME deploys no empty roles." in explained.stdout


@pytest.mark.slow
def test_explain_bg002_prints_rationale_remediation_and_example(tmp_path: Path) -> None:
    result = run_bglint("explain", "BG002", cwd=tmp_path)
    assert result.returncode == 0
    spec = yaml.safe_load((REPO / "rules" / "BG002.yaml").read_text(encoding="utf-8"))
    out = result.stdout
    assert out.startswith(f"BG002 {spec['name']}: {spec['title']}")
    assert spec["rationale"].strip() in out and spec["remediation"].strip() in out
    # The wrong example, then (beside or under it) the fixed one.
    assert "Wrong:" in out and "Fixed:" in out
    assert all(line.strip() in out for line in spec["example"].splitlines() + spec["fixed"].splitlines())
    for rule_id in ("BG040", "BG041", "BG042"):
        gov = run_bglint("explain", rule_id.lower(), cwd=tmp_path)
        assert gov.returncode == 0 and "Wrong:" in gov.stdout and "Fixed:" in gov.stdout


@pytest.mark.slow
def test_exit_codes_0_1_2(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "clean.yaml": template(cfn_role("BreakglassOps")),
            "bad.yaml": template(cfn_role("BreakglassOps", bounded=False)),
            "broken.yaml": "Resources:\n  Foo: [\n",
        },
    )
    assert run_bglint("check", "--network", "customer-managed", "clean.yaml", cwd=tmp_path).returncode == 0
    assert run_bglint("check", "--network", "customer-managed", "bad.yaml", cwd=tmp_path).returncode == 1
    assert run_bglint("check", "--network", "customer-managed", "broken.yaml", cwd=tmp_path).returncode == 2
    assert run_bglint("check", "--no-such-option", "clean.yaml", cwd=tmp_path).returncode == 2


def _mentions_exit_codes(text: str) -> bool:
    flat = " ".join(text.split())
    return all(
        re.search(pattern, flat)
        for pattern in (r"\b0\b[^.;]*(nothing|clean)", r"\b1\b[^.;]*finding", r"\b2\b[^.;]*error")
    )


@pytest.mark.slow
def test_help_and_readme_document_the_exit_codes(tmp_path: Path) -> None:
    assert _mentions_exit_codes(run_bglint("--help", cwd=tmp_path).stdout)
    assert _mentions_exit_codes((REPO / "README.md").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_check_help_documents_the_exit_codes(tmp_path: Path) -> None:
    """`bglint check --help` is where a CI author looks; it explains --fail-on but not the codes."""
    assert _mentions_exit_codes(run_bglint("check", "--help", cwd=tmp_path).stdout)


# == pre-commit ================================================================================


@pytest.mark.slow
def test_hook_entry_lints_the_whole_app_with_the_config(tmp_path: Path) -> None:
    """What pre-commit runs: the manifest's entry with the staged files that match `files`."""
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    repo = tmp_path / "repo"
    write_tree(repo, {".bglint.yaml": "severity: {BG003: warning}\n"})
    files = app(toml_role("ops", bounded=False, broad=True))
    files["permissions/provision.toml"] = (
        'type = "provision"\nname = "{{.nuon.install.id}}-provision"\ndescription = "Provision"\n\n'
        '[[policies]]\nname = "{{.nuon.install.id}}-provision"\n'
        'contents = \'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
        '"Resource": "arn:aws:s3:::demo/*"}]}\'\n'
    )
    write_tree(repo / "apps" / "demo", files)
    git(repo, "init", "-q")
    commit_all(repo, "demo")
    provision = repo / "apps" / "demo" / "permissions" / "provision.toml"
    provision.write_text(provision.read_text().replace('"Provision"', '"Provision the demo"'))
    git(repo, "add", "-A")
    staged = [name for name in git(repo, "diff", "--cached", "--name-only").split() if re.search(hook["files"], name)]
    assert staged == ["apps/demo/permissions/provision.toml"]

    entry = hook["entry"].split()
    assert entry[0] == "bglint"
    bglint = Path(sys.executable).with_name("bglint")
    proc = subprocess.run(
        [str(bglint), *entry[1:], *staged], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reported = {
        (m.group(1), m.group(2))
        for m in re.finditer(r"^apps/demo/break_glass\.toml:\d+:\d+: (BG\d+)(?: \+BG\d+)* (\w+) ", proc.stdout, re.M)
    }
    assert ("BG002", "error") in reported  # the unchanged break_glass.toml was linted
    assert ("BG003", "warning") in reported  # the repository's config was read


# == GitHub Action ================================================================================

ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def _step(action: dict[str, Any], step_id: str) -> dict[str, Any]:
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == step_id]
    result: dict[str, Any] = step
    return result


def _expressions(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [e for item in value.values() for e in _expressions(item)]
    if isinstance(value, list):
        return [e for item in value for e in _expressions(item)]
    return EXPRESSION.findall(value) if isinstance(value, str) else []


def test_action_is_a_composite_action_whose_steps_use_only_declared_inputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {"paths", "fail-on", "sarif-file", "args", "python-version"} <= inputs.keys()
    for name, spec in inputs.items():
        assert spec.get("description"), name
    steps = action["runs"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    for step in steps:
        if "run" in step:
            assert step.get("shell") == "bash", step  # composite run steps must name their shell
            # Inputs are passed through env, never pasted into the script (injection).
            assert "${{" not in step["run"], step["run"]
    used = {e.split(".", 1)[1] for e in _expressions(action) if e.startswith("inputs.")}
    assert used and used <= inputs.keys(), used - inputs.keys()
    assert used == set(inputs), f"declared but unused: {set(inputs) - used}"
    step_ids = {s.get("id") for s in steps}
    for expression in _expressions(action):
        if expression.startswith("steps."):
            assert expression.split(".")[1] in step_ids, expression
    install = [s for s in steps if "pip install" in s.get("run", "")]
    assert install and "github.action_path" in " ".join(_expressions(install[0]))
    check = _step(action, "check")
    assert "bglint check" in check["run"]
    for fragment in ('"sarif:$BGLINT_SARIF_FILE"', "--format github", "markdown:$GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        assert fragment in check["run"], fragment
    final = steps[-1]
    assert "steps.check.outputs.exit-code" in final.get("if", "") + " ".join(_expressions(final))
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"


def _run_step(
    step: dict[str, Any], cwd: Path, values: dict[str, str], github: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a composite `run` step as the runner does: bash -e -o pipefail, inputs via env."""

    def evaluate(text: str) -> str:
        return EXPRESSION.sub(lambda m: values[m.group(1)], text)

    env = {**GIT_ENV, **github, **{key: evaluate(str(value)) for key, value in step.get("env", {}).items()}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = cwd.parent / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("bad", [True, False], ids=["findings", "clean"])
def test_action_command_line_runs_with_the_real_cli(tmp_path: Path, bad: bool) -> None:
    workspace = tmp_path / "workspace"
    write_tree(workspace, {".bglint.yaml": "network: customer-managed\n"})
    write_tree(workspace / "stacks", {"ops.yaml": template(cfn_role("BreakglassOps", bounded=not bad))})
    git(workspace, "init", "-q")
    action = _action()
    values = {f"inputs.{name}": str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({"inputs.paths": "stacks", "inputs.sarif-file": "reports/bglint.sarif", "inputs.args": "--all-roles"})
    values["github.action_path"] = str(REPO)
    (workspace / "reports").mkdir()
    github = {
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "GITHUB_WORKSPACE": str(workspace),
    }
    Path(github["GITHUB_STEP_SUMMARY"]).write_text("", encoding="utf-8")
    Path(github["GITHUB_OUTPUT"]).write_text("", encoding="utf-8")

    check = _run_step(_step(action, "check"), workspace, values, github)
    assert check.returncode == 0, check.stdout + check.stderr  # the step itself never fails
    outputs = dict(line.split("=", 1) for line in lines(Path(github["GITHUB_OUTPUT"]).read_text()))
    assert outputs["exit-code"] == ("1" if bad else "0"), check.stdout + check.stderr
    sarif = workspace / "reports" / "bglint.sarif"
    assert sarif.is_file()
    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == (
        ["stacks/ops.yaml"] if bad else []
    )
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("## bglint")
    annotations = lines(check.stdout)
    assert all(ANNOTATION.match(line) for line in annotations), check.stdout
    assert len(annotations) == len(results)

    values["steps.check.outputs.exit-code"] = outputs["exit-code"]
    final = action["runs"]["steps"][-1]
    runs_final = outputs["exit-code"] != "0"  # the final step's `if`
    assert final["if"].replace(" ", "") == "steps.check.outputs.exit-code!='0'"
    if runs_final:
        failed = _run_step(final, workspace, values, github)
        assert failed.returncode == int(outputs["exit-code"])


def test_docs_github_has_a_complete_pull_request_workflow() -> None:
    text = (REPO / "docs" / "github.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    workflows = [yaml.safe_load(block) for block in blocks]
    (workflow,) = [w for w in workflows if isinstance(w, dict) and "jobs" in w]
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers
    assert workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    (lint,) = [s for s in steps if s.get("uses", "").startswith("bglint/bglint@")]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert steps.index(lint) < steps.index(upload)
    assert "always()" in upload["if"]
    assert upload["with"]["sarif_file"] == lint["with"]["sarif-file"]
    assert set(lint["with"]) <= set(_action()["inputs"])


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nname = "bglint"\ndependencies = ["bglint[cfn-lint]>=0.1"]\n[project.scripts]\nrun = "bglint.cli:run"\n',
        "[tool.ruff]\nline-length = 100\n# bglint: not configured here\n",
        "[tool.bglintx]\na = 1\n[tool.x-bglint]\nb = 2\n",
    ],
)
def test_a_pyproject_that_cannot_hold_tool_bglint_is_never_parsed(text: str) -> None:
    assert "bglint" not in tomllib.loads(text).get("tool", {})
    assert not may_name_tool_bglint(text)


@settings(max_examples=300, deadline=None)
@given(
    before=st.sampled_from(["", " ", "\t"]),
    quote=st.sampled_from(["", '"', "'"]),
    around=st.sampled_from(["", " ", "\t"]),
    form=st.sampled_from(
        ["[tool.{k}]\na = 1\n", "tool.{k}.a = 1\n", "[tool]\n{k}.a = 1\n", "tool = {{{k} = {{a = 1}}}}\n"]
    ),
)
def test_every_spelling_of_tool_bglint_passes_the_prefilter(before: str, quote: str, around: str, form: str) -> None:
    key = f"{around}{quote}bglint{quote}{around}"
    text = before + form.format(k=key)
    try:
        holds = "bglint" in tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError:
        return  # not TOML: bglint never reads it as a config either
    assert holds and may_name_tool_bglint(text), text
