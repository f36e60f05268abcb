"""`bglint permissions`: each break-glass role's effective permissions, by access level and service."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from bglint.iam.summary import NOT_SCOPED, RoleSummary
from bglint.model import ACCESS_LEVELS, Document, Role
from bglint.report.escape import for_json_text, for_terminal, for_terminal_line

RoleView = tuple[Document, Role, RoleSummary]
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
    return {
        "document": doc.path,
        "network": str(doc.network.kind),
        "role": role.name,
        "path": role.loc.path,
        "line": role.loc.line,
        "level": role.level,
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
