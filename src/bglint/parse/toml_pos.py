"""Load TOML into located containers.

`tomllib` gives the values but no positions, so a second pass scans the text for
where each table, key and value starts. The scan trusts that `tomllib` has already
accepted the text: it only has to find boundaries (strings, arrays, inline tables,
headers), never to reject anything.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from bisect import bisect_right
from typing import Any

from bglint import limits
from bglint.errors import InputError
from bglint.parse.nodes import UNKNOWN, Mapping, Pos, Sequence, pos_in

Path = tuple[str | int, ...]
"""Keys and array indexes from the document root to a value."""

_WS = re.compile(r"[ \t]*")
# Whitespace, newlines and comments: what may separate items in arrays and inline tables.
_WS_NL = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")
_REST_OF_LINE = re.compile(r"[^\n]*\n?")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LITERAL = re.compile(r"'[^'\n]*'")
# Up to two quotes may sit right before the closing delimiter, as part of the content.
_ML_BASIC = re.compile(r'"""(?:[^"\\]+|\\[\s\S]|"(?!""))*""""{0,2}')
_ML_LITERAL = re.compile(r"'''(?:[^']+|'(?!''))*''''{0,2}")
# Numbers, booleans and date-times; a local date-time may use a space instead of 'T'.
_SCALAR = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d[^\s,\]}#]*|[^\s,\]}#]+")
# A line-ending backslash in a multi-line basic string swallows the following whitespace.
_LINE_CONTINUATION = re.compile(r"\\[ \t]*\r?\n[ \t\r\n]*")
_ERROR_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


class TomlTable(Mapping):
    """A located TOML table that also knows where each string value's content starts."""

    __slots__ = ("body_pos",)

    def __init__(self, pos: Pos = UNKNOWN) -> None:
        super().__init__(pos)
        self.body_pos: dict[str, Pos] = {}


def load_toml(text: str, path: str) -> Mapping:
    """Parse `text`; every table, array, key and value carries its 1-based position."""
    _check_size(text, path)
    try:
        values = tomllib.loads(text)
        scanner = _Scanner(text)
        # A gap in the scanner costs positions, never values: keep what it found.
        with contextlib.suppress(_ScanError):
            scanner.scan()
        return _build_table(values, (), scanner, (1, 1))
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, path) from None
    except ValueError:  # beyond Python's limit on the digits of an integer
        raise InputError(path, "invalid TOML: a number has too many digits") from None
    except RecursionError:
        raise InputError(path, "TOML is nested too deeply") from None


def _check_size(text: str, path: str) -> None:
    """Refuse text that may hold more than `max_values` values, before tomllib parses it.

    tomllib builds everything before a value can be counted, at ~10 us and ~1 KB a value.
    Every value needs one of `= , [ { .` (a key/value, a further array item, an array or
    table, a dotted key's table), and each of those makes at most two values (a key and its
    value): a cheap upper bound, and one a real app config never comes near.
    """
    max_values = limits.current().max_values
    if 2 * len(text) <= max_values:
        return
    bound = 2 * sum(text.count(char) for char in "=,[{.")
    if bound > max_values:
        raise InputError(path, limits.too_many_values(max_values))


def string_body_pos(mapping: dict[str, Any], key: str) -> Pos:
    """Where the content of the string at `key` begins (line, column).

    TOML drops a newline right after the opening triple quote of a multi-line string, so
    for `contents = <triple quote><newline>{` the content starts on the next line, column 1.
    """
    if isinstance(mapping, TomlTable) and key in mapping.body_pos:
        return mapping.body_pos[key]
    return pos_in(mapping, key)


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: str) -> InputError:
    message = str(exc)
    found = _ERROR_AT.search(message)
    if found is None:
        return InputError(path, " ".join(message.split()))
    reason = " ".join(message[: found.start()].split())
    if found.group(1):
        return InputError(path, reason, int(found.group(1)), int(found.group(2)))
    last_line = text.rsplit("\n", 1)[-1]
    return InputError(path, reason, text.count("\n") + 1, len(last_line) + 1)


def _build(value: Any, path: Path, scanner: _Scanner, fallback: Pos) -> Any:
    """Located containers for `value`; `fallback` stands in for positions the scan missed."""
    if isinstance(value, dict):
        return _build_table(value, path, scanner, fallback)
    if isinstance(value, list):
        items = Sequence(scanner.value_pos.get(path, fallback))
        for index, item in enumerate(value):
            item_pos = scanner.value_pos.get((*path, index), items.pos)
            items.push(_build(item, (*path, index), scanner, item_pos), item_pos)
        return items
    return value


def _build_table(value: dict[str, Any], path: Path, scanner: _Scanner, fallback: Pos) -> TomlTable:
    table = TomlTable(scanner.value_pos.get(path, fallback))
    for key, item in value.items():
        child = (*path, key)
        key_pos = scanner.key_pos.get(child, table.pos)
        value_pos = scanner.value_pos.get(child, key_pos)
        table.put(key, _build(item, child, scanner, value_pos), key_pos, value_pos)
        if child in scanner.body_pos:
            table.body_pos[key] = scanner.body_pos[child]
    return table


