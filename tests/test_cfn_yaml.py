"""CloudFormation YAML loading: intrinsics, positions, and refusing bad input."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bglint.errors import InputError
from bglint.load.cloudformation.detect import is_template, load_template_text
from bglint.parse import yaml_pos
from bglint.parse.nodes import Mapping, Sequence, pos_in, pos_of
from bglint.parse.yaml_pos import load_yaml


def value_of(yaml_value: str) -> Any:
    """The value of `yaml_value` written as the value of a one-key document."""
    return load_yaml(f"Value: {yaml_value}\n", "t.yaml")["Value"]


def input_error(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        load_yaml(text, "t.yaml")
    assert caught.value.path == "t.yaml"
    assert "\n" not in str(caught.value)
    return caught.value


SHORT_FORMS: list[tuple[str, Any]] = [
    ("!Ref Bucket", {"Ref": "Bucket"}),
    ("!Ref 1", {"Ref": "1"}),  # a tagged scalar is never resolved
    ("!Condition IsProd", {"Condition": "IsProd"}),
    ("!GetAtt Role.Arn", {"Fn::GetAtt": ["Role", "Arn"]}),
    ("!GetAtt Stack.Outputs.Url", {"Fn::GetAtt": ["Stack", "Outputs.Url"]}),
    ("!GetAtt [Role, Arn]", {"Fn::GetAtt": ["Role", "Arn"]}),
    ("!Sub 'arn:${AWS::Partition}:s3:::b'", {"Fn::Sub": "arn:${AWS::Partition}:s3:::b"}),
    ("!Sub ['${A}-x', {A: !Ref X}]", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "X"}}]}),
    ("!If [IsProd, 1, !Ref AWS::NoValue]", {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}),
    ("!Join ['', [a, b]]", {"Fn::Join": ["", ["a", "b"]]}),
    ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
    ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
    ("!Equals [!Ref Env, prod]", {"Fn::Equals": [{"Ref": "Env"}, "prod"]}),
    ("!Not [!Condition C]", {"Fn::Not": [{"Condition": "C"}]}),
    ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!FindInMap [Map, !Ref AWS::Region, Ami]", {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Ami"]}),
    ("!Base64 '#!/bin/sh'", {"Fn::Base64": "#!/bin/sh"}),
    ("!Cidr [10.0.0.0/16, 4, 8]", {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
    ("!GetAZs ''", {"Fn::GetAZs": ""}),
    ("!GetAZs", {"Fn::GetAZs": ""}),
    ("!ImportValue shared-vpc-id", {"Fn::ImportValue": "shared-vpc-id"}),
    ("!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}",
     {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}),
    ("!Length [a, b]", {"Fn::Length": ["a", "b"]}),
    ("!ToJsonString {a: 1}", {"Fn::ToJsonString": {"a": 1}}),
    ("!ForEach [Topics, Name, [a, b], {'${Name}': x}]",
     {"Fn::ForEach": ["Topics", "Name", ["a", "b"], {"${Name}": "x"}]}),
]  # fmt: skip


@pytest.mark.parametrize(("yaml_value", "expected"), SHORT_FORMS)
def test_short_form_becomes_long_form(yaml_value: str, expected: Any) -> None:
    assert value_of(yaml_value) == expected


def test_every_short_form_is_covered() -> None:
    tags = {yaml_value.split()[0].rstrip(",]") for yaml_value, _ in SHORT_FORMS}
    assert tags == {
        "!Ref", "!Condition", "!GetAtt", "!Sub", "!If", "!Join", "!Select", "!Split",
        "!Equals", "!Not", "!And", "!Or", "!FindInMap", "!Base64", "!Cidr", "!GetAZs",
        "!ImportValue", "!Transform", "!Length", "!ToJsonString", "!ForEach",
    }  # fmt: skip


def test_block_style_intrinsic() -> None:
    data = load_yaml('Value: !Join\n  - ","\n  - - a\n    - !Ref B\n', "t.yaml")
    assert data == {"Value": {"Fn::Join": [",", ["a", {"Ref": "B"}]]}}
    join = data["Value"]
    assert join.pos == (1, 8)
    assert join.key_pos["Fn::Join"] == (1, 8)
    # A block value starts at its first item.
    assert join.value_pos["Fn::Join"] == (2, 5)
    assert join["Fn::Join"].item_pos == [(2, 5), (3, 5)]


TEMPLATE = """\
AWSTemplateFormatVersion: 2010-09-09
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "bg-${Env}"
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/ReadOnlyAccess
        - !Ref Extra  # a comment
      Tags: [{Key: a, Value: b}]
      Arn: !GetAtt Other.Arn
