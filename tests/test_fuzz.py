"""Property-based fuzzing of bglint's input side (hypothesis).

Whatever a file holds, loading and checking it ends in documents, findings and InputErrors:
never another exception. The loaders are called directly, without the CLI's per-file guard
(which turns any exception into an input error), so a bug shows up here as a failure.

Budget: the default profile is short, for CI (a few hundred examples in all, well under 30 s);
`BGLINT_FUZZ_PROFILE=long` runs `BGLINT_FUZZ_EXAMPLES` examples per test (default 5000), as
`scripts/fuzz_long.sh` does. Every crash found has a regression test in test_hostile.py.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bglint.errors import InputError, shown
from bglint.evaluate.engine import document_findings
from bglint.evaluate.rules import load_rules, shipped_rules_dir
from bglint.evaluate.subject import Settings
from bglint.findings import Finding, Rule
from bglint.iam.catalog import load_catalog
from bglint.iam.glob import glob_regex
from bglint.load.cloudformation.detect import is_template, load_template_text
from bglint.load.cloudformation.template import load_template_roles
from bglint.load.nuon.app import load_app
from bglint.load.policy import PolicyReader
from bglint.load.selection import Selection
from bglint.model import Document, Location, NetworkContext, NetworkKind
from bglint.parse.json_pos import load_json
from bglint.parse.toml_pos import load_toml
from bglint.parse.yaml_pos import load_yaml
from bglint.pipeline.check import permission_views
from bglint.report.escape import (
    for_github_annotation,
    for_json_text,
    for_markdown,
    for_terminal,
    for_terminal_line,
)

LONG = os.environ.get("BGLINT_FUZZ_PROFILE") == "long"
LONG_EXAMPLES = int(os.environ.get("BGLINT_FUZZ_EXAMPLES", "5000"))


def budget(ci_examples: int) -> settings:
    return settings(
        max_examples=LONG_EXAMPLES if LONG else ci_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


@functools.cache
def shipped_rules() -> list[Rule]:
    return load_rules([shipped_rules_dir()], validate=False)[0]


def check_document(doc: Document) -> list[Finding]:
    """Every shipped rule, then the permissions summary: what `check` and `permissions` do."""
    findings = document_findings(doc, shipped_rules(), Settings())
    permission_views([doc], None, Settings())
    return findings


# -- raw text: each loader only ever returns or raises InputError ---------------------------

YAML_PIECES = st.sampled_from(
    [
        *"ab: -[]{},!&*|>'\"\n\t #?=.0~%@`",
        *("!Ref ", "!GetAtt ", "!If ", "!Sub ", "<<: ", "&a ", "*a", "&b ", "*b", "---\n", "...\n"),
        *("!!int ", "!!str ", "!!map ", "!!seq ", "!!binary ", "!!set ", "!!python/object:os.system "),
        *("\x01", "\x85", "\u2028", "\r", "\ufeff", "é", "%TAG ! tag:x,2000:\n", "%YAML 1.1\n"),
        *("Resources:\n", "  R:\n    Type: AWS::IAM::Role\n", "Properties: ", "1e999", ".nan", "0x1F", "0o7"),
    ]
)
JSON_PIECES = st.sampled_from(
    [
        *'{}[],:"\\ \n\t0123456789.-+eE',
        *('"a"', '"Resources"', "true", "false", "null", "NaN", "1e999", '"\\u0000"', '"\\ud800"', '"\\x"'),
        *("\x00", "\ufeff", "[" * 50, "]" * 50, "9" * 5000),
    ]
)
TOML_PIECES = st.sampled_from(
    [
        *"[]{}=.,\"'#\n \t-_+:0123456789abc\\",
        *("[[", "]]", '"""', "'''", "true", "inf", "nan", "+inf", "0x1f", "0o7", "0b1", "1_000", "1e5"),
        *("1979-05-27T07:32:00Z", "1979-05-27", "07:32:00", "1979-05-27 07:32:00"),
        *("[[role]]\n", "[[role.policies]]\n", 'name = "x"\n', 'contents = """\n', "\r\n", "\x00", "\x7f", "é"),
        *(
            '# bglint: ignore BG002 reason="x" owner=o until=2030-01-01\n',
            "# bglint: ignore\n",
            '# bglint: ignore BG1 "x\n',
        ),
    ]
)


