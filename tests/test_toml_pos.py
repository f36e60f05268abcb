"""load_toml: values exactly as tomllib gives them, plus where each came from."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bglint.errors import InputError
from bglint.parse import toml_pos
from bglint.parse.nodes import Mapping, Pos, Sequence
from bglint.parse.toml_pos import load_toml, string_body_pos


def test_tables_and_array_of_tables() -> None:
    doc = load_toml(
        'title = "x"\n'  # 1
        "\n"
        "[owner]\n"  # 3
        'name = "Tom"\n'  # 4
        "\n"
        "[[role]]\n"  # 6
        'name = "a"\n'  # 7
        "[[role.policies]]\n"  # 8
        'managed_policy_name = "X"\n'  # 9
        "[[ role ]]\n"  # 10
        'name = "b"\n',  # 11
        "t.toml",
    )
    assert doc.pos == (1, 1)
    assert doc.key_pos["title"] == (1, 1) and doc.value_pos["title"] == (1, 9)
    assert doc["owner"].pos == (3, 1) and doc.key_pos["owner"] == (3, 2)
    roles = doc["role"]
    assert isinstance(roles, Sequence)
    assert roles.pos == (6, 1) and doc.key_pos["role"] == (6, 3)
    assert roles.item_pos == [(6, 1), (10, 1)]
    assert roles[0]["policies"].pos == (8, 1)
    assert roles[0]["policies"][0].value_pos["managed_policy_name"] == (9, 23)
    assert roles[1].key_pos["name"] == (11, 1) and roles[1].value_pos["name"] == (11, 8)
    assert "policies" not in roles[1]


def test_nested_array_of_tables_follow_their_parent_element() -> None:
    doc = load_toml("[[a]]\n[[a.b]]\nx = 1\n[[a]]\n[[a.b]]\nx = 2\n[[a.b]]\nx = 3\n[a.b.c]\ny = 4\n", "t")
    assert doc["a"][0]["b"].item_pos == [(2, 1)]
    assert doc["a"][1]["b"].item_pos == [(5, 1), (7, 1)]
    assert doc["a"][1]["b"][1]["c"].pos == (9, 1)
    assert doc["a"][1]["b"][1]["c"].key_pos["y"] == (10, 1)


def test_dotted_and_quoted_keys() -> None:
    doc = load_toml(
        "[server]\n"  # 1
        "a.b = 1\n"  # 2
        "\"quoted.key\" . 'lit' = 2\n"  # 3
        'site."x y" = true\n'  # 4
        '"esc\\u0041" = 3\n',  # 5
        "t",
    )
    server = doc["server"]
    assert server.key_pos["a"] == (2, 1) and server["a"].key_pos["b"] == (2, 3)
    assert server["a"].value_pos["b"] == (2, 7)
    assert server.key_pos["quoted.key"] == (3, 1)
    assert server["quoted.key"].key_pos["lit"] == (3, 16)
    assert server["site"].key_pos["x y"] == (4, 6)
    assert server.key_pos["escA"] == (5, 1)


def test_super_table_declared_after_its_child_points_at_its_own_header() -> None:
    doc = load_toml("[a.b]\nx = 1\n[a]\ny = 2\n", "t")
    assert doc["a"].pos == (3, 1) and doc["a"]["b"].pos == (1, 1)
    implicit = load_toml("[a.b]\nx = 1\n", "t")
    assert implicit["a"].pos == (1, 1) and implicit.key_pos["a"] == (1, 2)


def test_multiline_string_bodies_are_not_read_as_keys_or_headers() -> None:
    text = (
        "[[role]]\n"  # 1
        'name = "r"\n'  # 2
        "[[role.policies]]\n"  # 3
        'contents = """\n'  # 4
        'key = "not a key"\n'
        "[not.a.table]\n"
        "[[nor.this]]\n"
        '"""\n'  # 8
        "after = '''\n"  # 9
        "x = 1\n"
        "[y]'''\n"  # 11
        "last = 1\n"  # 12
    )
    doc = load_toml(text, "t")
    assert doc == tomllib.loads(text)
    policy = doc["role"][0]["policies"][0]
    assert list(policy) == ["contents", "after", "last"]
    assert policy.value_pos["contents"] == (4, 12)
    assert policy.key_pos["after"] == (9, 1) and policy.key_pos["last"] == (12, 1)


