"""A Markdown summary for $GITHUB_STEP_SUMMARY and pull-request comments."""

from __future__ import annotations

from bglint.report import Report, visible
from bglint.report.escape import for_markdown

_ICON = {"error": "🔴", "warning": "🟠", "note": "🔵"}


def render_markdown(report: Report) -> str:
    shown = visible(report)
    counts = {sev: sum(f.severity == sev for f in shown) for sev in ("error", "warning", "note")}
    lines = [
        "## bglint: break-glass access",
        "",
        f"{len(report.documents)} documents checked: **{counts['error']} errors**, {counts['warning']} warnings, "
        f"{counts['note']} notes; {len(report.errors)} input errors; {len(report.suppressed())} suppressed"
        + (f"; {report.baselined} in the baseline" if report.baselined else "")
        + ".",
        "",
    ]
    if shown:
        lines += ["| | rule | where | finding |", "|---|---|---|---|"]
        lines += [
            f"| {_ICON[f.severity]} | {f.rule.id} | {for_markdown(_where(f.loc.path, f.loc.line))} | {for_markdown(f.message)} |"
            for f in shown
        ]
    if report.errors:
        lines += ["", "### Input errors", ""]
        lines += [f"- {for_markdown(_where(e.path, e.line))}: {for_markdown(e.message)}" for e in report.errors]
    if report.suppressed():
        lines += ["", "### Suppressed", ""]
        lines += [
            f"- {f.rule.id} at {for_markdown(_where(f.loc.path, f.loc.line))}: {for_markdown(f.suppression.reason)}"
            + (f" (owner {for_markdown(f.suppression.owner)})" if f.suppression.owner else "")
            + (f", until {f.suppression.until}" if f.suppression.until else "")
            for f in report.suppressed()
            if f.suppression is not None
        ]
    if report.stale:
        lines += ["", "### Fixed since the baseline", ""]
        lines += [f"- {for_markdown(entry)}" for entry in report.stale]
    return "\n".join(lines) + "\n"


def _where(path: str, line: int) -> str:
    # Shown as escaped text, not in a code span: inside backticks Markdown shows the
    # escapes themselves (`app/break\\_glass\\.toml`) and a backtick in a name ends the span.
    return f"{path}:{line}" if line else path