@budget(60)
@given(st.lists(YAML_PIECES, max_size=60).map("".join) | st.text(max_size=200))
def test_yaml_text_only_ever_raises_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        load_yaml(text, "t.yaml")


@pytest.mark.slow
@budget(60)
@given(st.lists(JSON_PIECES, max_size=60).map("".join) | st.text(max_size=200))
def test_json_text_only_ever_raises_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        load_json(text, "t.json")


@budget(60)
@given(st.lists(TOML_PIECES, max_size=60).map("".join) | st.text(max_size=200))
def test_toml_text_only_ever_raises_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        load_toml(text, "t.toml")


# -- structured templates: right keys, wrong everything else --------------------------------

KEYS = [
    *("AWSTemplateFormatVersion", "Resources", "Parameters", "Conditions", "Type", "Properties"),
    *("Metadata", "bglint", "break_glass", "level", "Condition", "DeletionPolicy", "Default"),
    *("RoleName", "Tags", "Key", "Value", "Policies", "PolicyName", "PolicyDocument", "Roles"),
    *("ManagedPolicyArns", "PermissionsBoundary", "AssumeRolePolicyDocument", "Version", "Statement"),
    *("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal"),
    *("AWS", "Service", "Federated", "StringEquals", "StringLike", "Bool", "aws:ResourceTag/install.nuon.co/id"),
    *("ec2:Subnet", "ec2:Vpc", "iam:PermissionsBoundary", "aws:MultiFactorAuthPresent"),
    *("Ref", "Fn::If", "Fn::Sub", "Fn::Join", "Fn::GetAtt", "Fn::Select", "Fn::ImportValue", "Condition"),
    *("MaxSessionDuration", "AllowedValues", "NoEcho", "UpdateReplacePolicy", "ServiceToken", "Code", "ZipFile"),
    *(
        "InlineCode",
        "Users",
        "Groups",
        "GroupName",
        "UserName",
        "ignore",
        "rule",
        "reason",
        "owner",
        "until",
        "role",
        "path",
    ),
]
TEXTS = [
    *("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "Allow", "Deny", "*", "*:*"),
    *("s3:*", "s3:Get*", "iam:*", "iam:PassRole", "iam:CreateRole", "iam:Put*", "ec2:RunInstances", "sts:AssumeRole"),
    *("ec2:*Subnet*", "*a*b*c*", "*?*?*?*?*?#", "iam:DeleteRolePermissionsBoundary", "lambda:CreateFunction"),
    *("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess", "AWS::NoValue"),
    *(
        "arn:aws:iam::111122223333:root",
        "arn:aws:s3:::bucket/*",
        "${AWS::AccountId}",
        "${Missing}",
        "{{.nuon.install.id}}",
    ),
    *("sandbox", "network", "runner", "component", "BreakglassOps", "break-glass", "2012-10-17", "P", "C", "R"),
    *("", " ", "\x1b[31m", "##[error]x", "::error::x", "\n", "\u202e", "\ufffe", "é"),
    *("AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy"),
    *("AWS::IAM::UserToGroupAddition", "AWS::Lambda::Function", "AWS::Serverless::Function", "Custom::X"),
    *("AWS::CloudFormation::CustomResource", "BG001", "BG002", "2030-01-01", "2020-13-45", "inf", "1e999", "nan"),
    *("3600", "43200", "-1", "0x10", "String", "CommaDelimitedList", "true"),
]
SCALARS = st.one_of(
    st.sampled_from(TEXTS),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
    st.none(),
)
NAMES = st.sampled_from(KEYS) | st.text(max_size=6)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(NAMES, children, max_size=4),
    max_leaves=30,
)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]) | VALUES)}
    for key in draw(
        st.sets(st.sampled_from(["Action", "NotAction", "Resource", "NotResource", "Condition", "Principal", "Sid"]))
    ):
        statement[key] = draw(st.lists(st.sampled_from(TEXTS) | VALUES, max_size=4) | st.sampled_from(TEXTS) | VALUES)
    return statement