"""


def test_positions_of_containers_keys_and_values() -> None:
    data = load_yaml(TEMPLATE, "t.yaml")
    assert isinstance(data, Mapping)
    assert data.pos == (1, 1)
    assert data.key_pos["Resources"] == (2, 1)
    assert pos_in(data, "AWSTemplateFormatVersion") == (1, 27)
    assert pos_in(data, "Resources") == (3, 3)
    assert pos_in(data, "Missing") == (1, 1)

    props = data["Resources"]["Role"]["Properties"]
    assert props.key_pos["RoleName"] == (6, 7)
    assert pos_in(props, "RoleName") == (6, 17)

    sub = props["RoleName"]
    assert (sub.pos, sub.key_pos["Fn::Sub"], sub.value_pos["Fn::Sub"]) == (
        (6, 17),
        (6, 17),
        (6, 22),
    )

    arns = props["ManagedPolicyArns"]
    assert isinstance(arns, Sequence)
    assert pos_of(arns) == (8, 9)
    assert arns.item_pos == [(8, 11), (9, 11)]
    assert pos_in(arns, 1) == (9, 11)
    assert pos_in(arns, 5) == (8, 9)
    assert arns[1].value_pos["Ref"] == (9, 16)

    tags = props["Tags"]
    assert pos_of(tags) == (10, 13)
    assert pos_of(tags[0]) == (10, 14)
    assert tags[0].key_pos["Value"] == (10, 23)
    assert pos_in(tags[0], "Value") == (10, 30)

    get_att = props["Arn"]
    assert get_att["Fn::GetAtt"] == ["Other", "Arn"]
    assert pos_of(get_att["Fn::GetAtt"]) == (11, 20)


def located(value: Any) -> Any:
    """A value with every container replaced by (positions, children), for comparing."""
    if isinstance(value, Mapping):
        children = {key: located(child) for key, child in value.items()}
        return (value.pos, value.key_pos, value.value_pos), children
    if isinstance(value, Sequence):
        return (value.pos, value.item_pos), [located(child) for child in value]
    return type(value), value


@pytest.mark.parametrize("text", [TEMPLATE, "a: !Join\n  - ','\n  - [x, !Ref y]\n"])
def test_pure_python_loader_agrees_with_libyaml(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with_libyaml = load_yaml(text, "t.yaml")
    monkeypatch.setattr(yaml_pos, "_Loader", yaml.SafeLoader)
    assert located(load_yaml(text, "t.yaml")) == located(with_libyaml)


def test_byte_order_mark_does_not_shift_positions() -> None:
    data = load_yaml("\ufeffA: !Ref B\n", "t.yaml")
    assert data.value_pos["A"] == (1, 4)
    assert data["A"].value_pos["Ref"] == (1, 9)


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("2010-09-09", "2010-09-09"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("'2010-09-09'", "2010-09-09"),
        ("1", 1),
        ("0x1F", 31),
        ("1_000", 1000),
        ("1.5", 1.5),
        ("true", True),
        ("yes", True),  # YAML 1.1
        ("Off", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("'1'", "1"),
        ("!!str 1", "1"),
        ("'=' ", "="),
        ("plain text", "plain text"),
    ],
)
def test_scalars_resolve_as_yaml_1_1_except_dates(yaml_value: str, expected: Any) -> None:
    value = value_of(yaml_value)
    assert value == expected
    assert type(value) is type(expected)


def test_keys_keep_their_text() -> None:
    data = load_yaml("0755: a\ntrue: b\n123456789012: c\n", "t.yaml")
    assert list(data) == ["0755", "true", "123456789012"]


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first at line 1)"),
        (
            "R:\n  P:\n    X: 1\n    Y: 2\n    X: 3\n",
            5,
            5,
            "duplicate key 'X' (first at line 3)",
        ),
        ("m: {a: 1, a: 2}\n", 1, 11, "duplicate key 'a' (first at line 1)"),
        (
            "m:\n  - Foo: 1\n    'Foo': 2\n",
            3,
            5,
            "duplicate key 'Foo' (first at line 2)",
        ),
    ],
)
def test_duplicate_keys(text: str, line: int, col: int, message: str) -> None:
    error = input_error(text)
    assert (error.line, error.col, error.message) == (line, col, message)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: [1, 2\nb: 3\n", 2),
        ("a: b: c\n", 1),
        ("a: 1\n\tb: 2\n", 2),
        ("a: 'open\n", 2),
        ("a:\n  b: 1\n c: 2\n", 3),
        ("- a\nb: 1\n", 2),
        ("a: *nowhere\n", 1),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int) -> None:
    error = input_error(text)
    assert error.line == line
    assert error.message.startswith("invalid YAML: ")


def test_duplicate_anchor() -> None:
    error = input_error("a: &x 1\nb: &x 2\n")
    assert (error.line, error.col) == (2, 4)
    assert error.message == "invalid YAML: found duplicate anchor (first at line 1)"


def test_control_character_is_an_input_error() -> None:
    error = input_error("a: 1\nb: \x01\n")
    assert (error.line, error.col) == (2, 4)


@pytest.mark.parametrize(("text", "tag"), [("a: !Foo x\n", "!Foo"), ("a: !!binary aGk=\n", "!!binary")])
def test_unknown_tags_are_refused(text: str, tag: str) -> None:
    error = input_error(text)
    assert (error.line, error.col) == (1, 4)
    assert tag in error.message


@pytest.mark.parametrize("text", ["a: !!int x\n", "a: !!int\n", "a: !!bool maybe\n"])
def test_invalid_explicitly_typed_scalar(text: str) -> None:
    assert "invalid !!" in input_error(text).message


YAML_PIECES = st.sampled_from(
    [
        *"ab: -[]{},!&*|'\"\n\t#?=.0",
        *("!Ref ", "!GetAtt ", "<<: ", "&a ", "*a", "---\n", "!!int ", "!!str ", "!!map "),
        *("\x01", "\u2028", "\r", "é", "%TAG ! tag:x,2000:\n"),
    ]
)


@pytest.mark.slow
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_bad_input_only_ever_raises_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        load_template_text(text, "t.yaml")


def test_more_than_one_document() -> None:
    error = input_error("a: 1\n---\nb: 2\n")
    assert (error.message, error.line) == ("more than one YAML document", 2)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n", "---\n"])
def test_empty_document_is_none(text: str) -> None:
    assert load_yaml(text, "t.yaml") is None


MERGE = """\
base: &base
  A: 1
  B: 2
