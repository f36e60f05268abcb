"""The readable audit report (`bglint audit --format markdown|html`, or `--report FILE`).

Per account and per break-glass role: what IAM says of the role, the access levels it
reaches, its findings and its drift from the definition. Everything that comes from an
account (names, tags, messages) is escaped for the output format; no credential is ever
part of the input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bglint.findings import Finding
from bglint.model import Document, Role
from bglint.report import Report, visible
from bglint.report.escape import for_html
from bglint.report.escape import for_markdown as md

if TYPE_CHECKING:
    from bglint.iam.reach import Reach

_SERVICES_SHOWN = 6


@dataclass(frozen=True)
class AccountView:
    account: str
    document: Document | None  # None when the account could not be audited
    failure: str = ""


@dataclass(frozen=True)
class AuditView:
    accounts: tuple[AccountView, ...]
    reach: dict[str, Reach] = field(default_factory=dict)  # role ARN -> what it reaches
    against: tuple[str, ...] = ()  # definitions compared with (--against); empty: no drift check
    generated: str = ""  # when, ISO 8601


# -- the content, format-independent ---------------------------------------------------


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str
    anchor: str = ""  # an id to link to (HTML); Markdown uses GitHub's own heading ids


@dataclass(frozen=True)
class _Para:
    label: str  # shown strong, before the text
    text: str


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    danger: frozenset[int] = frozenset()  # rows to highlight


@dataclass(frozen=True)
class _Items:
    items: Sequence[str]


@dataclass(frozen=True)
class _Links:
    """A table of contents: (anchor, text) per entry."""

    links: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class _Matrix:
    """Roles (ranked, most dangerous first) x risks; a cell is the worst severity found or ""."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[str, str, tuple[str, ...]]]  # (anchor, role label, cell per column)
    left_out: int  # roles not drawn (the contents lists them all)


@dataclass(frozen=True)
class _Bars:
    """What one role reaches, per IAM access level: (level, actions, of them on everything)."""

    rows: Sequence[tuple[str, int, int]]


_Block = _Heading | _Para | _Table | _Items | _Links | _Matrix | _Bars


@dataclass
class _Writer:
    """Collects blocks; `render_audit_markdown`/`render_audit_html` turn them into text."""

    blocks: list[_Block] = field(default_factory=list)

    def heading(self, level: int, text: str, anchor: str = "") -> None:
        self.blocks.append(_Heading(level, text, anchor))

    def para(self, text: str, strong: str = "") -> None:
        self.blocks.append(_Para(strong.strip(), text))

    def table(
        self, header: tuple[str, ...], rows: Sequence[Sequence[str]], danger: frozenset[int] = frozenset()
    ) -> None:
        self.blocks.append(_Table(header, rows, danger))

    def items(self, items: Sequence[str]) -> None:
        self.blocks.append(_Items(items))


# The risks the matrix shows, each the rules that find it (a role's worst finding per column).
RISKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Admin", ("BG001",)),
    ("Escalation", ("BG005", "BG006")),
    ("Trust, session", ("BG023",)),
    ("No boundary", ("BG002",)),
    ("Not scoped", ("BG003", "BG004")),
    ("Beyond level", ("BG007",)),
    ("Unknown policy", ("BG009",)),
    ("Drift", ("BG030",)),
)
_MAPPED = frozenset(rule for _, rules in RISKS for rule in rules)
MATRIX_ROWS = 40  # roles drawn in the matrix; the contents lists every role
_WORST_SHOWN = 5
_SESSION_CEILING = 3600  # seconds: AWS's default, the break-glass guidance's ceiling


def _rank(findings: list[Finding]) -> tuple[int, float, int, int]:
    """Errors first, then how severe the worst one is (security-severity), then warnings, notes."""
    errors = [f for f in findings if f.severity == "error"]
    worst = max((f.rule.security_severity for f in errors), default=0.0)
    return (
        -len(errors),
        -worst,
        -sum(f.severity == "warning" for f in findings),
        -sum(f.severity == "note" for f in findings),
    )


def _worst(findings: list[Finding]) -> Finding | None:
    order = ("note", "warning", "error")
    return max(findings, key=lambda f: (order.index(f.severity), f.rule.security_severity), default=None)


def _anchor(account: str, role: Role) -> str:
    return "role-" + re.sub(r"[^a-z0-9]+", "-", f"{account} {role.name}".lower()).strip("-")


