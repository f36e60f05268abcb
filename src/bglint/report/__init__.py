"""Report: turn findings into text, JSON, SARIF, GitHub annotations, Markdown or JUnit.

Formatters only present; they never judge.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from bglint.errors import InputError
from bglint.findings import Finding, Rule
from bglint.model import Document, Location

SEVERITY_ORDER = ("note", "warning", "error")


class ShardPart(NamedTuple):
    """What one shard of a sharded audit covered, so `bglint merge` can tell what is missing."""

    number: int  # this shard's, from 1
    total: int  # shards of the run
    accounts: tuple[str, ...]  # every account of the whole run, sharded or not
    audited: tuple[str, ...]  # this shard's accounts that were read and judged
    failed: tuple[str, ...]  # this shard's accounts that could not be

    def as_dict(self) -> dict[str, object]:
        """As JSON and SARIF reports carry it (`bglint merge` reads it back)."""
        return {
            "shard": f"{self.number}/{self.total}",
            "accounts": list(self.accounts),
            "audited": list(self.audited),
            "failed": list(self.failed),
        }


class Report(NamedTuple):
    version: str
    provenance: dict[str, dict[str, str]]  # data source -> its provenance (catalog, managed policies)
    rules: list[Rule]
    findings: list[Finding]
    errors: list[InputError]
    documents: list[Document]
    skipped: Sequence[str] = ()
    root: Path = Path(".")  # URIs in SARIF are relative to it
    baselined: int = 0  # findings left out because the baseline already has them
    stale: Sequence[str] = ()  # baseline entries no finding matches any more
    passed_over: Sequence[tuple[str, str]] = ()  # (path, why) a scan did not check
    show_skipped: bool = False  # --show-skipped: text output lists `passed_over` too
    # Where a live resource (a role ARN, aws://<account>) is written in a file: its definition
    # (--against), the dump it was read from (--from), or the audit's per-account snapshot.
    places: Mapping[str, Location] = {}  # a shared default: read only
    shard: ShardPart | None = None

    def counts(self) -> dict[str, int]:
        """Findings that count (not suppressed), by severity."""
        result = dict.fromkeys(SEVERITY_ORDER, 0)
        for finding in visible(self):
            result[finding.severity] += 1
        return result

    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppression is not None]


def at_or_above(severity: str, threshold: str) -> bool:
    return threshold != "never" and SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(threshold)


def visible(report: Report) -> list[Finding]:
    """The findings a person must act on: not suppressed."""
    return [f for f in report.findings if f.suppression is None]


def causes(findings: list[Finding]) -> list[list[Finding]]:
    """Findings grouped by cause: one place (path, line, column) in one role of one document.

    Rules that judge the same grant (BG001, BG003, BG004 on one statement) are one cause; in
    each group the most severe finding comes first, then by rule id. Groups keep the order of
    their first finding.
    """
    groups: dict[tuple[str, int, int, str, str] | int, list[Finding]] = {}
    for index, finding in enumerate(findings):
        loc = finding.loc
        # Without a role and a line there is no grant to share: such a finding stands alone.
        key = (loc.path, loc.line, loc.col, finding.document, finding.role) if finding.role and loc.line else index
        groups.setdefault(key, []).append(finding)
    return [sorted(group, key=lambda f: (-SEVERITY_ORDER.index(f.severity), f.rule.id)) for group in groups.values()]
