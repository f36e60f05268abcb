"""The one error type every loader raises for bad input."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: reported as one line naming the file (and line), exit code 2."""

    def __init__(self, path: str, message: str, line: int = 0, col: int = 0) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.col = col

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        return f"{where}: error: {self.message}"
