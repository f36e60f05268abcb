"""Text like ruff: one line per cause, `path:line:col: BG001 error what`, then a summary.

A cause is one place in one role: the findings of several rules there (BG001 with BG003 and
BG004 on the same grant) are one line that names every rule id, the most severe first. Only
this presentation folds; JSON, SARIF and the baseline keep every finding.
"""

from collections import Counter
from typing import NamedTuple

from bglint.findings import Finding
from bglint.regex import Regex
from bglint.report import SEVERITY_ORDER, Report, causes, visible
from bglint.report.escape import for_terminal, for_terminal_line

WIDTH = 120  # no line of the default output is longer: a 120-column terminal never wraps it
_COLOUR = {"error": "31", "warning": "33", "note": "36"}  # red, yellow, cyan
_BOLD, _DIM = "1", "2"
_ASIDE = Regex(r" \([^()]*\)")


class TextStyle(NamedTuple):
    colour: bool = False
    show_fixes: bool = False  # under each line, every folded finding's full message (why and fix)
    quiet: bool = False  # the lines only: no summary
    statistics: bool = False  # a count per rule instead of the lines


def render_text(report: Report, style: TextStyle | None = None) -> str:
    style = style or TextStyle()
    paint = _Paint(style.colour)
    grouped = causes(visible(report))
    lines = _statistics(grouped, paint) if style.statistics else []
    for group in [] if style.statistics else grouped:
        lines.append(_line(group, paint))
        if style.show_fixes:
            lines += [_full(finding, paint) for finding in group]
    if not style.quiet:
        lines.append(summary(report, len(grouped)))
        lines.extend(
            f"skipped {for_terminal(path)}: not a CloudFormation template or Nuon app config" for path in report.skipped
        )
        if report.show_skipped:
            lines.extend(f"skipped {for_terminal(path)}: {why}" for path, why in report.passed_over)
    return "\n".join(lines) + "\n" if lines else ""


def summary(report: Report, lines: int | None = None) -> str:
    """One sentence: findings by severity, documents, input errors, suppressed, baselined."""
    shown = visible(report)
    counts = report.counts()
    parts = ", ".join(_plural(n, kind) for kind, n in reversed(counts.items()) if n)
    text = f"Found {_plural(len(shown), 'finding')}" + (f" ({parts})" if parts else "")
    text += f" in {_plural(len(report.documents), 'document')}"
    if lines is not None and lines < len(shown):
        text += f", on {_plural(lines, 'line')}"
    if report.errors:
        text += f"; {_plural(len(report.errors), 'input error')}"
    if report.suppressed():
        text += f"; {len(report.suppressed())} suppressed"
    if report.baselined or report.stale:
        text += f"; {report.baselined} in the baseline, {len(report.stale)} fixed since"
    return text + "."


class _Paint:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.on else text


def _line(group: list[Finding], paint: _Paint) -> str:
    lead = group[0]
    loc = lead.loc
    where = _where(loc.path, loc.line, loc.col)
    ids = " ".join([lead.rule.id] + [f"+{f.rule.id}" for f in group[1:]])
    head = f"{where}: {ids} {lead.severity} "
    room = max(WIDTH - len(head), 10)
    detail = for_terminal(lead.detail or lead.message)
    # The detail reads on from the role's name ("'BreakglassOps' has no permissions boundary"),
    # unless a long name would crowd out what the role can do (the location names it too).
    role = for_terminal(f"'{lead.role}' ") if lead.role and lead.detail else ""
    what = role + detail
    if len(what) > room:  # asides in parentheses go first, then a long name, then the tail
        what = role + _ASIDE.sub("", detail)
    if len(what) > room and len(role) * 5 > room * 2:  # a name over 40% of the room
        what = _ASIDE.sub("", detail)
    if len(what) > room:
        what = what[: room - 1].rstrip() + "…"
    return f"{paint(where, _BOLD)}: {paint(ids, _COLOUR[lead.severity])} {paint(lead.severity, _COLOUR[lead.severity])} {what}"


def _full(finding: Finding, paint: _Paint) -> str:
    import textwrap  # only --show-fixes wraps: its regexes cost ~2 ms to compile

    label = f"  {finding.rule.id} {finding.severity}: "
    wrapped = textwrap.wrap(
        for_terminal(finding.message), WIDTH, initial_indent=label, subsequent_indent=" " * 4, break_on_hyphens=False
    )
    wrapped[0] = paint(label.rstrip(), _DIM) + wrapped[0][len(label.rstrip()) :]
    return "\n".join(wrapped)


def _statistics(grouped: list[list[Finding]], paint: _Paint) -> list[str]:
    """Per rule, most frequent first: findings, severity, title (ruff's --statistics)."""
    counts = Counter((f.rule.id, f.severity, f.rule.title) for group in grouped for f in group)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], -SEVERITY_ORDER.index(item[0][1]), item[0][0]))
    return [
        f"{n:>6}  {paint(rule_id, _COLOUR[severity])} {severity:<7} {for_terminal(title)}"
        for (rule_id, severity, title), n in ordered
    ]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _where(path: str, line: int, col: int) -> str:
    where = for_terminal_line(path)  # it starts the line: never a workflow command
    if line:
        where += f":{line}:{col or 1}"
    return where
