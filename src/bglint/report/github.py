"""GitHub Actions workflow commands: one annotation per finding and per input error."""

from __future__ import annotations

from bglint.report import Report, visible
from bglint.report.escape import for_github_data, for_github_property

_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def render_github(report: Report) -> str:
    lines = []
    for finding in visible(report):
        props = [f"file={for_github_property(finding.loc.path)}"]
        if finding.loc.line:
            props += [f"line={finding.loc.line}", f"col={max(finding.loc.col, 1)}"]
        props.append(f"title={for_github_property(f'{finding.rule.id} {finding.rule.title}')}")
        lines.append(f"::{_LEVEL[finding.severity]} {','.join(props)}::{for_github_data(finding.message)}")
    for error in report.errors:
        props = [f"file={for_github_property(error.path)}"]
        if error.line:
            props.append(f"line={error.line}")
        lines.append(f"::error {','.join(props)},title=bglint input error::{for_github_data(error.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
