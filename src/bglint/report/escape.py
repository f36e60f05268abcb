"""Make file content safe to echo: no terminal control sequences, one line.

Input is untrusted (bglint runs on pull requests), and whatever it echoes lands in a
terminal, a CI log, a PR comment or a code-scanning page. In a GitHub Actions log every
output line is also parsed for workflow commands: `::cmd ...::data` at the start of a line,
and the legacy `##[cmd ...]data` anywhere in it (`stop-commands`, `add-mask`, `error`...).
"""

from __future__ import annotations

import re

from bglint.regex import Regex

# C0 and C1 controls (ANSI escapes, newlines); bidi overrides and isolates (text that reads
# differently from what it is); line and paragraph separators; U+FFFE/U+FFFF, which XML 1.0
# (JUnit) does not allow; lone surrogates (a file name whose bytes are not UTF-8), which no
# UTF-8 output can hold.
_CONTROL = Regex(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_LEGACY_COMMAND = "##["


def for_terminal(text: str) -> str:
    """Replace control characters (ANSI escapes, newlines) with visible escapes.

    Also breaks up `##[`, which a GitHub Actions runner takes as a command anywhere in a line.
    """
    # Every character _CONTROL matches is unprintable to str.isprintable, which is ~3x faster.
    escaped = text if text.isprintable() else _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return escaped.replace(_LEGACY_COMMAND, "##\\x5b") if _LEGACY_COMMAND in escaped else escaped


def _file_property(text: str) -> str:
    return "\n".join("\r".join(for_terminal(part) for part in line.split("\r")) for line in text.split("\n"))


def for_terminal_line(text: str) -> str:
    """`for_terminal` for text that starts an output line (a path): it cannot start with `::`."""
    escaped = for_terminal(text)
    stripped = escaped.lstrip()
    if stripped.startswith("::"):
        return escaped[: len(escaped) - len(stripped)] + "\\x3a" + stripped[1:]
    return escaped


def for_json_text(text: str) -> str:
    """Serialized JSON (a JSON or SARIF report) that a CI log can show: the same data, no `##[`.

    `#` only occurs inside JSON strings, where `\\u005b` is `[`: the document decodes to the
    very same values, but no line of it can be taken for a legacy workflow command.
    """
    return text.replace(_LEGACY_COMMAND, "##\\u005b")


def for_github_data(text: str) -> str:
    """The message part of a workflow command (`::error ...::<data>`): %, CR and LF encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def for_github_property(text: str) -> str:
    """A property value of a workflow command (`file=<value>`): also ':' and ',' encoded."""
    return for_github_data(text).replace(":", "%3A").replace(",", "%2C")


_ANNOTATIONS = ("error", "warning", "notice", "debug")


def for_github_annotation(command: str, message: str, **properties: str | int) -> str:
    """One complete workflow-command line, e.g. `::error file=a.yaml,line=3,title=BG001::text`.

    Only annotation commands can be made; every property value and the message are encoded
    (see the runner's ActionCommand: `%`, CR, LF in data; also `:` and `,` in properties), so
    nothing in them can end the line, add a property or start another command. Control
    characters are shown escaped first (GitHub renders ANSI colours in logs). Property names
    must be plain words; properties whose value is "" or 0 are left out.
    """
    if command not in _ANNOTATIONS:
        raise ValueError(f"not an annotation command: {command!r}")
    props = []
    for name, value in properties.items():
        if not name.isidentifier():
            raise ValueError(f"bad property name: {name!r}")
        if value not in ("", 0):
            # A file name keeps its CR/LF (the runner decodes %0D/%0A back) so the annotation
            # still attaches to the file; other control characters are shown escaped.
            text = _file_property(str(value)) if name == "file" else for_terminal(str(value))
            props.append(f"{name}={for_github_property(text)}")
    head = f"::{command} {','.join(props)}" if props else f"::{command}"
    return f"{head}::{for_github_data(for_terminal(message))}"


# What can make markup inside a line: emphasis, code, links, HTML, tables, strikethrough. An
# underscore inside a word (break_glass) cannot emphasise (CommonMark's flanking rules) and is
# left as it is, as are `.`, `-`, `(`, `#`... in mid-line: the raw text stays readable.
_MARKDOWN_INLINE = Regex(r"([\\`*\[\]<>|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
# At the start of a line (a list item's or paragraph's text): headings, quotes, lists, setext.
_MARKDOWN_BLOCK = Regex(r"^(\s*)([#>+=-]|\d+(?=[.)]))")
# GitHub turns @name into a mention (a notification) and @org/team into a team mention.
_MENTION = Regex(r"@(?=[A-Za-z0-9])")


def for_markdown(text: str) -> str:
    """Inline Markdown text (also a table cell or a list item): no markup, no HTML, no mentions,
    one line, and no more backslashes than that needs."""
    one_line = for_terminal(str(text)).replace("&", "&amp;")
    escaped = _MARKDOWN_BLOCK.sub(_inert_marker, _MARKDOWN_INLINE.sub(r"\\\1", one_line))
    return _MENTION.sub("@\u200b", escaped)  # a zero-width space: shown the same, pings nobody


def _inert_marker(match: re.Match[str]) -> str:
    """`\\#`, `\\-`... or `1\\.`: the line no longer starts a heading, quote or list."""
    indent, marker = match.groups()
    return f"{indent}{marker}\\" if marker[0].isdigit() else f"{indent}\\{marker}"


def for_html(text: str) -> str:
    """Text for an HTML element or a quoted attribute: markup escaped, controls visible."""
    import html  # the HTML and JUnit reports only

    return html.escape(for_terminal(text), quote=True)