class _Scanner:
    """Finds the position of every key and value in text that `tomllib` accepted."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.key_pos: dict[Path, Pos] = {}
        self.value_pos: dict[Path, Pos] = {}
        self.body_pos: dict[Path, Pos] = {}
        # Elements seen so far of each array of tables, by the array's resolved path.
        self.aot_len: dict[Path, int] = {}

    def pos(self, index: int) -> Pos:
        line = bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def scan(self) -> None:
        text, i = self.text, 0
        table: Path = ()
        while i < len(text):
            i = _end(_WS, text, i)
            if text.startswith("[", i):
                table, i = self._header(i)
            elif i < len(text) and text[i] not in "#\r\n":
                i = self._keyval(i, table)
            i = _end(_REST_OF_LINE, text, i)

    def _header(self, start: int) -> tuple[Path, int]:
        is_array = self.text.startswith("[[", start)
        i = _end(_WS, self.text, start + (2 if is_array else 1))
        keys, i = self._key(i)
        header = self.pos(start)
        path: Path = ()
        for number, (name, key_pos) in enumerate(keys):
            path = (*path, name)
            if number < len(keys) - 1:
                self.key_pos.setdefault(path, key_pos)
                self.value_pos.setdefault(path, header)
                if path in self.aot_len:
                    path = (*path, self.aot_len[path] - 1)
            elif is_array:
                self.key_pos.setdefault(path, key_pos)
                self.value_pos.setdefault(path, header)
                self.aot_len[path] = self.aot_len.get(path, 0) + 1
                path = (*path, self.aot_len[path] - 1)
                self.key_pos[path] = key_pos
                self.value_pos[path] = header
            else:
                # An explicit header wins over a super-table implied by an earlier header.
                self.key_pos[path] = key_pos
                self.value_pos[path] = header
        return path, i

    def _key(self, i: int) -> tuple[list[tuple[str, Pos]], int]:
        """A possibly dotted key: each part's name and where that part starts."""
        text, keys = self.text, []
        while True:
            match = _BASIC.match(text, i) or _LITERAL.match(text, i) or _BARE_KEY.match(text, i)
            if match is None:
                raise _ScanError(i)
            keys.append((_key_name(match.group()), self.pos(i)))
            i = _end(_WS, text, match.end())
            if not text.startswith(".", i):
                return keys, i
            i = _end(_WS, text, i + 1)

    def _keyval(self, i: int, table: Path) -> int:
        keys, i = self._key(i)
        path = table
        for name, key_pos in keys[:-1]:
            path = (*path, name)
            # A dotted key implies its tables; they start where their key does.
            self.key_pos.setdefault(path, key_pos)
            self.value_pos.setdefault(path, key_pos)
        name, key_pos = keys[-1]
        path = (*path, name)
        i = _end(_WS, self.text, i + 1)  # past '='
        self.key_pos[path] = key_pos
        self.value_pos[path] = self.pos(i)
        return self._value(i, path)

    def _value(self, i: int, path: Path) -> int:
        text = self.text
        if text.startswith('"""', i):
            end = _end(_ML_BASIC, text, i)
            self.body_pos[path] = self.pos(self._ml_body_start(i + 3, basic=True))
            return end
        if text.startswith("'''", i):
            end = _end(_ML_LITERAL, text, i)
            self.body_pos[path] = self.pos(self._ml_body_start(i + 3, basic=False))
            return end
        if text.startswith('"', i) or text.startswith("'", i):
            self.body_pos[path] = self.pos(i + 1)  # after the opening quote
            return _end(_BASIC if text.startswith('"', i) else _LITERAL, text, i)
        if text.startswith("[", i):
            return self._array(i + 1, path)
        if text.startswith("{", i):
            return self._inline_table(i + 1, path)
        return _end(_SCALAR, text, i)

    def _ml_body_start(self, i: int, basic: bool) -> int:
        """Where a multi-line string's content starts, after the trimmed first newline."""
        text = self.text
        if text.startswith("\n", i):
            i += 1
        elif text.startswith("\r\n", i):
            i += 2
        while basic and (cont := _LINE_CONTINUATION.match(text, i)) is not None:
            i = cont.end()
        return i

    def _array(self, i: int, path: Path) -> int:
        text, index = self.text, 0
        while True:
            i = _end(_WS_NL, text, i)
            if text.startswith("]", i):
                return i + 1
            item = (*path, index)
            self.value_pos[item] = self.pos(i)
            i = _end(_WS_NL, text, self._value(i, item))
            if text.startswith(",", i):
                i += 1
            index += 1

    def _inline_table(self, i: int, path: Path) -> int:
        text = self.text
        while True:
            i = _end(_WS_NL, text, i)
            if text.startswith("}", i):
                return i + 1
            i = _end(_WS_NL, text, self._keyval(i, path))
            if text.startswith(",", i):
                i += 1


class _ScanError(Exception):
    """The scanner met text it does not understand (a gap in it, not bad TOML)."""


def _end(pattern: re.Pattern[str], text: str, i: int) -> int:
    match = pattern.match(text, i)
    if match is None:
        raise _ScanError(i)
    return match.end()


def _key_name(raw: str) -> str:
    if raw.startswith('"'):
        # Basic-string keys may hold escapes; let tomllib decode them exactly.
        name: str = tomllib.loads(f"k = {raw}")["k"]
        return name
    if raw.startswith("'"):
        return raw[1:-1]
    return raw
