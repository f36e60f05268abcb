"""conforms: the quick yes/no answer must be jsonschema's answer, for every schema and value."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from bglint.load.nuon.schema import KINDS
from bglint.parse import conforms as conforms_module
from bglint.parse.conforms import Undecided, conforms
from bglint.parse.toml_pos import load_toml
from bglint.paths import data_path

NAMES = [f"{kind}.schema.json" for kind in (*KINDS, "nuon_role", "config", "rule")]
DOCUMENTS = {name: json.loads(data_path("schemas", name).read_text(encoding="utf-8")) for name in NAMES}
# The oracle, built here rather than borrowed from the code under test.
REGISTRY: Registry[Any] = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in DOCUMENTS.values()
)


def jsonschema_says(value: Any, name: str) -> bool:
    return bool(Draft202012Validator(DOCUMENTS[name], registry=REGISTRY).is_valid(value))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["", "aws", "gcp", "custom", "runner", "sandbox", "v2", "main", "1.11.3"]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
ANY_VALUE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)


def resolve(schema: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
    target_name, _, pointer = schema["$ref"].partition("#")
    target_name = target_name or name
    target: Any = DOCUMENTS[target_name]
    for step in pointer[1:].split("/"):
        target = target[step]
    return target, target_name


MISTAKES = ("anything", "near miss", "missing key", "second branch", "unknown key", "bad key name")


class Draw:
    """Values shaped by a schema, with one kind of mistake per document, made at a rate.

    A document wrong in one way only is where a lax check says yes too early: a `oneOf`
    counted loosely passes a document whose only fault is a second branch."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.mistake = data.draw(st.sampled_from((None, *MISTAKES)))
        self.rate = data.draw(st.sampled_from((2, 6, 30)))  # 1 in N of the chances

    def errs(self, mistake: str) -> bool:
        return self.mistake == mistake and self.data.draw(st.integers(1, self.rate)) == 1

    def value(self, schema: Any, name: str, depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > 8 or self.errs("anything"):
            return self.data.draw(ANY_VALUE)
        if "$ref" in schema:
            target, target_name = resolve(schema, name)
            return self.value(target, target_name, depth + 1)
        kinds = schema.get("type", "object")
        kind = self.data.draw(st.sampled_from(kinds)) if isinstance(kinds, list) else kinds
        if kind in ("string", "integer", "number") and self.errs("near miss"):  # the right type, any value
            return self.data.draw(st.text(max_size=3) if kind == "string" else st.integers(-3, 3))
        if "enum" in schema:
            return self.data.draw(st.sampled_from(schema["enum"]))
        if "const" in schema:
            return schema["const"]
        if kind == "object":
            return self.table(schema, name, depth)
        if kind == "array":
            count = self.data.draw(st.integers(0, 3))
            return [self.value(schema.get("items", {}), name, depth + 1) for _ in range(count)]
        if kind == "string":
            least = schema.get("minLength", 0)
            if "pattern" in schema:
                return self.data.draw(st.from_regex(schema["pattern"]).filter(lambda text: len(text) >= least))
            return self.data.draw(st.text(min_size=least, max_size=4))
        if kind == "integer":
            return self.data.draw(st.integers(schema.get("minimum", -2), schema.get("maximum", 100_000)))
        if kind == "number":
            return self.data.draw(st.floats(schema.get("minimum"), schema.get("maximum")))
        if kind == "boolean":
            return self.data.draw(st.booleans())
        return self.data.draw(ANY_VALUE)

    def table(self, schema: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        branches = schema.get("oneOf") or schema.get("then", {}).get("oneOf") or []
        chosen = self.data.draw(st.sampled_from(branches)) if branches else {}
        required = set(schema.get("required", ())) | set(chosen.get("required", ()))
        if branches and self.errs("second branch"):
            required |= set(self.data.draw(st.sampled_from(branches)).get("required", ()))
        in_branches = {key for branch in branches for key in branch.get("required", ())}
        keys = [
            key
            for key in properties
            if (
                not self.errs("missing key")
                if key in required
                else key not in in_branches and self.data.draw(st.booleans())
            )
        ]
        table = {key: self.value(properties[key], name, depth + 1) for key in keys}
        extra = schema.get("additionalProperties", True)
        if not properties and isinstance(extra, dict):  # a map: its keys are data, shaped by propertyNames
            names = schema.get("propertyNames", {}).get("pattern")
            for _ in range(self.data.draw(st.integers(0, 2))):
                wrong = names is None or self.errs("bad key name")
                key = self.data.draw(st.text(min_size=1, max_size=5) if wrong else st.from_regex(names))
                table[key] = self.value(extra, name, depth + 1)
        if self.errs("unknown key"):
            key = self.data.draw(st.text(min_size=1, max_size=5))
            table[key] = self.value(extra, name, depth + 1) if isinstance(extra, dict) else self.data.draw(ANY_VALUE)
        return table


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_agrees_with_jsonschema(name: str, data: st.DataObject) -> None:
    value = Draw(data).value(DOCUMENTS[name], name)
    assert conforms(value, name, DOCUMENTS) == jsonschema_says(value, name), value


@pytest.mark.slow
def test_generated_documents_include_both_answers() -> None:
    """The agreement test means little if its documents were all valid, or all invalid."""
    answers: set[bool] = set()

    @settings(max_examples=60, deadline=None, database=None)
    @given(data=st.data())
    def collect(data: st.DataObject) -> None:
        name = "break_glass.schema.json"
        answers.add(jsonschema_says(Draw(data).value(DOCUMENTS[name], name), name))

    collect()
    assert answers == {True, False}


@pytest.mark.parametrize("name", NAMES)
def test_shipped_schemas_use_only_keywords_it_decides(name: str) -> None:
    """Else every config of that kind would import jsonschema: correct, but slow."""
    known = set(conforms_module._KEYWORDS) | set(conforms_module._ANNOTATIONS)
    keyword_holders = ("properties", "$defs")

    def walk(node: Any, holder: str = "") -> None:
        if isinstance(node, dict):
            if holder not in keyword_holders:
                assert set(node) <= known, sorted(set(node) - known)
            for key, value in node.items():
                walk(value, key if holder not in keyword_holders else "")
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOCUMENTS[name])


def test_toml_values_are_judged_like_jsonschema() -> None:
    text = '[[role]]\nname = "r"\ndescription = 1979-05-27\nenabled_in_stack = 1\n'
    doc = load_toml(text, "f.toml")
    assert conforms(doc, "break_glass.schema.json", DOCUMENTS) is False
    assert jsonschema_says(doc, "break_glass.schema.json") is False


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({"enum": [1]}, True, False),  # true is not 1
        ({"enum": [True]}, 1, False),
        ({"const": [0, 1]}, [False, True], False),
        ({"const": {"a": 1.0}}, {"a": 1}, True),  # 1.0 is 1
        ({"type": "integer"}, True, False),
        ({"type": "integer"}, 1.0, True),  # since draft 6
        ({"type": "integer"}, 1.5, False),
        ({"type": "integer"}, math.inf, False),
        ({"type": "number"}, False, False),
        ({"type": ["string", "null"]}, None, True),
        ({"minimum": 1}, math.nan, True),  # NaN is below nothing
        ({"maximum": 1}, math.nan, True),
        ({"minimum": 1}, "0", True),  # only numbers are bounded
        ({"minLength": 1}, 0, True),
        ({"pattern": "^a"}, "ba", False),
        ({"pattern": "a"}, "ba", True),  # a search, not a full match
        ({"required": ["a"]}, [], True),  # only objects need keys
        ({"properties": {"a": False}, "additionalProperties": False}, {"b": 1}, False),
        ({"properties": {"a": False}}, {"b": 1}, True),
        ({"additionalProperties": {"type": "string"}}, {"b": 1}, False),
        ({"propertyNames": {"pattern": "^x"}}, {"y": 1}, False),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, False),
        ({"dependentRequired": {"a": ["b"]}}, {"b": 1}, True),
        ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1, "b": 2}, False),
        ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {}, False),
        ({"if": {"minProperties": 1}, "then": {"required": ["a"]}}, {}, True),
        ({"if": {"minProperties": 1}, "then": {"required": ["a"]}}, {"b": 1}, False),
        ({"if": {"type": "string"}, "else": {"type": "integer"}}, 1.5, False),
        ({"then": False}, 1, True),  # without "if", "then" is ignored
        ({"items": {"type": "string"}}, ["a", dt.date(2024, 1, 1)], False),
        ({"minItems": 1}, [], False),
        ({"format": "date", "type": "string"}, "not a date", True),  # format asserts nothing here
        ({"$defs": {"x": {"type": "string"}}, "$ref": "#/$defs/x"}, 1, False),
    ],
)
def test_keyword_semantics_match_jsonschema(schema: dict[str, Any], value: Any, expected: bool) -> None:
    documents = {"t.json": schema}
    assert conforms(value, "t.json", documents) is expected
    assert Draft202012Validator(schema).is_valid(value) is expected


