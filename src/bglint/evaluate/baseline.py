"""Compare findings with a baseline: only new ones count; baseline entries nothing matches are stale.

Fingerprints hash the rule, the document, the role and a logical path, never a line number,
so moving lines does not make an old finding look new.
"""

from __future__ import annotations

from bglint.findings import BaselineEntry, Finding


def compare(findings: list[Finding], baseline: list[BaselineEntry]) -> tuple[list[Finding], int, list[str]]:
    """(findings not in the baseline, how many were, descriptions of the stale entries)."""
    known = {entry.fingerprint for entry in baseline}
    seen = {f.fingerprint for f in findings}
    fresh = [f for f in findings if f.fingerprint not in known]
    stale = [
        f"{e.rule} {e.path}" + (f" role {e.role}" if e.role else "") for e in baseline if e.fingerprint not in seen
    ]
    return fresh, len(findings) - len(fresh), stale
