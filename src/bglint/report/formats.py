"""Pick a formatter by name; each is imported only when asked for."""

from __future__ import annotations

import importlib

from bglint.report import Report

# format name -> (module, function)
FORMATS = {
    "text": ("bglint.report.text", "render_text"),
    "json": ("bglint.report.json_report", "render_json"),
    "sarif": ("bglint.report.sarif", "render_sarif"),
    "github": ("bglint.report.github", "render_github"),
    "markdown": ("bglint.report.markdown", "render_markdown"),
    "junit": ("bglint.report.junit", "render_junit"),
}


def render(report: Report, fmt: str) -> str:
    module, function = FORMATS[fmt]
    text: str = getattr(importlib.import_module(module), function)(report)
    if fmt in ("json", "sarif"):  # printed to a CI log, a file name must not make a command
        from bglint.report.escape import for_json_text

        text = for_json_text(text)
    return text
