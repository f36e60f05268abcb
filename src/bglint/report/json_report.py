"""JSON report, documented by schemas/report.schema.json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bglint.model import Document, Policy, Role, Suppression
from bglint.report import Report
from bglint.report.json_stream import Lazy, dump_chunks

REPORT_FORMAT = "1"


def render_json(report: Report) -> str:
    return "".join(json_chunks(report))


def json_chunks(report: Report) -> Iterator[str]:
    """The report in pieces: each finding and document is made and dumped when its turn comes."""
    counts = report.counts()
    data = {
        "format": REPORT_FORMAT,
        "tool": {"name": "bglint", "version": report.version, "data": report.provenance},
        "summary": {
            "findings": sum(counts.values()),
            **counts,
            "input_errors": len(report.errors),
            "documents": len(report.documents),
            "suppressed": len(report.suppressed()),
            "baselined": report.baselined,
        },
        "findings": Lazy(
            {
                "rule": f.rule.id,
                "name": f.rule.name,
                "severity": f.severity,
                "title": f.rule.title,
                "message": f.message,
                "fix": f.fix,
                "path": f.loc.path,
                "line": f.loc.line,
                "column": f.loc.col,
                "logical_path": f.loc.logical,
                "document": f.document,
                "role": f.role,
                "fingerprint": f.fingerprint,
                "help": f.rule.help,
                "suppression": _suppression(f.suppression),
            }
            for f in report.findings
        ),
        "stale_baseline": report.stale,
        "errors": [{"path": e.path, "line": e.line, "column": e.col, "message": e.message} for e in report.errors],
        "documents": Lazy(_document(doc) for doc in report.documents),
        "skipped": report.skipped,
        "passed_over": [{"path": path, "reason": why} for path, why in report.passed_over],
    }
    if report.shard is not None:
        data["shard"] = report.shard.as_dict()
    yield from dump_chunks(data)
    yield "\n"


def _suppression(suppression: Suppression | None) -> dict[str, Any] | None:
    if suppression is None:
        return None
    return {
        "reason": suppression.reason,
        "owner": suppression.owner,
        "until": suppression.until,
        "source": suppression.source,
        "path": suppression.loc.path,
        "line": suppression.loc.line,
    }


def _document(doc: Document) -> dict[str, Any]:
    network: dict[str, Any] = {"kind": str(doc.network.kind), "signal": doc.network.signal}
    if doc.network.loc is not None:
        network.update(path=doc.network.loc.path, line=doc.network.loc.line)
    return {
        "path": doc.path,
        "kind": doc.kind,
        "network": network,
        "roles": [_role(role) for role in doc.roles],
        "references": [{"reference": ref, "file": used} for ref, used in doc.references],
    }


def _role(role: Role) -> dict[str, Any]:
    boundary = role.boundary
    return {
        "name": role.name,
        "path": role.loc.path,
        "line": role.loc.line,
        "source": role.source_kind,
        "platform": role.platform,
        "break_glass": role.break_glass,
        "break_glass_reason": role.break_glass_reason,
        "level": role.level,
        "level_source": role.level_source,
        "gate_condition": role.gate_condition,
        "deletion_policy": role.deletion_policy,
        "boundary": {
            "state": str(boundary.state) if boundary else "none",
            "reference": boundary.reference if boundary else "",
            "files": [p.source for p in boundary.policies if p.source] if boundary else [],
        },
        "policies": [_policy(p) for p in role.policies],
    }


def _policy(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "origin": str(policy.origin),
        "document_known": policy.document_known,
        "statements": policy.statement_count,
        "file": policy.source or policy.loc.path,
        "line": policy.loc.line,
        "grants": [{"key": grant.kind, "names": list(grant.names)} for grant in policy.grants],
    }