def _content(report: Report, view: AuditView) -> _Writer:
    out = _Writer()
    findings = visible(report)
    by_role: dict[str, list[Finding]] = {}
    for finding in findings:
        by_role.setdefault(finding.loc.path, []).append(finding)
    placed = [
        (account.account, role)
        for account in view.accounts
        if account.document is not None
        for role in account.document.roles
    ]
    ranked = sorted(placed, key=lambda item: (_rank(by_role.get(item[1].loc.path, [])), item[0], item[1].name))
    failed = sum(1 for a in view.accounts if a.document is None)
    counts = report.counts()
    out.heading(1, "bglint audit report")
    catalog = report.provenance.get("iam_catalog", {})
    out.para(
        f"bglint {report.version}, IAM catalog {catalog.get('source', '?')} {catalog.get('version', '')} "
        f"(data {catalog.get('date', '?')}){f', generated {view.generated}' if view.generated else ''}. "
        + (f"Compared with {', '.join(view.against)}." if view.against else "Not compared with any definition.")
    )
    _summary(out, view, ranked, by_role, failed, counts)
    _matrix(out, ranked, by_role)
    out.heading(2, "Contents", "contents")
    out.blocks.append(
        _Links(
            [
                (_anchor(account, role), f"{role.name} (account {account}){_verdict(by_role.get(role.loc.path, []))}")
                for account, role in ranked
            ]
        )
    )
    out.heading(2, "Accounts", "accounts")
    out.table(
        ("Account", "Status", "Break-glass roles", "Errors", "Warnings", "Notes", "Drifted roles"),
        [_account_row(a, by_role) for a in view.accounts],
    )
    order = {id(role): index for index, (_, role) in enumerate(ranked)}
    for account in view.accounts:
        out.heading(2, f"Account {account.account}")
        if account.document is None:
            out.para(account.failure, strong="Not audited: ")
            continue
        if account.failure:
            out.para(account.failure, strong="Problems: ")
        network = account.document.network
        out.para(f"{network.kind} ({network.signal})", strong="Network: ")
        if not account.document.roles:
            out.para("no break-glass roles found (see --tag, --name, --path, --role-arn).")
        for role in sorted(account.document.roles, key=lambda r: order[id(r)]):
            _role(out, account.account, role, by_role.get(role.loc.path, []), view)
    return out


def _summary(
    out: _Writer,
    view: AuditView,
    ranked: list[tuple[str, Role]],
    by_role: dict[str, list[Finding]],
    failed: int,
    counts: dict[str, int],
) -> None:
    out.heading(2, "Summary", "summary")
    dangerous = [item for item in ranked if any(f.severity == "error" for f in by_role.get(item[1].loc.path, []))]
    admin = sum(1 for _, role in ranked if any(f.rule.id == "BG001" for f in by_role.get(role.loc.path, [])))
    trust = sum(1 for _, role in ranked if _trusts_broadly(role, by_role.get(role.loc.path, [])))
    long_sessions = sum(1 for _, role in ranked if _long_session(role))
    out.para(
        f"{_plural(len(view.accounts), 'account')} audited ({failed} failed), {_plural(len(ranked), 'break-glass role')}: "
        f"{len(dangerous)} with errors, {admin} admin-equivalent, {trust} trusting too broadly, "
        f"{long_sessions} with sessions over 1 h. Findings: {_plural(counts['error'], 'error')}, "
        f"{_plural(counts['warning'], 'warning')}, {_plural(counts['note'], 'note')}.",
        strong="At a glance: ",
    )
    worst = [(account, role, _worst(by_role.get(role.loc.path, []))) for account, role in dangerous[:_WORST_SHOWN]]
    if worst:
        out.table(
            ("Most dangerous roles", "Account", "Worst finding"),
            [
                (role.name, account, f"{finding.rule.id}: {finding.detail or finding.message}")
                for account, role, finding in worst
                if finding is not None
            ],
            danger=frozenset(range(len(worst))),
        )
    else:
        out.para("no role has an error-level finding.", strong="Most dangerous roles: ")


