"""`bglint permissions`: per break-glass role, risk first (admin, IAM write, network write,
data access, what is not scoped to the install), the break-glass levels it reaches, then its
services, what matters first. Every action, one by one, only with `--all`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from bglint.iam.risk import RoleRisk, ServiceReach
from bglint.iam.summary import RoleSummary
from bglint.model import ACCESS_LEVELS, Document, Role
from bglint.report.escape import for_json_text, for_terminal, for_terminal_line

if TYPE_CHECKING:
    from bglint.clouds.summary import CloudSummary


class RoleView(NamedTuple):
    doc: Document
    role: Role
    risk: RoleRisk | CloudSummary  # a GCP/Azure role: what it binds, on the whole project or group
    actions: RoleSummary | None  # every action, with --all


SERVICES_SHOWN = 12  # services listed per role without --all
_LIST_UP_TO = 8  # a GCP/Azure service's permissions are listed one by one up to this many


def render_permissions(views: list[RoleView], fmt: str) -> str:
    if fmt == "json":
        return for_json_text(json.dumps([_json(view) for view in views], indent=2) + "\n")
    lines: list[str] = []
    for level in (*ACCESS_LEVELS, ""):
        group = [view for view in views if view.role.level == level]
        if group:
            lines.append(f"== {level or 'undeclared'} access ==")
            for view in group:
                lines.extend(_text(view))
    return "\n".join(lines) + "\n"


def risks(risk: RoleRisk) -> list[str]:
    """The dangerous facts, worst first, in words."""
    found = []
    if risk.admin:
        found.append(f"ADMIN: {risk.admin}")
    if risk.iam_write:
        found.append(f"IAM write: {risk.iam_write:,} actions (roles, policies, users: can change its own access)")
    if risk.network_write:
        found.append(f"network write: {risk.network_write:,} EC2 actions (VPCs, subnets, routes, gateways, SGs)")
    if risk.data_read:
        found.append(f"data access: {risk.data_read:,} read actions on data services (S3, DynamoDB, secrets, KMS...)")
    if risk.not_scoped:
        found.append(f"not scoped to the install: {risk.not_scoped:,} tag-scopable actions")
    return found


def _text(view: RoleView) -> list[str]:
    doc, role, risk, actions = view
    if not isinstance(risk, RoleRisk):
        return _cloud_text(doc, role, risk)
    boundary = role.boundary.state if role.boundary else "none"
    lines = [
        f"{for_terminal_line(role.loc.path)}:{role.loc.line}: role {for_terminal(role.name)}",
        f"  network: {doc.network.kind}; boundary: {boundary}; "
        f"{risk.actions:,} actions in {len(risk.services)} services",
    ]
    lines += [f"  ! {for_terminal(p)}: document unknown, may grant more" for p in risk.unknown_policies]
    lines += [f"  ! {text}" for text in risks(risk)] or ["  no admin, IAM write, network write or data access"]
    if risk.levels:
        reached = ", ".join(f"{level} ({n:,} writes)" for level, n in risk.levels)
        lines.append(f"  reaches (break-glass levels, by service): {reached}")
    shown = risk.services if actions is not None else risk.services[:SERVICES_SHOWN]
    width = max((len(s.service) for s in shown), default=0)
    grants = actions.services if actions is not None else {}
    for service in shown:
        lines.append(f"  {service.service:<{width}}  {_service_line(service)}")
        for grant in grants.get(service.service, []):
            mark = " (under conditions)" if grant.conditional else ""
            lines.append(f"    {grant.action} [{grant.access_level}] {grant.scoping}{mark}")
    if len(shown) < len(risk.services):
        rest = risk.services[len(shown) :]
        lines.append(
            f"  ... {len(rest)} more services ({sum(s.actions for s in rest):,} actions): --all lists every action"
        )
    return lines


def _service_line(service: ServiceReach) -> str:
    levels = ", ".join(f"{n:,} {level}" for level, n in service.by_level)
    loose = f"; {service.not_scoped:,} not scoped" if service.not_scoped else ""
    return f"{service.actions:,} actions ({levels}){loose}"


def _json(view: RoleView) -> dict[str, Any]:
    doc, role, risk, actions = view
    about = {
        "document": doc.path,
        "network": str(doc.network.kind),
        "role": role.name,
        "path": role.loc.path,
        "line": role.loc.line,
        "level": role.level,
        "platform": role.platform,
    }
    if not isinstance(risk, RoleRisk):
        return about | _cloud_json(risk)
    data: dict[str, Any] = about | {
        "boundary": str(role.boundary.state) if role.boundary else "none",
        "unknown_policies": list(risk.unknown_policies),
        "risk": {
            "admin": bool(risk.admin),
            "actions": risk.actions,
            "on_every_resource": risk.everywhere,
            "iam_write": risk.iam_write,
            "network_write": risk.network_write,
            "data_read": risk.data_read,
            "not_scoped": risk.not_scoped,
            "summary": risks(risk),
        },
        "levels": dict(risk.levels),
        "services": {
            s.service: {"actions": s.actions, "by_level": dict(s.by_level), "not_scoped": s.not_scoped}
            for s in risk.services
        },
    }
    if actions is not None:
        data["actions"] = {
            service: [
                {"action": g.action, "access_level": g.access_level, "scoping": g.scoping, "conditional": g.conditional}
                for g in grants
            ]
            for service, grants in sorted(actions.services.items())
        }
    return data


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
