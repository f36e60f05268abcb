"""`bglint permissions`: each break-glass role's effective permissions, by access level and service."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from bglint.iam.summary import NOT_SCOPED, RoleSummary
from bglint.model import ACCESS_LEVELS, Document, Role
from bglint.report.escape import for_json_text, for_terminal, for_terminal_line

if TYPE_CHECKING:
    from bglint.clouds.summary import CloudSummary

RoleView = tuple[Document, Role, "RoleSummary | CloudSummary"]
_LIST_UP_TO = 8  # a service's actions are listed one by one up to this many


def render_permissions(views: list[RoleView], fmt: str) -> str:
    if fmt == "json":
        return for_json_text(json.dumps([_json(view) for view in views], indent=2) + "\n")
    lines: list[str] = []
    for level in (*ACCESS_LEVELS, ""):
        group = [view for view in views if view[1].level == level]
        if group:
            lines.append(f"== {level or 'undeclared'} access ==")
            for view in group:
                lines.extend(_text(view))
    return "\n".join(lines) + "\n" if lines else "no break-glass roles found\n"


def _text(view: RoleView) -> list[str]:
    doc, role, summary = view
    if not isinstance(summary, RoleSummary):
        return _cloud_text(doc, role, summary)
    boundary = role.boundary.state if role.boundary else "none"
    lines = [
        f"{for_terminal_line(role.loc.path)}:{role.loc.line}: role {for_terminal(role.name)}",
        f"  network: {doc.network.kind} ({for_terminal(doc.network.signal)}); boundary: {boundary}",
    ]
    lines += [f"  ! {for_terminal(p)}: document unknown, may grant more" for p in summary.unknown_policies]
    for service, grants in sorted(summary.services.items()):
        loose = sum(g.scoping == NOT_SCOPED for g in grants)
        levels = Counter(g.access_level for g in grants)
        counts = ", ".join(f"{n} {lvl}" for lvl, n in sorted(levels.items()))
        lines.append(f"  {service}: {len(grants)} action(s) ({counts}){f'; {loose} NOT SCOPED' if loose else ''}")
        if len(grants) <= _LIST_UP_TO:
            for grant in grants:
                mark = " (under conditions)" if grant.conditional else ""
                lines.append(f"    {grant.action} [{grant.access_level}] {grant.scoping}{mark}")
    return lines


def _json(view: RoleView) -> dict[str, Any]:
    doc, role, summary = view
    about = {
        "document": doc.path,
        "network": str(doc.network.kind),
        "role": role.name,
        "path": role.loc.path,
        "line": role.loc.line,
        "level": role.level,
        "platform": role.platform,
    }
    if not isinstance(summary, RoleSummary):
        return about | _cloud_json(summary)
    return about | {
        "boundary": str(role.boundary.state) if role.boundary else "none",
        "unknown_policies": summary.unknown_policies,
        "services": {
            service: [
                {"action": g.action, "access_level": g.access_level, "scoping": g.scoping, "conditional": g.conditional}
                for g in grants
            ]
            for service, grants in sorted(summary.services.items())
        },
    }


def _cloud_text(doc: Document, role: Role, summary: CloudSummary) -> list[str]:
    """A GCP/Azure role: what it binds, then what it holds per service, all on the whole scope."""
    word = "permission" if summary.platform == "gcp" else "action"
    lines = [
        f"{for_terminal_line(role.loc.path)}:{role.loc.line}: role {for_terminal(role.name)} ({summary.platform})",
        f"  network: {doc.network.kind} ({for_terminal(doc.network.signal)}); bound on the whole {summary.scope}",
    ]
    lines += [f"  ! {for_terminal(name)}: unknown role, may grant more" for name in summary.unknown_roles]
    for bound in summary.bound:
        held = f"{len(bound.actions)} {word}(s)" if summary.platform == "gcp" else ", ".join(bound.actions)
        less = f"; notActions {', '.join(bound.not_actions)}" if bound.not_actions else ""
        lines.append(f"  {for_terminal(bound.source)}: {for_terminal(held)}{for_terminal(less)}")
    for service, held_list in sorted(summary.services.items()):
        changes = sum(h.change for h in held_list)
        lines.append(
            f"  {for_terminal(service)}: {len(held_list)} {word}(s) ({changes} change, {len(held_list) - changes} read)"
        )
        if len(held_list) <= _LIST_UP_TO:
            lines += [f"    {for_terminal(h.name)} [{'change' if h.change else 'read'}]" for h in held_list]
    return lines


def _cloud_json(summary: CloudSummary) -> dict[str, Any]:
    return {
        "scope": summary.scope,
        "unknown_roles": summary.unknown_roles,
        "grants": [
            {"source": b.source, "actions": list(b.actions), "not_actions": list(b.not_actions)} for b in summary.bound
        ],
        "services": {
            service: [{"action": h.name, "change": h.change} for h in held]
            for service, held in sorted(summary.services.items())
        },
    }