POLICY_DOCUMENTS = st.one_of(
    st.fixed_dictionaries({"Version": st.just("2012-10-17"), "Statement": st.lists(statements(), max_size=4)}),
    st.fixed_dictionaries({"Statement": statements()}),
    VALUES,
)


@st.composite
def templates(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(VALUES)  # anything at all
    properties: dict[str, Any] = draw(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=3))
    for key in draw(
        st.sets(
            st.sampled_from(["Policies", "ManagedPolicyArns", "PermissionsBoundary", "RoleName", "MaxSessionDuration"])
        )
    ):
        if key == "Policies":
            policy = st.fixed_dictionaries({"PolicyName": SCALARS, "PolicyDocument": POLICY_DOCUMENTS})
            properties[key] = draw(st.lists(policy | VALUES, max_size=3))
        else:
            properties[key] = draw(st.sampled_from(TEXTS) | VALUES)
    properties["AssumeRolePolicyDocument"] = draw(POLICY_DOCUMENTS)
    resources: dict[str, Any] = {"BreakglassR": {"Type": "AWS::IAM::Role", "Properties": properties}}
    if draw(st.booleans()):
        resources["Pol"] = {
            "Type": draw(st.sampled_from(["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"])),
            "Properties": {"PolicyDocument": draw(POLICY_DOCUMENTS), "Roles": draw(VALUES)},
        }
    if draw(st.booleans()):
        suppression = st.dictionaries(st.sampled_from(["rule", "reason", "owner", "until", "role", "path"]), SCALARS)
        resources["BreakglassR"]["Metadata"] = {
            "bglint": draw(st.fixed_dictionaries({"ignore": st.lists(suppression)}) | VALUES)
        }
    for index in range(draw(st.integers(0, 2))):
        resources[f"Other{index}"] = {"Type": draw(st.sampled_from(TEXTS)), "Properties": draw(VALUES)}
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if draw(st.booleans()):
        template["Parameters"] = draw(VALUES)
    return template


def as_text(data: Any, style: str) -> str:
    if style == "json":
        return json.dumps(data)
    with contextlib.suppress(yaml.YAMLError, ValueError, RecursionError):
        return yaml.safe_dump(data, allow_unicode=True)
    return json.dumps(data)


@pytest.mark.slow
@budget(120)
@given(templates(), st.sampled_from(["json", "yaml"]))
def test_templates_load_and_check_without_crashing(data: Any, style: str) -> None:
    try:
        loaded = load_template_text(as_text(data, style), "t.yaml")
    except InputError:
        return
    if not is_template(loaded):
        return
    context = NetworkContext(NetworkKind.CUSTOMER_MANAGED, "fuzz")
    doc, errors = load_template_roles(loaded, "t.yaml", Selection(all_roles=True), context)
    assert all(isinstance(error, InputError) for error in errors)
    check_document(doc)


@pytest.mark.slow
@budget(60)
@given(POLICY_DOCUMENTS, st.booleans())
def test_policy_documents_only_report_input_errors(document: Any, as_json_string: bool) -> None:
    reader = PolicyReader("p.json", lambda pos, logical: Location("p.json", pos[0], pos[1], logical))
    if as_json_string:
        with contextlib.suppress(ValueError, RecursionError):
            document = json.dumps(document)
    for statement in reader.statements(document, "policy"):
        assert statement.effect in ("Allow", "Deny")
        assert all(isinstance(action, str) for action in statement.actions)


# -- app config directories on disk ---------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps("" if value is None else str(value), ensure_ascii=False)


