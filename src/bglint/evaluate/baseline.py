"""Compare findings with a baseline: only new ones count; baseline entries nothing matches are stale.

Fingerprints hash the rule, the document, the role and a logical path, never a line number,
so moving lines does not make an old finding look new.
"""

from __future__ import annotations

from bglint.findings import CFN_LINT_PREFIX, BaselineEntry, Finding


def compare(
    findings: list[Finding], baseline: list[BaselineEntry], cfn_lint: bool = False
) -> tuple[list[Finding], int, list[str]]:
    """(findings not in the baseline, how many were, descriptions of the stale entries).

    cfn-lint's entries are judged only in a run with `cfn_lint`: without it they are not fixed,
    only not looked at."""
    known = {entry.fingerprint for entry in baseline}
    seen = {f.fingerprint for f in findings}
    fresh = [f for f in findings if f.fingerprint not in known]
    stale = [
        f"{e.rule} {e.path}" + (f" role {e.role}" if e.role else "")
        for e in baseline
        if e.fingerprint not in seen and (cfn_lint or not e.rule.startswith(CFN_LINT_PREFIX))
    ]
    return fresh, len(findings) - len(fresh), stale