more: &more
  C: 3
  A: 9
merged:
  <<: [*base, *more]
  B: 3
"""


def test_merge_keys_take_positions_from_merged_nodes() -> None:
    merged = load_yaml(MERGE, "t.yaml")["merged"]
    assert merged == {"A": 1, "B": 3, "C": 3}
    assert merged.key_pos == {"A": (2, 3), "B": (9, 3), "C": (5, 3)}
    assert pos_in(merged, "A") == (2, 6)


def test_merge_of_a_scalar_is_refused() -> None:
    assert "merge" in input_error("a:\n  <<: 1\n").message


def test_alias_expands_to_an_independent_copy() -> None:
    data = load_yaml("a: &x [1, {b: 2}]\nc: *x\n", "t.yaml")
    assert data["c"] == [1, {"b": 2}]
    assert data["c"] is not data["a"]
    assert pos_of(data["c"][1]) == (1, 11)


def test_alias_bomb_is_refused() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    error = input_error("\n".join(lines))
    assert "alias bomb" in error.message


def test_alias_inside_its_own_anchor_is_refused() -> None:
    assert "alias" in input_error("a: &a [1, *a]\n").message


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1001 + "]" * 1001,
        "[" * 100_000,  # libyaml's composer would crash the interpreter
        "- " * 1001 + "x\n",
        "v: " + "!Not [" * 600 + "x" + "]" * 600,  # each intrinsic adds a mapping level
    ],
)
def test_deep_nesting_is_refused(text: str) -> None:
    assert "nesting deeper than 1000 levels" in input_error(text).message


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert load_yaml("[" * 1000 + "]" * 1000, "t.yaml") is not None


def test_library_ceiling_is_above_every_allowed_limit() -> None:
    # libyaml's own ceiling must never refuse a document before bglint's `max-depth` does.
    schema = json.loads((Path(__file__).parent.parent / "schemas" / "config.schema.json").read_text())
    deepest = schema["properties"]["limits"]["properties"]["max-depth"]["maximum"]
    assert deepest == yaml_pos._DEEPEST_ALLOWED
    get_ceiling = getattr(getattr(yaml, "_yaml", None), "_get_max_nest_level", None)
    if get_ceiling is not None:
        assert get_ceiling() > deepest


@pytest.mark.parametrize("text", ["[" * 40 + "]" * 40, "- " * 40 + "x\n"])
def test_library_refusal_becomes_bglints_message(text: str) -> None:
    # Whatever ceiling a YAML library enforces, the refusal reads as bglint's own limit.
    set_ceiling = getattr(getattr(yaml, "_yaml", None), "_set_max_nest_level", None)
    if set_ceiling is None:
        pytest.skip("this libyaml has no nesting ceiling")
    previous = yaml._yaml._get_max_nest_level()
    set_ceiling(20)
    try:
        error = input_error(text)
        assert "nesting deeper than 1000 levels" in error.message
        assert error.line == 1
    finally:
        set_ceiling(previous)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"AWSTemplateFormatVersion": "2010-09-09"}, True),
        ({"Resources": {"Role": {"Type": "AWS::IAM::Role"}}}, True),
        ({"Resources": {}}, True),
        ({"Resources": []}, False),
        ({"Resources": "none"}, False),
        ({"components": []}, False),
        ([{"Resources": {}}], False),
        (None, False),
        ("AWSTemplateFormatVersion", False),
    ],
)
def test_is_template(data: Any, expected: bool) -> None:
    assert is_template(data) is expected


def test_is_template_on_loaded_yaml() -> None:
    assert is_template(load_yaml(TEMPLATE, "t.yaml"))


def test_template_text_in_json_keeps_positions() -> None:
    data = load_template_text('\n  {"Resources": {"R": {"Type": "T"}}}', "t.json")
    assert data == {"Resources": {"R": {"Type": "T"}}}
    assert data.key_pos["Resources"] == (2, 4)


def test_template_text_falls_back_from_json_to_yaml() -> None:
    assert load_template_text("{Resources: {R: !Ref X}}", "t.json") == {"Resources": {"R": {"Ref": "X"}}}


def test_template_text_reports_the_json_error_when_both_fail() -> None:
    with pytest.raises(InputError) as caught:
        load_template_text('{"Resources": [}', "t.json")
    assert (caught.value.message, caught.value.line, caught.value.col) == (
        "expected a JSON value",
        1,
        16,
    )


def test_template_text_in_yaml() -> None:
    assert load_template_text("\ufeff# c\nResources: {}\n", "t.yaml") == {"Resources": {}}


PLAIN_SCALARS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12) | (
    st.sampled_from(["y", "No", "on", "~", "null", "0x1f", "1_000", ".inf", "-.5", "2020-01-01", "<<", "=", "Allow"])
)


@pytest.mark.slow
@given(
    st.sampled_from(["ScalarNode", "MappingNode", "SequenceNode"]),
    PLAIN_SCALARS | st.just(""),
    st.tuples(st.booleans(), st.booleans()),
)
def test_resolver_shortcut_agrees_with_pyyaml(kind: str, text: str, implicit: tuple[bool, bool]) -> None:
    """Untagged nodes get PyYAML's tag without its resolver: collections and quoted scalars
    outright, plain scalars when no implicit resolver could claim their first character."""
    node_kind = getattr(yaml.nodes, kind)
    value = text if kind == "ScalarNode" else None
    loader = yaml_pos._Loader("")
    try:
        ours = loader.resolve(node_kind, value, implicit)
        theirs = yaml.SafeLoader.resolve(loader, node_kind, value, implicit)
    finally:
        loader.dispose()
    assert ours == theirs


@given(st.text("ab\r\n\x85\u2028\u2029\v\f\x1c\x1d\x1e", max_size=12))
def test_line_split_agrees_with_yaml_line_breaks(text: str) -> None:
    """Positions index these lines: they must break exactly where libyaml counts a line."""
    assert yaml_pos._lines(text) == yaml_pos._LINE_BREAK.split(text)