def test_reference_into_another_document_resolves_there() -> None:
    documents: dict[str, dict[str, Any]] = {
        "a.json": {"$ref": "b.json#/$defs/x"},
        "b.json": {"$defs": {"x": {"items": {"$ref": "#/$defs/y"}}, "y": {"type": "integer"}}},
    }
    assert conforms([1, 2], "a.json", documents) is True
    assert conforms([1, "2"], "a.json", documents) is False


@pytest.mark.parametrize(
    "schema",
    [
        {"maxLength": 3},
        {"type": "object", "patternProperties": {"^x": {}}, "additionalProperties": False},
        {"prefixItems": [{}], "items": False},
        {"$ref": "https://example.com/other.json"},
        {"$ref": "#/$defs/missing"},
        {"type": "uuid"},
    ],
)
def test_keywords_it_does_not_know_are_left_to_jsonschema(schema: dict[str, Any]) -> None:
    with pytest.raises(Undecided):
        conforms({"x": 1}, "t.json", {"t.json": schema}) if "items" not in schema else conforms(
            [1, 2], "t.json", {"t.json": schema}
        )


@pytest.mark.slow
def test_a_valid_config_is_checked_without_importing_jsonschema(tmp_path: Any) -> None:
    """The point of this module: a pre-commit run on a valid app never pays for jsonschema."""
    program = (
        "import sys\n"
        "from bglint.load.nuon.schema import validate_config\n"
        "from bglint.parse.toml_pos import load_toml\n"
        "doc = load_toml(sys.argv[1], 'f.toml')\n"
        "print(validate_config(doc, 'break_glass', 'f.toml'), 'jsonschema' in sys.modules)\n"
    )
    valid = '[[role]]\nname = "r"\ndescription = "d"\n[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n'
    invalid = valid.replace('"ReadOnlyAccess"', "5")
    outputs = [
        subprocess.run([sys.executable, "-c", program, text], capture_output=True, text=True, check=True).stdout
        for text in (valid, invalid)
    ]
    assert outputs[0] == "([], []) False\n"
    assert "must be a string" in outputs[1] and outputs[1].endswith(" True\n")


@pytest.mark.slow
def test_a_valid_bglint_config_is_read_without_importing_jsonschema(tmp_path: Path) -> None:
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bglint.errors import InputError\n"
        "from bglint.load.config import load_config\n"
        "try:\n"
        "    print(load_config(Path(sys.argv[1])).fail_on, 'jsonschema' in sys.modules)\n"
        "except InputError as exc:\n"
        "    print(exc.message, 'jsonschema' in sys.modules)\n"
    )
    outputs = []
    for text in ("fail-on: warning\n", "fail-on: sometimes\n"):
        (tmp_path / ".bglint.yaml").write_text(text, encoding="utf-8")
        run = subprocess.run(
            [sys.executable, "-c", program, str(tmp_path / ".bglint.yaml")], capture_output=True, text=True, check=True
        )
        outputs.append(run.stdout)
    assert outputs[0] == "warning False\n"
    assert outputs[1].startswith("invalid config: fail-on: ") and outputs[1].endswith(" True\n")
