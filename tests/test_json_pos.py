"""The located JSON parser: positions, strictness, and agreement with json.loads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bglint.errors import InputError
from bglint.parse.json_pos import load_json
from bglint.parse.nodes import Mapping, Pos, Sequence, pos_in, pos_of


def input_error(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        load_json(text, "t.json")
    assert caught.value.path == "t.json"
    return caught.value


TEMPLATE = """\
{
  "Resources": {
    "Role": {"Type": "AWS::IAM::Role",
      "Properties": {
        "ManagedPolicyArns": [
          "arn:aws:iam::aws:policy/ReadOnlyAccess",
          {"Ref": "Extra"}, 3
        ]
      }
    }
  }
}
"""


def test_positions_of_containers_keys_and_values() -> None:
    data = load_json(TEMPLATE, "t.json")
    assert isinstance(data, Mapping)
    assert data.pos == (1, 1)
    assert data.key_pos["Resources"] == (2, 3)
    assert pos_in(data, "Resources") == (2, 16)
    assert pos_in(data, "Missing") == (1, 1)

    role = data["Resources"]["Role"]
    assert pos_of(role) == (3, 13)
    assert role.key_pos == {"Type": (3, 14), "Properties": (4, 7)}
    assert role.value_pos == {"Type": (3, 22), "Properties": (4, 21)}

    arns = role["Properties"]["ManagedPolicyArns"]
    assert isinstance(arns, Sequence)
    assert pos_of(arns) == (5, 30)
    assert arns.item_pos == [(6, 11), (7, 11), (7, 29)]
    assert arns[1].value_pos["Ref"] == (7, 19)
    assert pos_in(arns, 7) == (5, 30)


def test_columns_count_characters_not_bytes() -> None:
    data = load_json('{"é": "ü", "x": 1}', "t.json")
    assert data.key_pos["x"] == (1, 12)


@pytest.mark.parametrize(
    "text",
    ["0", "-0", "1.5e3", "-12", "1E+2", '"\\u00e9\\n\\"\\/"', "true", "false", "null",
     "[]", "{}", ' [ 1 , { "a" : [ ] } ] ', '"\\ud83d\\ude00"', "123456789012345678901234567890"],
)  # fmt: skip
def test_values_agree_with_json_loads(text: str) -> None:
    value = load_json(text, "t.json")
    assert json.dumps(value) == json.dumps(json.loads(text))


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ('{"a": 1,\n "b": 2,\n "a": 3}', 3, 2, "duplicate key 'a' (first at line 1)"),
        ('[{"x": {"k": 1, "k": 2}}]', 1, 17, "duplicate key 'k' (first at line 1)"),
    ],
)
def test_duplicate_keys(text: str, line: int, col: int, message: str) -> None:
    error = input_error(text)
    assert (error.line, error.col, error.message) == (line, col, message)


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ('{"a": 1 "b": 2}', 1, 9, "expected ',' or '}' after object member"),
        ("[1 2]", 1, 4, "expected ',' or ']' after array element"),
        ('{"a" 1}', 1, 6, "expected ':' after object key"),
        ('{"a": 1,}', 1, 9, "expected a string key"),
        ("{'a': 1}", 1, 2, "expected a string key"),
        ("[1,\n  ]", 2, 3, "expected a JSON value"),
        ("", 1, 1, "unexpected end of JSON input"),
        ('{\n  "a": [1,', 2, 11, "unexpected end of JSON input"),
        ('{"a": 1', 1, 8, "expected ',' or '}' after object member"),
        ("[1] [2]", 1, 5, "unexpected data after the JSON value"),
        ("01", 1, 2, "unexpected data after the JSON value"),
        ("1.", 1, 2, "unexpected data after the JSON value"),
        ("-", 1, 1, "expected a JSON value"),
        ("NaN", 1, 1, "expected a JSON value"),
        ("[Infinity]", 1, 2, "expected a JSON value"),
        ("tru", 1, 1, "expected a JSON value"),
        ('\n\n  "open', 3, 3, "unterminated string"),
        ('["a\nb"]', 1, 4, "invalid control character"),
        ('"\\x"', 1, 2, "invalid \\escape"),
        ('"\\u12"', 1, 3, "invalid \\uXXXX escape"),
        ("\ufeff{}", 1, 1, "expected a JSON value"),
        ("1" * 5000, 1, 1, "integer has too many digits"),
    ],
)
def test_syntax_errors(text: str, line: int, col: int, message: str) -> None:
    error = input_error(text)
    assert (error.line, error.col, error.message) == (line, col, message)


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert load_json("[" * 1000 + "]" * 1000, "t.json") is not None


@pytest.mark.parametrize("text", ["[" * 1001 + "]" * 1001, '{"a":' * 100_000])
def test_deep_nesting_is_refused(text: str) -> None:
    assert input_error(text).message == "nesting deeper than 1000 levels"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=40,
)
DUMPS_OPTIONS: list[dict[str, Any]] = [
    {},
    {"indent": 2},
    {"indent": "\t", "ensure_ascii": False},
    {"separators": (",", ":")},
]


def char_at(text: str, pos: Pos) -> str:
    line, col = pos
    return text.split("\n")[line - 1][col - 1]


def check_positions(text: str, value: Any) -> None:
    """Each key is located at its quote, each value at its first character."""
    if isinstance(value, Mapping):
        assert char_at(text, value.pos) == "{"
        for key, child in value.items():
            assert char_at(text, value.key_pos[key]) == '"'
            assert char_at(text, value.value_pos[key]) == json.dumps(child)[0]
            check_positions(text, child)
    elif isinstance(value, Sequence):
        assert char_at(text, value.pos) == "["
        for index, child in enumerate(value):
            assert char_at(text, value.item_pos[index]) == json.dumps(child)[0]
            check_positions(text, child)


@pytest.mark.slow
@given(JSON_VALUES, st.sampled_from(DUMPS_OPTIONS))
def test_agrees_with_json_loads(value: Any, options: dict[str, Any]) -> None:
    text = json.dumps(value, **options)
    parsed = load_json(text, "t.json")
    expected = json.loads(text)
    assert parsed == expected
    assert json.dumps(parsed) == json.dumps(expected)  # also tells 1 from 1.0
    check_positions(text, parsed)