def toml_document(data: dict[str, Any]) -> str:
    """Scalars first, then each list of tables as [[key]] sections (their tables inline)."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in data.items() if not _tables(v)]
    for key, tables in data.items():
        if _tables(tables):
            for table in tables:
                lines.append(f"[[{json.dumps(key)}]]")
                lines += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


REFERENCES = st.sampled_from(
    [
        *("./p.json", "p.json", "./sub/../p.json", "../p.json", "../../etc/passwd", "/etc/passwd", "file://p.json"),
        *("file:p.json", "file:///etc/passwd", "http://169.254.169.254/", "https://x/p.json", "git::x", "s3://b/k"),
        *("./loop.json", "./dir", "./fifo.json", "./out.json", "./missing.json", "./a\x00b", "./" + "a/" * 300, ""),
    ]
)
ROLE_KEYS = ["name", "description", "policies", "named_policies", "permissions_boundary", "display_name"]
POLICY_KEYS = ["name", "contents", "managed_policy_name", "description"]


@st.composite
def break_glass(draw: st.DrawFn) -> dict[str, Any]:
    roles = []
    for _ in range(draw(st.integers(0, 2))):
        role: dict[str, Any] = draw(st.dictionaries(st.sampled_from(ROLE_KEYS), VALUES, max_size=3))
        role.setdefault("name", draw(st.sampled_from(TEXTS)))
        if draw(st.booleans()):
            role["permissions_boundary"] = draw(REFERENCES | st.sampled_from(TEXTS) | VALUES)
        policies = []
        for _ in range(draw(st.integers(0, 2))):
            policy: dict[str, Any] = draw(st.dictionaries(st.sampled_from(POLICY_KEYS), VALUES, max_size=2))
            contents = POLICY_DOCUMENTS.map(lambda doc: json.dumps(doc, default=str))
            policy["contents"] = draw(REFERENCES | contents | VALUES)
            policies.append(policy)
        role["policies"] = policies
        roles.append(role)
    return {"role": roles}


@pytest.mark.slow
@budget(60)
@given(break_glass(), POLICY_DOCUMENTS, st.lists(TOML_PIECES, max_size=6).map("".join))
def test_app_directories_load_and_check_without_crashing(config: dict[str, Any], referenced: Any, comment: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "app"
        (root / "permissions").mkdir(parents=True)
        (root / "dir").mkdir()
        (root / "metadata.toml").write_text('version = "v2"\n', encoding="utf-8")
        text = comment + toml_document(config)
        (root / "break_glass.toml").write_text(text, encoding="utf-8")
        with contextlib.suppress(ValueError, RecursionError):
            (root / "p.json").write_text(json.dumps(referenced, default=str), encoding="utf-8")
        (root / "loop.json").symlink_to("loop.json")
        (root / "out.json").symlink_to(Path(folder) / "outside.json")
        (Path(folder) / "outside.json").write_text('{"Statement": []}', encoding="utf-8")
        if hasattr(os, "mkfifo"):
            os.mkfifo(root / "fifo.json")
        doc, errors = load_app(root, "app", Selection(), None)
        assert all(isinstance(error, InputError) for error in errors)
        assert not any(path.endswith("outside.json") for _ref, path in doc.references)
        check_document(doc)


# -- IAM wildcards: exact, and linear ----------------------------------------------------------


@functools.cache
def glob_reference(pattern: str, text: str) -> bool:
    if not pattern:
        return not text
    if pattern[0] == "*":
        return glob_reference(pattern[1:], text) or (bool(text) and glob_reference(pattern, text[1:]))
    return bool(text) and pattern[0] in ("?", text[0]) and glob_reference(pattern[1:], text[1:])


@budget(150)
@given(st.text("ab*?[.:", max_size=10), st.text("ab[.:", max_size=10))
def test_glob_matches_as_the_definition_says(pattern: str, text: str) -> None:
    assert (glob_regex(pattern).fullmatch(text) is not None) == glob_reference(pattern, text)


@pytest.mark.slow
@budget(25)
@given(st.text("*?ae:#s3", min_size=1, max_size=200))
def test_any_action_pattern_expands_to_the_actions_it_matches(pattern: str) -> None:
    # Hostile shapes (long runs of `*?`) for the linear-time matcher; the benchmark times them.
    catalog = load_catalog()
    actions = catalog.expand("*")
    assert catalog.expand(pattern) == {key for key in actions if fnmatch.fnmatchcase(key, pattern.lower())}
    wider = {key for key in actions if fnmatch.fnmatchcase(key, pattern.lower() + "*")}
    assert catalog.expand_bits(pattern + "*") == catalog.to_bits(wider)


# -- output escaping -------------------------------------------------------------------------

HOSTILE_TEXT = st.lists(
    st.sampled_from(
        [
            "\x1b[31m",
            "\x1b]0;t\x07",
            "\n",
            "\r",
            "\x85",
            "\u2028",
            "\u202e",
            "::",
            "##[",
            "%",
            ",",
            ":",
            "@a",
            "|",
            "<b>",
            "`",
            "é",
        ]
    )
    | st.text(max_size=4),
    max_size=12,
).map("".join)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


@pytest.mark.slow
def test_every_code_point_escaped_is_one_the_printable_fast_path_leaves_to_the_escaper() -> None:
    """for_terminal passes printable text through untouched: none of it may need escaping."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if _UNSAFE.match(char) or code in (0x061C, 0x200E, 0x200F):  # the bidi marks, too
            assert not char.isprintable() and for_terminal(char) != char, hex(code)


