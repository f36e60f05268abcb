"""GitHub Actions workflow commands: annotations for the worst causes, within GitHub's limits.

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (actions/toolkit,
docs/problem-matchers.md) and drops the rest silently. So: input errors first, then one
annotation per cause (the rules that share a grant together), errors before warnings before
notes, and when some are left out, a last notice says how many and where to see them all.
"""

from __future__ import annotations

from bglint.errors import InputError
from bglint.findings import Finding
from bglint.report import Report, causes, visible
from bglint.report.escape import for_github_annotation

PER_KIND = 10  # annotations of one kind GitHub shows per step
_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def render_github(report: Report) -> str:
    budget = dict.fromkeys(_LEVEL.values(), PER_KIND)
    grouped = sorted(causes(visible(report)), key=lambda group: ("error", "warning", "note").index(group[0].severity))
    # (level, annotation, findings in it)
    pending = [("error", _input_error(error), 1) for error in report.errors]
    pending += [(_LEVEL[group[0].severity], _cause(group), len(group)) for group in grouped]
    kept: list[tuple[str, str, int]] = []
    left_out = [0, 0]  # annotations, findings
    for level, line, size in pending:
        if budget[level]:
            budget[level] -= 1
            kept.append((level, line, size))
        else:
            left_out = [left_out[0] + 1, left_out[1] + size]
    if left_out[0] and not budget["notice"]:  # the last notice makes room for the note
        _, _, size = kept.pop(max(i for i, (level, _, _) in enumerate(kept) if level == "notice"))
        left_out = [left_out[0] + 1, left_out[1] + size]
    lines = [line for _, line, _ in kept]
    if left_out[0]:
        lines.append(
            for_github_annotation(
                "notice",
                f"{left_out[1]} more findings and input errors ({left_out[0]} annotations) are not annotated: GitHub "
                f"shows {PER_KIND} annotations per kind and step. The step summary (--format markdown) counts them "
                "all; the SARIF and JSON reports list every one.",
                title="bglint: more findings",
            )
        )
    return "\n".join(lines) + ("\n" if lines else "")


def _cause(group: list[Finding]) -> str:
    lead = group[0]
    loc = lead.loc
    ids = ", ".join(f.rule.id for f in group)
    message = " ".join(f"{f.rule.id}: {f.message}" for f in group) if len(group) > 1 else lead.message
    return for_github_annotation(
        _LEVEL[lead.severity],
        message,
        file=loc.path,
        line=loc.line,
        col=max(loc.col, 1) if loc.line else 0,
        title=f"{ids} {lead.rule.title}",
    )


def _input_error(error: InputError) -> str:
    return for_github_annotation("error", error.message, file=error.path, line=error.line, title="bglint input error")
