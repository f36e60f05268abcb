"""GitHub Actions workflow commands: one annotation per finding and per input error."""

from __future__ import annotations

from bglint.report import Report, visible
from bglint.report.escape import for_github_annotation

_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def render_github(report: Report) -> str:
    lines = []
    for finding in visible(report):
        loc = finding.loc
        lines.append(
            for_github_annotation(
                _LEVEL[finding.severity],
                finding.message,
                file=loc.path,
                line=loc.line,
                col=max(loc.col, 1) if loc.line else 0,
                title=f"{finding.rule.id} {finding.rule.title}",
            )
        )
    for error in report.errors:
        lines.append(
            for_github_annotation("error", error.message, file=error.path, line=error.line, title="bglint input error")
        )
    return "\n".join(lines) + ("\n" if lines else "")
