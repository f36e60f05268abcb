"""Make file content safe to echo: no terminal control sequences, one line."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def for_terminal(text: str) -> str:
    """Replace control characters (ANSI escapes, newlines) with visible escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