def test_string_body_pos() -> None:
    text = (
        'one = "x"\n'  # 1
        'json = """\n'  # 2
        '{"a": 1}"""\n'  # 3
        'same = """{"a": 1}\n'  # 4
        '"""\n'
        "lit = '''\n"  # 6
        "{}'''\n"  # 7
        'cont = """\\\n'  # 8
        "\n"
        '    {}"""\n'  # 10
        "n = 5\n"
    )
    doc = load_toml(text, "t")
    assert string_body_pos(doc, "one")[0] == 1
    assert string_body_pos(doc, "json")[0] == 3
    assert string_body_pos(doc, "same")[0] == 4
    assert string_body_pos(doc, "lit")[0] == 7
    assert string_body_pos(doc, "cont")[0] == 10
    assert string_body_pos(doc, "n")[0] == 11


def test_string_body_pos_falls_back_to_the_value_line_for_plain_mappings() -> None:
    plain = Mapping()
    plain.put("contents", "{}", (3, 1), (3, 12))
    assert string_body_pos(plain, "contents")[0] == 3


def test_crlf_line_endings() -> None:
    doc = load_toml('[t]\r\nx = """\r\n{}\r\n"""\r\ny = 2\r\n', "t")
    assert doc["t"].key_pos["y"] == (5, 1)
    assert string_body_pos(doc["t"], "x")[0] == 3


def test_arrays_and_inline_tables() -> None:
    text = (
        "xs = [\n"  # 1
        "  1, # one, [not = a key]\n"  # 2
        '  "two",\n'  # 3
        "  [3, 4],\n"  # 4
        "  { a = 1, b.c = 'q' },\n"  # 5
        "]\n"
        "t = { k = [1, 2] }\n"  # 7
    )
    doc = load_toml(text, "t")
    xs = doc["xs"]
    assert isinstance(xs, Sequence) and xs.pos == (1, 6)
    assert xs.item_pos == [(2, 3), (3, 3), (4, 3), (5, 3)]
    assert xs[2].item_pos == [(4, 4), (4, 7)]
    assert xs[3].key_pos == {"a": (5, 5), "b": (5, 12)}
    assert xs[3]["b"].value_pos["c"] == (5, 18)
    assert doc["t"].pos == (7, 5) and doc["t"]["k"].item_pos == [(7, 12), (7, 15)]


def test_local_date_time_with_a_space() -> None:
    doc = load_toml("when = 1979-05-27 07:32:00 # note\nnext = 1\n", "t")
    assert doc["when"] == dt.datetime(1979, 5, 27, 7, 32)
    assert doc.key_pos["next"] == (2, 1)


def test_a_scanner_gap_costs_positions_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    def give_up(self: object) -> None:
        raise toml_pos._ScanError(0)

    monkeypatch.setattr(toml_pos._Scanner, "scan", give_up)
    text = '[[role]]\nname = "r"\n[[role.policies]]\nmanaged_policy_name = "X"\n'
    doc = load_toml(text, "t")
    assert doc == tomllib.loads(text)
    assert doc["role"][0]["policies"][0].pos_of("managed_policy_name") == (1, 1)


def test_syntax_error_carries_line_and_column() -> None:
    with pytest.raises(InputError) as caught:
        load_toml("a = 1\nb = \n", "bad.toml")
    error = caught.value
    assert (error.path, error.line, error.col) == ("bad.toml", 2, 5)
    assert error.message == "Invalid value"


def test_syntax_error_at_end_of_document() -> None:
    with pytest.raises(InputError) as caught:
        load_toml('a = 1\nb = """\nopen', "bad.toml")
    assert (caught.value.line, caught.value.col) == (3, 5)
    assert "\n" not in caught.value.message and "(at" not in caught.value.message


def test_duplicate_table_is_a_syntax_error() -> None:
    with pytest.raises(InputError) as caught:
        load_toml("[a]\nx = 1\n[a]\n", "dup.toml")
    assert caught.value.line == 3


def test_deep_nesting_is_an_input_error() -> None:
    with pytest.raises(InputError, match="nested too deeply"):
        load_toml("a = " + "[" * 5000 + "]" * 5000, "deep.toml")


