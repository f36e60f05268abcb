"""A Markdown summary for $GITHUB_STEP_SUMMARY and pull-request comments.

Worst first: a table of rules by severity and count, then per rule its files (one row per rule
and file), each section cut short with a count of what is left out, so the whole stays far
below GitHub's 1 MiB step-summary limit however many templates are checked. Every finding is
still in JSON and SARIF.
"""

from __future__ import annotations

from collections.abc import Iterable

from bglint.findings import Finding
from bglint.report import SEVERITY_ORDER, Report, visible
from bglint.report.escape import for_markdown

_ICON = {"error": "🔴", "warning": "🟠", "note": "🔵"}
FILES_PER_RULE = 20  # rows of one rule's section
LIST_ITEMS = 50  # input errors, suppressions, fixed entries
_TEXT = 240  # characters of a finding's text in a row


def render_markdown(report: Report) -> str:
    shown = visible(report)
    counts = report.counts()
    lines = [
        "## bglint: break-glass access",
        "",
        f"{len(report.documents)} documents checked: **{counts['error']} errors**, {counts['warning']} warnings, "
        f"{counts['note']} notes; {len(report.errors)} input errors; {len(report.suppressed())} suppressed"
        + (f"; {report.baselined} in the baseline" if report.baselined else "")
        + ".",
        "",
    ]
    sections = _by_rule(shown)
    if sections:
        lines += ["| | rule | findings | files | title |", "|---|---|--:|--:|---|"]
        lines += [
            f"| {_ICON[found[0].severity]} | {found[0].rule.id} | {len(found)} | {len(_by_file(found))} "
            f"| {for_markdown(found[0].rule.title)} |"
            for found in sections
        ]
    for found in sections:
        lines += _section(found)
    if report.errors:
        lines += ["", "### Input errors", ""]
        lines += _capped(
            [f"- {for_markdown(_where(e.path, e.line))}: {for_markdown(e.message)}" for e in report.errors]
        )
    if report.suppressed():
        lines += ["", "### Suppressed", ""]
        lines += _capped(
            [
                f"- {f.rule.id} at {for_markdown(_where(f.loc.path, f.loc.line))}: {for_markdown(f.suppression.reason)}"
                + (f" (owner {for_markdown(f.suppression.owner)})" if f.suppression.owner else "")
                + (f", until {f.suppression.until}" if f.suppression.until else "")
                for f in report.suppressed()
                if f.suppression is not None
            ]
        )
    if report.stale:
        lines += ["", "### Fixed since the baseline", ""]
        lines += _capped([f"- {for_markdown(entry)}" for entry in report.stale])
    return "\n".join(lines) + "\n"


def _by_rule(findings: list[Finding]) -> list[list[Finding]]:
    """Per rule and severity, the most severe first, then the most frequent."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.severity, finding.rule.id), []).append(finding)
    return sorted(groups.values(), key=lambda g: (-SEVERITY_ORDER.index(g[0].severity), -len(g), g[0].rule.id))


def _by_file(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    files: dict[str, list[Finding]] = {}
    for finding in findings:
        files.setdefault(finding.loc.path, []).append(finding)
    return files


def _section(found: list[Finding]) -> list[str]:
    rule = found[0].rule
    files = _by_file(found)
    lines = [
        "",
        f"### {_ICON[found[0].severity]} {rule.id} {for_markdown(rule.title)} ({found[0].severity}: "
        f"{len(found)} in {len(files)} file{'s' if len(files) != 1 else ''})",
        "",
        "| where | roles | finding |",
        "|---|---|---|",
    ]
    for path, in_file in list(files.items())[:FILES_PER_RULE]:
        at = [str(f.loc.line) for f in in_file if f.loc.line]
        lines_at = ", ".join(at[:8]) + (", …" if len(at) > 8 else "")
        roles = ", ".join(dict.fromkeys(f.role for f in in_file if f.role))
        first = in_file[0]
        said = f"{first.detail}. Fix: {first.fix}." if first.detail and first.fix else first.message
        text = said if len(said) <= _TEXT else said[: _TEXT - 1] + "…"
        more = f" (and {len(in_file) - 1} more here)" if len(in_file) > 1 else ""
        where = f"{path}:{lines_at}" if lines_at else path
        lines.append(f"| {for_markdown(where)} | {for_markdown(roles)} | {for_markdown(text)}{more} |")
    if len(files) > FILES_PER_RULE:
        rest = list(files.values())[FILES_PER_RULE:]
        lines += [
            "",
            f"… and {sum(len(f) for f in rest)} more {rule.id} findings in {len(rest)} more files "
            "(all of them are in the JSON and SARIF reports).",
        ]
    return lines


def _capped(items: list[str]) -> list[str]:
    if len(items) <= LIST_ITEMS:
        return items
    return [*items[:LIST_ITEMS], f"- … and {len(items) - LIST_ITEMS} more"]


def _where(path: str, line: int) -> str:
    return f"{path}:{line}" if line else path
