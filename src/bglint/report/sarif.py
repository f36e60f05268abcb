"""SARIF 2.1.0 for code scanning (GitHub and others)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bglint.findings import Finding, Rule
from bglint.model import SuppressionSource
from bglint.report import Report
from bglint.report.json_stream import Lazy, dump_chunks

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/bglint/bglint"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def render_sarif(report: Report) -> str:
    return "".join(sarif_chunks(report))


def sarif_chunks(report: Report) -> Iterator[str]:
    """The log in pieces: each result is made and dumped when its turn comes."""
    rule_index = {rule.id: index for index, rule in enumerate(report.rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "bglint",
                "version": report.version,
                "semanticVersion": report.version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in report.rules],
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": report.root.resolve().as_uri() + "/"}},
        "invocations": [_invocation(report)],
        "results": Lazy(_result(f, rule_index, report) for f in report.findings),
        "columnKind": "unicodeCodePoints",
        "properties": {"data": report.provenance},
    }
    if report.shard is not None:
        run["properties"]["shard"] = report.shard.as_dict()
    yield from dump_chunks({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]})
    yield "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    help_uri = rule.help if "://" in rule.help else f"{INFORMATION_URI}/blob/main/{rule.help}"  # cfn-lint's: a URL
    security = {"security-severity": f"{rule.security_severity:.1f}", "tags": ["security", *rule.tags]}
    # bglint's rules are about security; cfn-lint's judge a template's correctness.
    properties = {**(security if rule.security_severity else {"tags": list(rule.tags)}), "precision": "high"}
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {
            "text": f"{rule.rationale}\n\nRemediation: {rule.remediation}",
            "markdown": f"{rule.rationale}\n\n**Remediation:** {rule.remediation}\n\n[{rule.id} documentation]({help_uri})",
        },
        "helpUri": help_uri,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": properties,
    }


def _result(finding: Finding, rule_index: dict[str, int], report: Report) -> dict[str, Any]:
    live = not finding.loc.line and _is_live(finding.loc.path)
    # A deployed role (bglint audit) is placed in a file as well, as code scanning requires one.
    place = report.places.get(finding.loc.path, finding.loc) if live else finding.loc
    location: dict[str, Any] = {"artifactLocation": _artifact(place.path, report.root)}
    if place.line:
        location["region"] = {"startLine": place.line, "startColumn": max(place.col, 1)}
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index[finding.rule.id],
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {"bglintFingerprint/v1": finding.fingerprint},
    }
    if finding.suppression is not None:
        written = finding.suppression.source != SuppressionSource.CONFIG
        result["suppressions"] = [
            {
                "kind": "inSource" if written else "external",
                "status": "accepted",
                "justification": finding.suppression.reason,
                "properties": {"owner": finding.suppression.owner, "until": finding.suppression.until},
            }
        ]
    if finding.loc.logical:
        result["locations"][0]["logicalLocations"] = [
            {"fullyQualifiedName": f"{finding.role}/{finding.loc.logical}" if finding.role else finding.loc.logical}
        ]
    if live:  # and named by its ARN
        result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": finding.loc.path, "kind": "resource"}]
        if finding.loc.path not in report.places:  # no file holds it: a location code scanning would reject
            del result["locations"][0]["physicalLocation"]
    return result


def _is_live(path: str) -> bool:
    """An AWS resource or account read by `bglint audit` (an ARN, aws://<account>), not a file."""
    return path.startswith(("arn:", "aws://")) or path == "aws"


def _invocation(report: Report) -> dict[str, Any]:
    notes = []
    for error in report.errors:
        note: dict[str, Any] = {"level": "error", "message": {"text": error.message}}
        location: dict[str, Any] = {"artifactLocation": _artifact(error.path, report.root)}
        if error.line:
            location["region"] = {"startLine": error.line, **({"startColumn": error.col} if error.col else {})}
        if not _is_live(error.path):
            note["locations"] = [{"physicalLocation": location}]
        else:
            note["message"]["text"] = f"{error.path}: {error.message}"
        notes.append(note)
    return {"executionSuccessful": not report.errors, "toolExecutionNotifications": notes}


def _artifact(path: str, root: Path) -> dict[str, str]:
    """Repository-relative with forward slashes (what code scanning needs), else an absolute URI."""
    resolved = Path(path).resolve()
    try:
        return {"uri": resolved.relative_to(root.resolve()).as_posix(), "uriBaseId": "SRCROOT"}
    except ValueError:
        return {"uri": resolved.as_uri()}
