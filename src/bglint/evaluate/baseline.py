"""Compare findings with a baseline: only new ones count; baseline entries nothing matches are stale.

Fingerprints hash the rule, the document, the role and a logical path, never a line number,
so moving lines does not make an old finding look new.
"""

from __future__ import annotations

from collections.abc import Iterable

from bglint.findings import CFN_LINT_PREFIX, BaselineEntry, Finding


def compare(
    findings: list[Finding], baseline: list[BaselineEntry], checked: Iterable[str], cfn_lint: bool = False
) -> tuple[list[Finding], int, list[str]]:
    """(findings not in the baseline, how many were, descriptions of the stale entries).

    Only entries of what was checked (`checked`: document paths, an app directory covering its
    files) can be stale; the others are neither new nor fixed. cfn-lint's entries are judged only
    in a run with `cfn_lint`: without it they are not fixed, only not looked at.
    """
    known = {entry.fingerprint for entry in baseline}
    fresh = [f for f in findings if f.fingerprint not in known]
    stale = [
        f"{e.rule} {e.path}" + (f" role {e.role}" if e.role else "")
        for e in fixed(findings, baseline, checked, cfn_lint)
    ]
    return fresh, len(findings) - len(fresh), stale


def fixed(
    findings: list[Finding], baseline: list[BaselineEntry], checked: Iterable[str], cfn_lint: bool = False
) -> list[BaselineEntry]:
    """The baseline entries of checked files that no finding matches any more (cfn-lint's only
    in a run with `cfn_lint`)."""
    seen = {f.fingerprint for f in findings}
    places = tuple(checked)
    inside = tuple(place.rstrip("/") + "/" for place in places)
    everything = "." in places  # the working directory was checked

    def in_scope(entry: BaselineEntry) -> bool:
        looked_at = cfn_lint or not entry.rule.startswith(CFN_LINT_PREFIX)
        return looked_at and (everything or entry.path in places or entry.path.startswith(inside))

    return [e for e in baseline if e.fingerprint not in seen and in_scope(e)]
