"""The one output dispatch: pick a formatter by name for `check` or `audit`; each formatter
is imported only when asked for, and every report printed to a CI log is escaped here."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bglint.report import Report

if TYPE_CHECKING:
    from bglint.report.audit_report import AuditView
    from bglint.report.text import TextStyle

# format name -> (module, function); each function takes the report
FORMATS = {
    "text": ("bglint.report.text", "render_text"),
    "json": ("bglint.report.json_report", "render_json"),
    "sarif": ("bglint.report.sarif", "render_sarif"),
    "github": ("bglint.report.github", "render_github"),
    "markdown": ("bglint.report.markdown", "render_markdown"),
    "junit": ("bglint.report.junit", "render_junit"),
}
# `bglint audit`: its Markdown and HTML are the readable audit report, which also takes the view
AUDIT_FORMATS = {
    "text": FORMATS["text"],
    "json": FORMATS["json"],
    "sarif": FORMATS["sarif"],
    "markdown": ("bglint.report.audit_report", "render_audit_markdown"),
    "html": ("bglint.report.audit_report", "render_audit_html"),
}
_WITH_VIEW = ("markdown", "html")
# Formats written in pieces (an organisation's audit holds tens of thousands of findings)
_CHUNKS = {"json": ("bglint.report.json_report", "json_chunks"), "sarif": ("bglint.report.sarif", "sarif_chunks")}


def render(report: Report, fmt: str, view: AuditView | None = None, style: TextStyle | None = None) -> str:
    """`report` as `fmt`; with `view`, as the report of `bglint audit`; `style` for text."""
    module, function = (FORMATS if view is None else AUDIT_FORMATS)[fmt]
    formatter = getattr(importlib.import_module(module), function)
    if view is not None and fmt in _WITH_VIEW:
        text: str = formatter(report, view)
    else:
        text = formatter(report, style) if fmt == "text" else formatter(report)
    if fmt in ("json", "sarif"):  # printed to a CI log, a file name must not make a command
        from bglint.report.escape import for_json_text

        text = for_json_text(text)
    return text


def render_chunks(report: Report, fmt: str, view: AuditView | None = None) -> Iterator[str]:
    """`render` in pieces that join to the same text: JSON and SARIF never whole in memory."""
    if fmt not in _CHUNKS:
        yield render(report, fmt, view)
        return
    from bglint.report.escape import for_json_text

    module, function = _CHUNKS[fmt]
    # Each piece holds whole JSON strings, so `##[` is never split between two.
    yield from map(for_json_text, getattr(importlib.import_module(module), function)(report))
