"""The readable audit report (`bglint audit --format markdown|html`, or `--report FILE`).

Per account and per break-glass role: what IAM says of the role, the access levels it
reaches, its findings and its drift from the definition. Everything that comes from an
account (names, tags, messages) is escaped for the output format; no credential is ever
part of the input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bglint.findings import Finding
from bglint.model import Document, Role
from bglint.report import Report, visible
from bglint.report.escape import for_html, for_terminal

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


@dataclass(frozen=True)
class _Para:
    label: str  # shown strong, before the text
    text: str


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class _Items:
    items: Sequence[str]


_Block = _Heading | _Para | _Table | _Items


@dataclass
class _Writer:
    """Collects blocks; `render_audit_markdown`/`render_audit_html` turn them into text."""

    blocks: list[_Block] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(_Heading(level, text))

    def para(self, text: str, strong: str = "") -> None:
        self.blocks.append(_Para(strong.strip(), text))

    def table(self, header: tuple[str, ...], rows: Sequence[Sequence[str]]) -> None:
        self.blocks.append(_Table(header, rows))

    def items(self, items: Sequence[str]) -> None:
        self.blocks.append(_Items(items))


def _content(report: Report, view: AuditView) -> _Writer:
    out = _Writer()
    findings = visible(report)
    by_role: dict[str, list[Finding]] = {}
    for finding in findings:
        by_role.setdefault(finding.loc.path, []).append(finding)
    roles = sum(len(a.document.roles) for a in view.accounts if a.document is not None)
    failed = sum(1 for a in view.accounts if a.document is None)
    counts = report.counts()
    out.heading(1, "bglint audit report")
    catalog = report.provenance.get("iam_catalog", {})
    out.para(
        f"bglint {report.version}, IAM catalog {catalog.get('source', '?')} {catalog.get('version', '')} "
        f"(data {catalog.get('date', '?')}){f', generated {view.generated}' if view.generated else ''}. "
        f"{_plural(len(view.accounts), 'account')} ({failed} failed), {_plural(roles, 'break-glass role')}, "
        f"{_plural(counts['error'], 'error')}, {_plural(counts['warning'], 'warning')}, {_plural(counts['note'], 'note')}. "
        + (f"Compared with {', '.join(view.against)}." if view.against else "Not compared with any definition.")
    )
    out.table(
        ("Account", "Status", "Break-glass roles", "Errors", "Warnings", "Notes", "Drifted roles"),
        [_account_row(a, by_role) for a in view.accounts],
    )
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
        for role in account.document.roles:
            _role(out, role, by_role.get(role.loc.path, []), view)
    return out


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


def _role(out: _Writer, role: Role, findings: list[Finding], view: AuditView) -> None:
    out.heading(3, role.name)
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
    out.table(("Fact", "Value"), facts)
    reach = view.reach.get(role.loc.path)
    if reach is not None:
        out.para("", strong="Reaches")
        if reach.levels:
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

# Inline markup anywhere in a line, and block markup at its start (headings, quotes, lists).
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MARKDOWN_BLOCK = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def md(text: str) -> str:
    """Inline Markdown: one line, no markup, no HTML (entities inert), readable as plain text."""
    one_line = for_terminal(str(text)).replace("&", "&amp;")
    return _MARKDOWN_BLOCK.sub(_inert_marker, _MARKDOWN_INLINE.sub(r"\\\1", one_line))


def _inert_marker(match: re.Match[str]) -> str:
    """`\\#`, `\\-`... or `1\\.`: the line no longer starts a heading, quote or list."""
    indent, marker = match.groups()
    return f"{indent}{marker}\\" if marker[0].isdigit() else f"{indent}\\{marker}"


def render_audit_markdown(report: Report, view: AuditView) -> str:
    lines: list[str] = []
    for block in _content(report, view).blocks:
        if isinstance(block, _Heading):
            lines += [f"{'#' * block.level} {md(block.text)}", ""]
        elif isinstance(block, _Para):
            label = f"**{md(block.label)}**" if block.label else ""
            lines += [" ".join(part for part in (label, md(block.text)) if part), ""]
        elif isinstance(block, _Table):
            lines.append("| " + " | ".join(md(h) for h in block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in block.rows]
            lines.append("")
        else:
            lines += [f"- {md(item)}" for item in block.items] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- HTML ------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 72rem; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.3rem; margin-top: 2.5rem; }
td.error { color: #b42318; font-weight: 600; } td.warning { color: #9a6700; } td.note { color: #57606a; }
"""


def render_audit_html(report: Report, view: AuditView) -> str:
    body: list[str] = []
    for block in _content(report, view).blocks:
        if isinstance(block, _Heading):
            body.append(f"<h{block.level}>{for_html(block.text)}</h{block.level}>")
        elif isinstance(block, _Para):
            label = f"<strong>{for_html(block.label)}</strong>" if block.label else ""
            body.append(f"<p>{' '.join(part for part in (label, for_html(block.text)) if part)}</p>")
        elif isinstance(block, _Table):
            head = "".join(f"<th>{for_html(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td{_cell_class(c)}>{for_html(c)}</td>" for c in row) + "</tr>" for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            body.append("<ul>" + "".join(f"<li>{for_html(item)}</li>" for item in block.items) + "</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>bglint audit report</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _cell_class(text: str) -> str:
    return f' class="{text}"' if text in ("error", "warning", "note") else ""
