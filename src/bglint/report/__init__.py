"""Report: turn findings into text, JSON, SARIF, GitHub annotations, Markdown or JUnit.

Formatters only present; they never judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bglint.errors import InputError
from bglint.findings import Finding, Rule
from bglint.model import Document

SEVERITY_ORDER = ("note", "warning", "error")


@dataclass(frozen=True)
class Report:
    version: str
    provenance: dict[str, dict[str, str]]  # data source -> its provenance (catalog, managed policies)
    rules: list[Rule]
    findings: list[Finding]
    errors: list[InputError]
    documents: list[Document]
    skipped: list[str] = field(default_factory=list)
    root: Path = Path(".")  # URIs in SARIF are relative to it
    baselined: int = 0  # findings left out because the baseline already has them
    stale: list[str] = field(default_factory=list)  # baseline entries no finding matches any more

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
