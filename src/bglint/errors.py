"""The one error type every loader raises for bad input."""

from __future__ import annotations

import reprlib
from typing import Any


class _Short(reprlib.Repr):
    """reprlib for values from files: dict/list subclasses (located containers) included."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother, self.maxlong = 2, 60, 60, 40
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 4

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, dict) and type(x) is not dict:
            return self.repr_dict(x, level)
        if isinstance(x, list) and type(x) is not list:
            return self.repr_list(x, level)
        if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 128:
            return "<a long number>"  # repr() of a huge int can raise
        return super().repr1(x, level)


_SHORT = _Short()


def shown(value: object) -> str:
    """A file's value quoted in a message: like repr, but short (at most 200) and never deep."""
    text = _SHORT.repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class InputError(Exception):
    """Bad input: reported as one line naming the file (and line), exit code 2."""

    def __init__(self, path: str, message: str, line: int = 0, col: int = 0) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.col = col

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, int, int]]:
        # Errors travel back from worker processes: rebuild them with every field.
        return (type(self), (self.path, self.message, self.line, self.col))

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        return f"{where}: error: {self.message}"