# --- property: random documents written in varied TOML styles ---------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_STRING_CHARS = list("ab =[]#{},\"'\\\n\té")
keys = st.text(alphabet=list("abz_-09 .\"'é\\"), max_size=5)
scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(alphabet=_STRING_CHARS, max_size=12),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=6)


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _path(parts: list[str]) -> str:
    return ".".join(_key(part) for part in parts)


def _string(text: str, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0 and not re.search(r"['\n\t]", text):
        return f"'{text}'"
    if style == 1:
        return '"""\n' + text.replace("\\", "\\\\").replace('"', '\\"') + '"""'
    if style == 2 and "'''" not in text:
        return "'''\n" + text + "'''"
    return json.dumps(text, ensure_ascii=False)


def _inline(value: Any, rng: random.Random) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value, rng)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=rng.choice("T "))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_inline(v, rng)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        items = [_inline(item, rng) for item in value]
        if rng.random() < 0.5:
            return "[" + ", ".join(items) + "]"
        return "[\n" + "".join(f"  {item}, # c = [x]\n" for item in items) + "]"
    return str(value)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _write_table(table: dict[str, Any], path: list[str], rng: random.Random, out: list[str], headers: bool) -> None:
    """Key/values first, then sub-tables; `headers` forces every sub-table to a header."""
    later: list[tuple[str, Any]] = []
    for key, value in table.items():
        is_table = isinstance(value, dict) or _is_table_array(value)
        if isinstance(value, dict) and value and not headers and rng.random() < 0.3:
            # Dotted keys: `key.sub = ...` lines instead of a table.
            for sub, item in value.items():
                out.append(f"{_key(key)}.{_key(sub)} = {_inline(item, rng)}")
        elif is_table and (headers or rng.random() < 0.7):
            later.append((key, value))
        else:
            out.append(f"{_key(key)} = {_inline(value, rng)}  # = [x]")
    for key, value in later:
        if isinstance(value, list):
            for element in value:
                out.append(f"[[{_path([*path, key])}]]")
                _write_table(element, [*path, key], rng, out, False)
            continue
        # A table holding only tables may be left to its children's headers to imply.
        implied = bool(value) and all(isinstance(v, dict) and v for v in value.values())
        implied = implied and rng.random() < 0.5
        if not implied:
            out.append(f"[{_path([*path, key])}]")
        _write_table(value, [*path, key], rng, out, implied)


def _write(doc: dict[str, Any], seed: int) -> str:
    out: list[str] = []
    _write_table(doc, [], random.Random(seed), out, False)
    return "\n".join(out) + "\n"


def _at(lines: list[str], pos: Pos) -> str:
    line, col = pos
    return lines[line - 1][col - 1 :]


def _first_chars(value: Any, key: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        return ('"', "'")
    if isinstance(value, bool):
        return ("t", "f")
    if isinstance(value, (int, dt.date)):
        return tuple("-0123456789")
    if isinstance(value, list):
        return ("[",)
    # A table starts at `{`, at its `[header]`, or at its key in a dotted key.
    return ("{", "[") + ((_key(key),) if key is not None else ())


def _check_positions(node: Any, lines: list[str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            assert _at(lines, node.key_pos[key]).startswith(_key(key))
            assert _at(lines, node.value_pos[key]).startswith(_first_chars(value, key))
            _check_positions(value, lines)
    elif isinstance(node, Sequence):
        for index, item in enumerate(node):
            assert _at(lines, node.item_pos[index]).startswith(_first_chars(item, None))
            _check_positions(item, lines)


def _check_body_lines(node: Any, lines: list[str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, str):
                line = node.value_pos[key][0]
                multi = _at(lines, node.value_pos[key]).startswith(('"""', "'''"))
                assert string_body_pos(node, key)[0] == line + multi
            _check_body_lines(value, lines)
    elif isinstance(node, Sequence):
        for item in node:
            _check_body_lines(item, lines)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(documents, st.integers(0, 2**32))
def test_generated_documents_match_tomllib_and_positions_point_at_the_text(doc: dict[str, Any], seed: int) -> None:
    text = _write(doc, seed)
    expected = tomllib.loads(text)
    assert expected == doc  # the writer itself is faithful
    loaded = load_toml(text, "gen.toml")
    assert loaded == expected
    lines = text.split("\n")
    _check_positions(loaded, lines)
    _check_body_lines(loaded, lines)