def _matrix(out: _Writer, ranked: list[tuple[str, Role]], by_role: dict[str, list[Finding]]) -> None:
    out.heading(2, "Roles by risk", "matrix")
    rows = []
    for account, role in ranked[:MATRIX_ROWS]:
        found = by_role.get(role.loc.path, [])
        cells = []
        for _, rules in RISKS:
            worst = _worst([f for f in found if f.rule.id in rules])
            cells.append(worst.severity if worst is not None else "")
        other = _worst([f for f in found if f.rule.id not in _MAPPED])
        cells.append(other.severity if other is not None else "")
        rows.append((_anchor(account, role), f"{role.name} ({account})", tuple(cells)))
    columns = (*(name for name, _ in RISKS), "Other")
    out.blocks.append(_Matrix(columns, rows, max(len(ranked) - MATRIX_ROWS, 0)))


def _verdict(findings: list[Finding]) -> str:
    worst = _worst(findings)
    return f": {worst.severity}, {worst.rule.id}" if worst is not None else ": no findings"


def _trusts_broadly(role: Role, findings: list[Finding]) -> bool:
    everyone = any(p.kind == "*" or p.value == "*" for s in role.trust if s.is_allow for p in s.principals)
    return everyone or any(f.rule.id == "BG023" and "MaxSessionDuration" not in f.message for f in findings)


def _long_session(role: Role) -> bool:
    return role.max_session_duration is not None and role.max_session_duration > _SESSION_CEILING


def _account_row(account: AccountView, by_role: dict[str, list[Finding]]) -> tuple[str, ...]:
    if account.document is None:
        return (account.account, f"failed: {account.failure}", "", "", "", "", "")
    found = [f for role in account.document.roles for f in by_role.get(role.loc.path, [])]
    drifted = sum(1 for role in account.document.roles if role.drift)
    status = "audited, with problems" if account.failure else "audited"
    return (
        account.account,
        status,
        str(len(account.document.roles)),
        *(str(sum(f.severity == s for f in found)) for s in ("error", "warning", "note")),
        str(drifted),
    )


def _role(out: _Writer, account: str, role: Role, findings: list[Finding], view: AuditView) -> None:
    out.heading(3, role.name, _anchor(account, role))
    deployed = role.deployed
    boundary = role.boundary
    facts = [
        ("ARN", role.loc.path),
        ("Why break-glass", role.break_glass_reason),
        ("Trusted principals", _principals(role)),
        (
            "Permissions boundary",
            f"{boundary.reference} ({'document read' if boundary.bounds else 'document not readable'})"
            if boundary
            else "none",
        ),
        ("Policies", ", ".join(f"{p.name} ({p.origin})" for p in role.policies) or "none"),
        ("Maximum session", _duration(role.max_session_duration)),
    ]
    danger = {2} if _trusts_broadly(role, findings) else set()
    danger |= {5} if _long_session(role) else set()
    danger |= {3} if boundary is None else set()
    if deployed is not None:
        used = (
            f"{deployed.last_used} in {deployed.last_used_region}"
            if deployed.last_used
            else "never (as far as IAM records)"
        )
        facts += [
            ("Last used", used),
            ("Created", deployed.created or "unknown"),
            ("Tags", ", ".join(f"{k}={v}" for k, v in deployed.tags) or "none"),
        ]
    if role.level:
        facts.append(("Declared level", f"{role.level} ({role.level_source})"))
    out.table(("Fact", "Value"), facts, frozenset(danger))
    reach = view.reach.get(role.loc.path)
    if reach is not None:
        out.para("", strong="Reaches")
        if reach.levels:
            out.blocks.append(_Bars([(lv.level, lv.actions, lv.on_everything) for lv in reach.levels]))
            out.table(
                ("Access level", "Actions", "On every resource, unconditionally", "Services (most actions first)"),
                [(lv.level, f"{lv.actions:,}", f"{lv.on_everything:,}", _services(lv.services)) for lv in reach.levels],
            )
        else:
            out.para("no IAM action.")
        if reach.unknown_policies:
            out.para(", ".join(reach.unknown_policies), strong="May reach more, documents not readable: ")
    out.para("", strong="Findings")
    if findings:
        out.table(("Rule", "Severity", "Finding"), [(f.rule.id, f.severity, f.message) for f in findings])
    else:
        out.para("none.")
    if view.against:
        out.para("", strong="Drift from the definition")
        out.items([d.detail for d in role.drift] or ["none: the role matches its definition."])


