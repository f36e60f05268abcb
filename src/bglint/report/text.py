"""Text like ruff: `path:line:col: BG001 [error] message`, then a summary."""

from __future__ import annotations

from bglint.report import Report, visible
from bglint.report.escape import for_terminal, for_terminal_line


def render_text(report: Report) -> str:
    shown = visible(report)
    lines = [
        f"{_where(f.loc.path, f.loc.line, f.loc.col)}: {f.rule.id} [{f.severity}] {for_terminal(f.message)}"
        for f in shown
    ]
    counts = report.counts()
    total = len(shown)
    parts = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in reversed(counts.items()) if n)
    summary = f"Found {total} finding{'s' if total != 1 else ''}" + (f" ({parts})" if parts else "")
    summary += f" in {len(report.documents)} document{'s' if len(report.documents) != 1 else ''}"
    if report.errors:
        summary += f"; {len(report.errors)} input error{'s' if len(report.errors) != 1 else ''}"
    if report.suppressed():
        summary += f"; {len(report.suppressed())} suppressed"
    if report.baselined or report.stale:
        summary += f"; {report.baselined} in the baseline, {len(report.stale)} fixed since"
    lines.append(summary + ".")
    lines.extend(
        f"skipped {for_terminal(path)}: not a CloudFormation template or Nuon app config" for path in report.skipped
    )
    return "\n".join(lines) + "\n"


def _where(path: str, line: int, col: int) -> str:
    where = for_terminal_line(path)  # it starts the line: never a workflow command
    if line:
        where += f":{line}:{col or 1}"
    return where
