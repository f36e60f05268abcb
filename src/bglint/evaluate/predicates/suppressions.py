"""Predicates about suppressions themselves: an exception must stay justified and current."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.model import Suppression


def _who(suppression: Suppression) -> str:
    owner = f", owner {suppression.owner}" if suppression.owner else ""
    return f"suppression of {suppression.rule} ({suppression.source}{owner})"


@predicate
def suppression_expired(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    for suppression, _used in subject.suppressions:
        if suppression.expired(subject.today):
            yield Hit(
                suppression.loc,
                f"{_who(suppression)} expired on {suppression.until} and no longer suppresses",
                "fix what it hid, or renew `until` with a current reason",
                f"expired:{suppression.rule}:{suppression.loc.path}:{suppression.loc.logical}",
            )


@predicate
def suppression_unjustified(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    for suppression, _used in subject.suppressions:
        if not suppression.reason:
            yield Hit(
                suppression.loc,
                f"{_who(suppression)} has no reason, so it does not suppress",
                "add `reason` saying why the finding is acceptable",
                f"unjustified:{suppression.rule}:{suppression.loc.path}:{suppression.loc.logical}",
            )


@predicate
def suppression_unused(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    for suppression, used in subject.suppressions:
        if suppression.current(subject.today) and not used:
            yield Hit(
                suppression.loc,
                f"{_who(suppression)} matches no finding",
                "remove it: what it suppressed is gone (or the rule id, role or path is wrong)",
                f"unused:{suppression.rule}:{suppression.loc.path}:{suppression.loc.logical}",
            )
