"""Predicates about deployed roles (`bglint audit`): facts the AWS loader recorded on the model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit

_FIX = {
    "policy-added": "detach the policy, or add it to the definition if it is meant to be there",
    "policy-missing": "redeploy the definition, or remove the policy from it if it is no longer needed",
    "policy-changed": "redeploy the definition, or bring the definition up to date with the deployed document",
    "boundary-removed": "put the defined permissions boundary back on the role",
    "boundary-added": "add the boundary to the definition, or remove it from the role",
    "boundary-changed": "set the role's permissions boundary to the one its definition names",
    "trust-widened": "restore the defined trust policy (principals and conditions)",
    "not-defined": "define the role in the app config or template, or delete it from the account",
}


@predicate
def has_drifted(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """The deployed role differs from its definition (policies, boundary, trust), or has none."""
    role = subject.role
    assert role is not None
    for drift in role.drift:
        where = drift.definition
        defined_at = f" (defined in {where.path}{f':{where.line}' if where.line else ''})" if where else ""
        yield Hit(
            role.loc,
            f"{drift.detail}{defined_at}",
            _FIX.get(drift.kind, "redeploy the definition"),
            f"drift:{drift.kind}:{drift.subject}",
        )
