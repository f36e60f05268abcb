"""Apply governed suppressions to findings, and record which suppressions were used.

A suppression suppresses only while it is justified (a reason) and current (`until` not
passed); the others are reported by rules BG040-BG042 instead of being trusted.
"""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase
from pathlib import Path

from bglint.findings import CFN_LINT_PREFIX, Finding
from bglint.model import Document, Suppression, SuppressionSource

Use = tuple[Suppression, bool]  # (suppression, used by a finding, or not judged in this run)


def apply_suppressions(
    findings: list[Finding],
    documents: list[Document],
    configured: tuple[Suppression, ...],
    today: dt.date,
    cfn_lint: bool = False,
) -> tuple[list[Finding], list[Use]]:
    on_roles = {(doc.path, role.name): role.suppressions for doc in documents for role in doc.roles}
    every = [s for group in on_roles.values() for s in group] + list(configured)
    used: set[int] = set()
    result = []
    for finding in findings:
        candidates = (*on_roles.get((finding.document, finding.role), ()), *configured)
        if not candidates:  # the common case: spare a generator per finding
            result.append(finding)
            continue
        match = next((s for s in candidates if s.current(today) and _matches(s, finding)), None)
        if match is not None:
            used.add(id(match))
            finding = finding._replace(suppression=match)
        result.append(finding)
    # A config suppression scoped (by `role`/`path`) to roles or files this run did not check,
    # e.g. another app in a pre-commit run, cannot be judged unused: count it as used.
    checked = _checked_files(documents, findings)
    names = {role.name for doc in documents for role in doc.roles}
    for suppression in configured:
        if not _in_scope(suppression, checked, names):
            used.add(id(suppression))
    if not cfn_lint:  # nor can one of a cfn-lint rule in a run without cfn-lint
        used.update(id(s) for s in every if s.rule.startswith(CFN_LINT_PREFIX))
    return result, [(s, id(s) in used) for s in every]


def _matches(suppression: Suppression, finding: Finding) -> bool:
    if suppression.rule != finding.rule.id:
        return False
    if suppression.source != SuppressionSource.CONFIG:
        return True  # written on the role itself: it is already scoped to that role
    return (not suppression.role or fnmatchcase(finding.role, suppression.role)) and (
        not suppression.path or _path_matches(suppression, finding.loc.path)
    )


def _path_matches(suppression: Suppression, path: str) -> bool:
    """`path:` patterns are relative to the config file's directory, like its `rules` and `apps`.

    A file outside that directory is matched as it is shown (relative to where bglint runs).
    """
    base = Path(suppression.loc.path).resolve().parent
    try:
        relative = Path(path).resolve().relative_to(base).as_posix()
    except (ValueError, OSError):
        relative = Path(path).as_posix()
    return fnmatchcase(relative, suppression.path)


def _checked_files(documents: list[Document], findings: list[Finding]) -> set[str]:
    files = {doc.path for doc in documents} | {f.loc.path for f in findings}
    files |= {role.loc.path for doc in documents for role in doc.roles}
    files |= {used for doc in documents for _written, used in doc.references}
    return files


def _in_scope(suppression: Suppression, files: set[str], names: set[str]) -> bool:
    if suppression.role and not any(fnmatchcase(name, suppression.role) for name in names):
        return False
    return not suppression.path or any(_path_matches(suppression, path) for path in files)
