"""Apply governed suppressions to findings, and record which suppressions were used.

A suppression suppresses only while it is justified (a reason) and current (`until` not
passed); the others are reported by rules BG040-BG042 instead of being trusted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from fnmatch import fnmatchcase

from bglint.evaluate.engine import Finding
from bglint.model import Document, Suppression

Use = tuple[Suppression, bool]  # (suppression, used by a finding)


def apply_suppressions(
    findings: list[Finding], documents: list[Document], configured: tuple[Suppression, ...], today: dt.date
) -> tuple[list[Finding], list[Use]]:
    on_roles = {(doc.path, role.name): role.suppressions for doc in documents for role in doc.roles}
    every = [s for group in on_roles.values() for s in group] + list(configured)
    used: set[int] = set()
    result = []
    for finding in findings:
        candidates = (*on_roles.get((finding.document, finding.role), ()), *configured)
        match = next((s for s in candidates if s.current(today) and _matches(s, finding)), None)
        if match is not None:
            used.add(id(match))
            finding = replace(finding, suppression=match)
        result.append(finding)
    return result, [(s, id(s) in used) for s in every]


def _matches(suppression: Suppression, finding: Finding) -> bool:
    if suppression.rule != finding.rule.id:
        return False
    if suppression.source != "config":
        return True  # written on the role itself: it is already scoped to that role
    return (not suppression.role or fnmatchcase(finding.role, suppression.role)) and (
        not suppression.path or fnmatchcase(finding.loc.path, suppression.path)
    )