@budget(100)
@given(HOSTILE_TEXT)
def test_terminal_text_is_one_inert_line(text: str) -> None:
    escaped = for_terminal(text)
    assert not _UNSAFE.search(escaped) and "##[" not in escaped
    assert not for_terminal_line(text).lstrip().startswith("::")


@budget(100)
@given(HOSTILE_TEXT, HOSTILE_TEXT, st.integers(0, 10**6))
def test_github_annotation_is_one_command_that_parses_back(message: str, path: str, line: int) -> None:
    command = for_github_annotation("warning", message, file=path, line=line, title=message)
    assert "\n" not in command and "\r" not in command and not _UNSAFE.search(command)
    # Parse it as the runner does (ActionCommand.TryParseV2): the command ends at the first
    # `::` after the name, properties split on `,` and `=`, then unescape.
    head, _, data = command[2:].partition("::")
    name, _, props = head.partition(" ")
    assert name == "warning"
    parsed = dict(prop.split("=", 1) for prop in props.split(",") if prop)
    unescape = {"%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ",", "%25": "%"}
    value = re.sub("%0D|%0A|%3A|%2C|%25", lambda m: unescape[m.group()], parsed.get("file", ""))
    # The file name comes back exact in its CR/LF (so the annotation attaches to the file);
    # every other control character is shown escaped.
    assert value == "\n".join("\r".join(for_terminal(p) for p in ln.split("\r")) for ln in path.split("\n"))
    assert set(parsed) <= {"file", "line", "title"}
    assert re.sub("%0D|%0A|%25", lambda m: unescape[m.group()], data) == for_terminal(message)


@budget(100)
@given(VALUES)
def test_json_reports_decode_to_the_same_data_without_legacy_commands(data: Any) -> None:
    text = json.dumps({"value": data, "path": "x##[stop-commands]t"})
    safe = for_json_text(text)
    assert "##[" not in safe
    assert json.loads(safe) == json.loads(text) or "NaN" in text


@budget(100)
@given(HOSTILE_TEXT)
def test_markdown_text_has_no_markup_mentions_or_line_breaks(text: str) -> None:
    escaped = for_markdown(text)
    assert "\n" not in escaped and not re.search(r"@[A-Za-z0-9]", escaped)
    assert not re.search(r"(?<!\\)[|<>`*\[\]]", escaped)
    # An underscore may stay bare only inside a word, where CommonMark never emphasises.
    assert not re.search(r"(?<![\\0-9A-Za-z])_|(?<!\\)_(?![0-9A-Za-z])", escaped)


@budget(50)
@given(VALUES)
def test_values_quoted_in_messages_are_short(value: Any) -> None:
    assert len(shown(value)) <= 200


@pytest.mark.skipif(not LONG, reason="the long profile only (scripts/fuzz_long.sh)")
def test_long_profile_is_selected() -> None:
    assert budget(1).max_examples == LONG_EXAMPLES
