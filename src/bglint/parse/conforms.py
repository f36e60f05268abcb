"""Whether a document conforms to bglint's JSON Schemas, without importing jsonschema.

Importing jsonschema costs more than checking a whole app config (a fifth of a pre-commit
run), and nearly every config conforms. This module only answers yes or no, with
jsonschema's Draft 2020-12 semantics, for the keywords bglint's schemas use; a document
that does not conform is handed to jsonschema, which explains why. A keyword this module
does not know raises `Undecided` when it would be evaluated, so a schema that grows a new
keyword falls back to jsonschema rather than going unchecked.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bglint.paths import load_schema

Schema = dict[str, Any] | bool
# A schema document's name (e.g. `nuon_role.schema.json`) -> the document
Documents = Mapping[str, dict[str, Any]]

# Keywords that never affect validity. `format` is one: Draft 2020-12 validators assert it
# only when given a format checker, and bglint's validators get none.
_ANNOTATIONS = frozenset(
    ("$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples", "format")
)


class Undecided(Exception):
    """The schema uses a keyword (or a `$ref` form) this module does not evaluate."""


def conforms(value: Any, name: str, documents: Documents) -> bool:
    """Whether `value` is valid against the schema document `name`."""
    return _Check(documents).valid(value, documents[name], name)


def surely_conforms(value: Any, name: str, documents: Documents) -> bool:
    """True when `value` conforms; False when it does not, or when this module cannot tell."""
    with contextlib.suppress(Undecided):
        return conforms(value, name, documents)
    return False


def first_problem(value: Any, name: str) -> tuple[list[str | int], str] | None:
    """jsonschema's best-matching error against a self-contained schema of `schemas/`, as
    (where in `value`, message); None when `value` conforms."""
    schema = load_schema(name)
    if surely_conforms(value, name, {name: schema}):
        return None
    import jsonschema  # only to explain what is wrong: importing it costs more than the check

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    return None if error is None else (list(error.absolute_path), error.message)


def _is_number(value: Any) -> bool:
    # int and float are the numbers YAML, JSON and TOML parse to (numbers.Number costs an import)
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": _is_number,
    # Since draft 6 a float with no fractional part is an integer too: 1.0 is 1.
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    ),
}


def _equal(one: Any, two: Any) -> bool:
    """JSON equality: `true` is not `1`, at any depth."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return one.keys() == two.keys() and all(_equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    return bool(one == two)


class _Check:
    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def valid(self, value: Any, schema: Schema, name: str) -> bool:
        """`name` is the document `schema` lives in: a `#` reference is resolved there."""
        if isinstance(schema, bool):
            return schema
        for keyword, expected in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            check = _KEYWORDS.get(keyword)
            if check is None:
                raise Undecided(keyword)
            if not check(self, value, expected, schema, name):
                return False
        return True

    def ref(self, value: Any, ref: str, _schema: dict[str, Any], name: str) -> bool:
        target_name, _, pointer = ref.partition("#")
        target_name = target_name or name
        if target_name not in self.documents or not pointer.startswith("/"):
            raise Undecided(f"$ref {ref}")
        target: Any = self.documents[target_name]
        try:
            for step in pointer[1:].split("/"):
                target = target[step.replace("~1", "/").replace("~0", "~")]
        except (KeyError, TypeError):
            raise Undecided(f"$ref {ref}") from None
        return self.valid(value, target, target_name)

    def types(self, value: Any, types: str | list[str], _schema: dict[str, Any], _name: str) -> bool:
        wanted = [types] if isinstance(types, str) else types
        for kind in wanted:
            if kind not in _TYPES:
                raise Undecided(f"type {kind}")
        return any(_TYPES[kind](value) for kind in wanted)

    def properties(self, value: Any, properties: dict[str, Schema], _schema: dict[str, Any], name: str) -> bool:
        if not isinstance(value, dict):
            return True
        return all(self.valid(value[key], sub, name) for key, sub in properties.items() if key in value)

    def additional(self, value: Any, additional: Schema, schema: dict[str, Any], name: str) -> bool:
        if not isinstance(value, dict):
            return True
        if "patternProperties" in schema:
            raise Undecided("patternProperties")
        known = schema.get("properties", {})
        return all(self.valid(value[key], additional, name) for key in value if key not in known)

    def property_names(self, value: Any, names: Schema, _schema: dict[str, Any], name: str) -> bool:
        return not isinstance(value, dict) or all(self.valid(key, names, name) for key in value)

    def items(self, value: Any, items: Schema, schema: dict[str, Any], name: str) -> bool:
        if not isinstance(value, list):
            return True
        if "prefixItems" in schema:
            raise Undecided("prefixItems")
        return all(self.valid(item, items, name) for item in value)

    def one_of(self, value: Any, branches: list[Schema], _schema: dict[str, Any], name: str) -> bool:
        return sum(self.valid(value, branch, name) for branch in branches) == 1

    def if_then_else(self, value: Any, condition: Schema, schema: dict[str, Any], name: str) -> bool:
        branch = "then" if self.valid(value, condition, name) else "else"
        return branch not in schema or self.valid(value, schema[branch], name)


def _on(kind: str, test: Callable[[Any, Any], bool]) -> Callable[[_Check, Any, Any, dict[str, Any], str], bool]:
    """A keyword that constrains values of one JSON type and lets every other value pass."""
    return lambda _check, value, expected, _schema, _name: not _TYPES[kind](value) or test(value, expected)


_KEYWORDS: dict[str, Callable[[_Check, Any, Any, dict[str, Any], str], bool]] = {
    "$ref": _Check.ref,
    "type": _Check.types,
    "properties": _Check.properties,
    "additionalProperties": _Check.additional,
    "propertyNames": _Check.property_names,
    "items": _Check.items,
    "oneOf": _Check.one_of,
    "anyOf": lambda check, value, branches, _schema, name: any(check.valid(value, b, name) for b in branches),
    "allOf": lambda check, value, branches, _schema, name: all(check.valid(value, b, name) for b in branches),
    "not": lambda check, value, branch, _schema, name: not check.valid(value, branch, name),
    "if": _Check.if_then_else,
    # without "if", "then" and "else" are ignored
    "then": lambda *_: True,
    "else": lambda *_: True,
    "enum": lambda _check, value, choices, _schema, _name: any(_equal(choice, value) for choice in choices),
    "const": lambda _check, value, constant, _schema, _name: _equal(value, constant),
    "required": _on("object", lambda value, keys: all(key in value for key in keys)),
    "minProperties": _on("object", lambda value, least: len(value) >= least),
    "dependentRequired": _on(
        "object",
        lambda value, needs: all(other in value for key, others in needs.items() if key in value for other in others),
    ),
    "minItems": _on("array", lambda value, least: len(value) >= least),
    "minLength": _on("string", lambda value, least: len(value) >= least),
    "pattern": _on("string", lambda value, pattern: re.search(pattern, value) is not None),
    # "not below", rather than ">=": NaN is below nothing, so it passes, as in jsonschema
    "minimum": _on("number", lambda value, least: not value < least),
    "maximum": _on("number", lambda value, most: not value > most),
}
