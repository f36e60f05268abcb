"""Check a Nuon app-config file against bglint's JSON Schema for its kind.

Unknown keys are warnings (Nuon adds keys faster than bglint learns them); every other
violation is an InputError at the offending value. The schemas live in `schemas/` and
refer to each other by `$id` (https://bglint.dev/schemas/<file>).

Convention the messages rely on: each `oneOf`/`anyOf` in the schemas is a list of
`required` sets, each with a `title` naming the alternative, and each `not` has a `title`.
"""

import datetime as dt
import functools
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from bglint.errors import InputError
from bglint.parse.conforms import surely_conforms
from bglint.parse.nodes import UNKNOWN, Mapping, Pos, pos_in, pos_of
from bglint.paths import load_schema
from bglint.regex import Regex

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

KINDS = (
    "action",
    "break_glass",
    "break_glass_role",
    "metadata",
    "named_policy",
    "permission_role",
    "permissions_legacy",
    "runner",
    "sandbox",
    "stack",
)

# The app-config schemas and the role definitions they share.
_SCHEMAS = (*KINDS, "nuon_role")

_BARE_KEY = Regex(r"[A-Za-z0-9_-]+")
_EXPECTED = {
    "array": "an array",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "object": "a table",
    "string": "a string",
}
_MAX_MESSAGE = 200
# Keywords about a table as a whole: point at its header rather than at its key.
_TABLE_KEYWORDS = ("required", "oneOf", "anyOf", "not")


class ConfigWarning(NamedTuple):
    """An unknown key; `key` is its dotted path, e.g. `role[0].policies[1].foo`."""

    path: str
    line: int
    col: int
    message: str
    key: str


def validate_config(doc: Mapping, kind: str, path: str) -> tuple[list[InputError], list[ConfigWarning]]:
    """Schema problems of one parsed file, sorted by position."""
    # The usual case, a valid file, without importing jsonschema: it only explains problems.
    if surely_conforms(doc, _schema_name(kind), _documents()):
        return [], []
    errors: dict[tuple[int, int, str], InputError] = {}
    warnings: list[ConfigWarning] = []
    for error in _validator(kind).iter_errors(doc):
        if error.validator == "additionalProperties" and error.validator_value is False:
            warnings.extend(_unknown_keys(error, path))
            continue
        line, col = _position(doc, list(error.absolute_path), str(error.validator))
        for message in _messages(error):
            # `required` reports once per missing key, each time with all of them.
            errors.setdefault((line, col, message), InputError(path, message, line, col))
    ordered = [errors[key] for key in sorted(errors)]
    return ordered, sorted(warnings, key=lambda w: (w.line, w.col, w.key))


def _schema_name(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown config kind {kind!r}; expected one of {', '.join(KINDS)}")
    return f"{kind}.schema.json"


@functools.cache
def _documents() -> dict[str, dict[str, Any]]:
    return {f"{name}.schema.json": load_schema(f"{name}.schema.json") for name in _SCHEMAS}


@functools.cache
def _validator(kind: str) -> "Validator":
    # jsonschema takes ~0.1 s to import: only pay for it when a config is validated.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(_schema_name(kind)), registry=_registry())


@functools.cache
def _registry() -> "Registry[Any]":
    """The app-config schemas under their `$id`s, so `$ref`s between files resolve offline."""
    from referencing import Registry, Resource

    resources = [Resource.from_contents(schema) for schema in _documents().values()]
    return Registry().with_resources((resource.id() or "", resource) for resource in resources)


def _unknown_keys(error: "ValidationError", path: str) -> Iterator[ConfigWarning]:
    table: Any = error.instance
    schema: Any = error.schema
    known = list(schema.get("properties", {}))
    where = list(error.absolute_path)
    for key in table:
        if key in known:
            continue
        line, col = table.key_pos.get(key, pos_of(table)) if isinstance(table, Mapping) else (0, 0)
        import difflib  # only for an unknown key

        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        message = _prefixed(where, f"unknown key '{key}'{hint}")
        yield ConfigWarning(path, line, col, message, _dotted([*where, key]))


def _position(doc: Mapping, where: list[str | int], keyword: str) -> Pos:
    """Where the value at `where` starts; for a table-level problem, the table itself."""
    if not where:
        return pos_of(doc)
    container: Any = doc
    for step in where[:-1]:
        container = container[step]
    if keyword in _TABLE_KEYWORDS and pos_of(container[where[-1]]) != UNKNOWN:
        return pos_of(container[where[-1]])
    return pos_in(container, where[-1])


def _messages(error: "ValidationError") -> list[str]:
    where = list(error.absolute_path)
    keyword = error.validator
    expected: Any = error.validator_value
    value: Any = error.instance
    if keyword == "required":
        missing = [key for key in expected if key not in value]
        return [_prefixed(where, f"missing required key '{key}'") for key in missing]
    if keyword == "oneOf":
        return [_prefixed(where, _one_of(expected, value, bool(error.context)))]
    if keyword == "anyOf":
        return [_prefixed(where, f"needs one of {', '.join(b.get('title', '?') for b in expected)}")]
    if keyword == "not" and isinstance(expected, dict) and "title" in expected:
        return [_prefixed(where, f"sets {expected['title']}; Nuon accepts only one")]
    if keyword == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        need = " or ".join(_EXPECTED.get(name, name) for name in wanted)
        return [_subject(where, f"must be {need}, got {_toml_type(value)}")]
    if keyword == "enum":
        choices = ", ".join(_show(choice) for choice in expected)
        return [_subject(where, f"must be one of {choices}, got {_show(value)}")]
    if keyword == "minLength" and expected == 1:
        return [_subject(where, "must not be empty")]
    if keyword == "minimum":
        return [_subject(where, f"must be at least {expected}, got {_show(value)}")]
    return [_prefixed(where, _one_line(error.message))]


def _one_of(branches: list[dict[str, Any]], value: Any, none_matched: bool) -> str:
    titles = [branch.get("title", "?") for branch in branches]
    if none_matched:
        return f"needs exactly one of {', '.join(titles)}"
    matched = [
        branch.get("title", "?") for branch in branches if all(key in value for key in branch.get("required", ()))
    ]
    return f"sets {' and '.join(matched)}; use only one"


def _subject(where: list[str | int], predicate: str) -> str:
    """`role[0]: 'name' must ...` for a key, `role[0].xs[2] must ...` for an array item."""
    if where and isinstance(where[-1], str):
        return _prefixed(where[:-1], f"'{where[-1]}' {predicate}")
    return f"{_dotted(where) or 'document'} {predicate}"


def _prefixed(where: list[str | int], message: str) -> str:
    return f"{_dotted(where)}: {message}" if where else message


def _dotted(where: Iterable[str | int]) -> str:
    text = ""
    for step in where:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            name = step if _BARE_KEY.fullmatch(step) else json.dumps(step)
            text += f".{name}" if text else name
    return text


def _toml_type(value: Any) -> str:
    # bool before int: True is an int in Python.
    for kind, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "float"),
        (str, "string"),
        (dict, "table"),
        (list, "array"),
        (dt.datetime, "date-time"),
        (dt.date, "date"),
        (dt.time, "time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _show(value: Any) -> str:
    text = f"'{value}'" if isinstance(value, str) else repr(value)
    return _one_line(text)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 3] + "..."