def _principals(role: Role) -> str:
    shown = [
        f"{'not ' if s.not_principal else ''}{p.kind} {p.value}" if p.kind != "*" else "*"
        for s in role.trust
        if s.is_allow
        for p in s.principals
    ]
    return ", ".join(dict.fromkeys(shown)) or "none"


def _services(services: tuple[str, ...]) -> str:
    shown = ", ".join(services[:_SERVICES_SHOWN])
    return f"{shown} (+{len(services) - _SERVICES_SHOWN} more)" if len(services) > _SERVICES_SHOWN else shown


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "not set (1 h)"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h" if not rest else f"{seconds // 60} min"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# -- Markdown --------------------------------------------------------------------------


_MARK = {"error": "🔴", "warning": "🟠", "note": "🔵", "": "·"}


def render_audit_markdown(report: Report, view: AuditView) -> str:
    blocks = _content(report, view).blocks
    slugs = _github_slugs(blocks)
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, _Heading):
            lines += [f"{'#' * block.level} {md(block.text)}", ""]
        elif isinstance(block, _Para):
            label = f"**{md(block.label)}**" if block.label else ""
            lines += [" ".join(part for part in (label, md(block.text)) if part), ""]
        elif isinstance(block, _Table):
            lines.append("| " + " | ".join(md(h) for h in block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += [
                "| " + " | ".join(f"**{md(c)}**" if i in block.danger and c else md(c) for c in row) + " |"
                for i, row in enumerate(block.rows)
            ]
            lines.append("")
        elif isinstance(block, _Links):
            lines += [f"{n}. [{md(text)}](#{slugs.get(anchor, '')})" for n, (anchor, text) in enumerate(block.links, 1)]
            lines.append("")
        elif isinstance(block, _Matrix):
            # A picture GitHub renders: a table of coloured marks, the worst first.
            lines.append("| Role | " + " | ".join(md(c) for c in block.columns) + " |")
            lines.append("|---|" + ":-:|" * len(block.columns))
            lines += [
                f"| [{md(label)}](#{slugs.get(anchor, '')}) | " + " | ".join(_MARK[c] for c in cells) + " |"
                for anchor, label, cells in block.rows
            ]
            lines += ["", "🔴 error, 🟠 warning, 🔵 note, · none." + _left_out(block.left_out), ""]
        elif isinstance(block, _Items):
            lines += [f"- {md(item)}" for item in block.items] + [""]
        # _Bars: a picture for the HTML only; the table that follows has its numbers.
    return "\n".join(lines).rstrip("\n") + "\n"


def _left_out(count: int) -> str:
    return f" {count} more roles are not drawn; the contents lists them all." if count else ""


def _github_slugs(blocks: list[_Block]) -> dict[str, str]:
    """Our anchors -> the ids GitHub gives the headings (lower case, punctuation dropped,
    spaces as -, a -1, -2... suffix for repeats)."""
    seen: dict[str, int] = {}
    slugs = {}
    for block in blocks:
        if isinstance(block, _Heading):
            base = re.sub(r"[^\w\- ]", "", block.text.lower()).replace(" ", "-")
            n = seen.get(base, 0)
            seen[base] = n + 1
            if block.anchor:
                slugs[block.anchor] = base if n == 0 else f"{base}-{n}"
    return slugs


# -- HTML ------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 72rem; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.3rem; margin-top: 2.5rem; }
td.error { color: #b42318; font-weight: 600; } td.warning { color: #9a6700; } td.note { color: #57606a; }
tr.danger td { background: #ffebe9; } tr.danger td:first-child { border-left: 4px solid #cf222e; }
ol.contents { columns: 2; } svg.matrix { max-width: 100%; height: auto; }
"""
_FILL = {"error": "#cf222e", "warning": "#d4a72c", "note": "#54aeff", "": "#eaeef2"}
_CELL, _ROW, _HEAD = 72, 24, 90  # matrix geometry, px
_LABEL_CHARS = 44


def render_audit_html(report: Report, view: AuditView) -> str:
    body: list[str] = []
    for block in _content(report, view).blocks:
        if isinstance(block, _Heading):
            anchor = f' id="{for_html(block.anchor)}"' if block.anchor else ""
            body.append(f"<h{block.level}{anchor}>{for_html(block.text)}</h{block.level}>")
        elif isinstance(block, _Para):
            label = f"<strong>{for_html(block.label)}</strong>" if block.label else ""
            body.append(f"<p>{' '.join(part for part in (label, for_html(block.text)) if part)}</p>")
        elif isinstance(block, _Table):
            head = "".join(f"<th>{for_html(h)}</th>" for h in block.header)
            rows = "".join(
                ('<tr class="danger">' if i in block.danger else "<tr>")
                + "".join(f"<td{_cell_class(c)}>{for_html(c)}</td>" for c in row)
                + "</tr>"
                for i, row in enumerate(block.rows)
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, _Links):
            items = "".join(f'<li><a href="#{for_html(a)}">{for_html(text)}</a></li>' for a, text in block.links)
            body.append(f'<ol class="contents">{items}</ol>')
        elif isinstance(block, _Matrix):
            body.append(_svg_matrix(block))
        elif isinstance(block, _Bars):
            body.append(_svg_bars(block))
        else:
            body.append("<ul>" + "".join(f"<li>{for_html(item)}</li>" for item in block.items) + "</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        # Nothing may load from anywhere: the report is one self-contained file.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<title>bglint audit report</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _svg_matrix(matrix: _Matrix) -> str:
    """Roles x risks as a static SVG: a coloured square per cell, each row a link to its role."""
    label_width = 7 * _LABEL_CHARS
    width = label_width + _CELL * len(matrix.columns) + 8
    height = _HEAD + _ROW * max(len(matrix.rows), 1) + 28
    parts = [
        f'<svg class="matrix" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="12">',
        "<title>Break-glass roles by risk, the most dangerous first</title>",
    ]
    for i, column in enumerate(matrix.columns):
        x = label_width + _CELL * i + _CELL // 2
        parts.append(
            f'<text x="{x}" y="{_HEAD - 8}" text-anchor="start" transform="rotate(-35 {x} {_HEAD - 8})">'
            f"{for_html(column)}</text>"
        )
    for r, (anchor, label, cells) in enumerate(matrix.rows):
        y = _HEAD + _ROW * r
        shown = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"
        parts.append(
            f'<a href="#{for_html(anchor)}"><text x="0" y="{y + 16}" fill="#0969da">{for_html(shown)}</text></a>'
        )
        for i, cell in enumerate(cells):
            x = label_width + _CELL * i + 4
            tip = f"{matrix.columns[i]}: {cell or 'nothing found'}"
            parts.append(
                f'<rect x="{x}" y="{y + 3}" width="{_CELL - 8}" height="{_ROW - 6}" rx="3" fill="{_FILL[cell]}">'
                f"<title>{for_html(tip)}</title></rect>"
            )
    legend_y = height - 10
    x = 0
    for name in ("error", "warning", "note", ""):
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{_FILL[name]}"/>')
        parts.append(f'<text x="{x + 16}" y="{legend_y}">{name or "none"}</text>')
        x += 90
    if matrix.left_out:
        parts.append(f'<text x="{x}" y="{legend_y}">{_left_out(matrix.left_out).strip()}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


_BAR_SCALE = math.log10(30_000)  # bars on a log scale up to more than every action in the catalog


def _svg_bars(bars: _Bars) -> str:
    """Per access level, the actions a role holds (light) and those on every resource without
    a condition (dark), on a log scale: 3 and 3,000 actions both stay visible."""
    label, length, row = 170, 420, 22
    height = row * len(bars.rows) + 6
    parts = [
        f'<svg class="reach" xmlns="http://www.w3.org/2000/svg" role="img" width="{label + length + 170}" '
        f'height="{height}" font-family="system-ui, sans-serif" font-size="12">',
        "<title>Actions the role holds per access level; dark: on every resource, unconditionally</title>",
    ]
    for i, (level, actions, everywhere) in enumerate(bars.rows):
        y = i * row + 3
        held, loose = (round(length * math.log10(n + 1) / _BAR_SCALE) for n in (actions, everywhere))
        parts += [
            f'<text x="0" y="{y + 14}">{for_html(level)}</text>',
            f'<rect x="{label}" y="{y}" width="{held}" height="{row - 6}" fill="#ffcecb"/>',
            f'<rect x="{label}" y="{y}" width="{loose}" height="{row - 6}" fill="#cf222e"/>',
            f'<text x="{label + held + 6}" y="{y + 14}">{actions:,} ({everywhere:,} on everything)</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _cell_class(text: str) -> str:
    return f' class="{text}"' if text in ("error", "warning", "note") else ""
