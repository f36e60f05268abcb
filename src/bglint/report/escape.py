"""Make file content safe to echo: no terminal control sequences, one line."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def for_terminal(text: str) -> str:
    """Replace control characters (ANSI escapes, newlines) with visible escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def for_github_data(text: str) -> str:
    """The message part of a workflow command (`::error ...::<data>`): %, CR and LF encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def for_github_property(text: str) -> str:
    """A property value of a workflow command (`file=<value>`): also ':' and ',' encoded."""
    return for_github_data(text).replace(":", "%3A").replace(",", "%2C")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def for_markdown(text: str) -> str:
    """Inline Markdown text (also inside a table cell): no markup, no HTML, one line."""
    one_line = for_terminal(text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line.replace("&", "&amp;"))
