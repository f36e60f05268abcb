"""A strict JSON (RFC 8259) parser that builds located containers.

`json.loads` forgets where values came from; this parser keeps the line and column of
every container, key and value. It is iterative (an explicit stack of open containers),
so nesting depth is limited by `max_depth`, not by Python's recursion limit; it stops at
`max_values` values (see bglint.limits).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bglint import limits
from bglint.errors import InputError
from bglint.parse.nodes import Mapping, Pos, Sequence

_WHITESPACE = re.compile(r"[ \t\n\r]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS: dict[str, tuple[str, Any]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
}

# json's own (C-accelerated) string scanner, which typeshed does not declare.
_scanstring: Callable[[str, int, bool], tuple[str, int]]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


def load_json(text: str, path: str) -> Any:
    """Parse JSON text into located containers; InputError unless it is strict JSON."""
    return _Parser(text, path).parse()


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.index = 0
        self.line = 1
        self.line_start = 0  # index of the current line's first character
        self.open: list[Mapping | Sequence] = []
        limit = limits.current()
        self.max_depth = limit.max_depth
        self.max_values = limit.max_values
        self.values = 0  # keys count too: each costs as much to hold as a value

    def parse(self) -> Any:
        self.skip_whitespace()
        root = self.value(self.pos())
        while self.open:
            container = self.open[-1]
            self.skip_whitespace()
            if isinstance(container, Mapping):
                self.continue_object(container)
            else:
                self.continue_array(container)
        self.skip_whitespace()
        if self.index < len(self.text):
            raise self.error("unexpected data after the JSON value")
        return root

    def pos(self) -> Pos:
        return self.line, self.index - self.line_start + 1

    def error(self, message: str) -> InputError:
        return InputError(self.path, message, *self.pos())

    def skip_whitespace(self) -> None:
        # Strings cannot hold a raw newline, so whitespace is the only place lines end.
        match = _WHITESPACE.match(self.text, self.index)
        if match is None:
            return
        end = match.end()
        newlines = self.text.count("\n", self.index, end)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.index, end) + 1
        self.index = end

    def next_char(self) -> str:
        """Consume and return the next character ('' at the end of the text)."""
        char = self.text[self.index : self.index + 1]
        self.index += len(char)
        return char

    def continue_object(self, mapping: Mapping) -> None:
        """Read the next member of an open object, or close it."""
        char = self.next_char()
        if char == "}":
            self.open.pop()
            return
        if mapping:
            if char != ",":
                self.index -= len(char)
                raise self.error("expected ',' or '}' after object member")
            self.skip_whitespace()
        else:
            self.index -= len(char)
        self.member(mapping)

    def continue_array(self, sequence: Sequence) -> None:
        """Read the next element of an open array, or close it."""
        char = self.next_char()
        if char == "]":
            self.open.pop()
            return
        if sequence:
            if char != ",":
                self.index -= len(char)
                raise self.error("expected ',' or ']' after array element")
            self.skip_whitespace()
        else:
            self.index -= len(char)
        pos = self.pos()
        sequence.push(self.value(pos), pos)

    def member(self, mapping: Mapping) -> None:
        key_pos = self.pos()
        if self.text[self.index : self.index + 1] != '"':
            raise self.error("expected a string key")
        self.count()
        key = self.string()
        if key in mapping:
            message = f"duplicate key {key!r} (first at line {mapping.key_pos[key][0]})"
            raise InputError(self.path, message, *key_pos)
        self.skip_whitespace()
        if self.next_char() != ":":
            self.index -= 1
            raise self.error("expected ':' after object key")
        self.skip_whitespace()
        value_pos = self.pos()
        mapping.put(key, self.value(value_pos), key_pos, value_pos)

    def value(self, pos: Pos) -> Any:
        """Read the value at `pos`; a container is opened here and filled by `parse`."""
        self.count()
        char = self.text[self.index : self.index + 1]
        if char == '"':
            return self.string()
        if char == "{" or char == "[":
            if len(self.open) >= self.max_depth:
                raise self.error(f"nesting deeper than {self.max_depth} levels")
            self.index += 1
            container = Mapping(pos) if char == "{" else Sequence(pos)
            self.open.append(container)
            return container
        if char in _LITERALS:
            word, literal = _LITERALS[char]
            if self.text.startswith(word, self.index):
                self.index += len(word)
                return literal
        elif number := _NUMBER.match(self.text, self.index):
            return self.number(number)
        raise self.error("expected a JSON value" if char else "unexpected end of JSON input")

    def count(self) -> None:
        self.values += 1
        if self.values > self.max_values:
            raise self.error(limits.too_many_values(self.max_values))

    def string(self) -> str:
        try:
            value, self.index = _scanstring(self.text, self.index + 1, True)
        except json.JSONDecodeError as exc:
            self.index = exc.pos
            # "Unterminated string starting at" -> "unterminated string"
            message = exc.msg.removesuffix(" at").removesuffix(" starting")
            raise self.error(message[0].lower() + message[1:]) from None
        return value

    def number(self, match: re.Match[str]) -> int | float:
        self.index = match.end()
        text = match.group()
        if match.group(1) or match.group(2):
            return float(text)
        try:
            return int(text)
        except ValueError:  # beyond Python's limit on digits converted
            self.index = match.start()
            raise self.error("integer has too many digits") from None
