"""BG023: the trust profile: who may assume the role, and under which conditions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.model import SUB_VARIABLE, Statement

_VAR = SUB_VARIABLE
# An account root: its ARN (partition and account may be ${...}), a bare account id, or !Ref AWS::AccountId.
_ROOT = re.compile(rf"^(?:arn:(?:[\w-]+|{_VAR}):iam::(?:\d{{12}}|{_VAR}):root|\d{{12}}|\$\{{AWS::AccountId\}})$")


@predicate
def trust_too_broad(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """A trust policy that does not name specific principals, or sessions longer than the ceiling."""
    role = subject.role
    assert role is not None
    for index, statement in enumerate(role.trust):
        if statement.not_principal:
            yield Hit(
                statement.loc,
                "uses NotPrincipal in its trust policy: "
                + (
                    "with Allow it lets every principal of every account except those listed assume the role"
                    if statement.is_allow
                    else "a Deny with NotPrincipal is easy to get wrong and AWS advises against it"
                ),
                "name the principals in Principal instead (or use a condition on aws:PrincipalArn)",
                f"not-principal:{index}",
            )
            continue
        if not statement.is_allow:
            continue
        for principal in statement.principals:
            if principal.value == "*" and principal.kind in ("*", "AWS") and not _names_principal(statement):
                shown = '"*"' if principal.kind == "*" else '{AWS: "*"}'
                yield Hit(
                    statement.loc,
                    f"trusts Principal {shown}: any AWS principal in any account that learns the role's ARN can "
                    "try to assume it",
                    "name the vendor's support role ARN as the principal",
                    f"star:{index}",
                )
            elif principal.kind == "AWS" and _ROOT.match(principal.value) and not _guards_root(statement):
                yield Hit(
                    statement.loc,
                    f"trusts account root {principal.value} with neither an sts:ExternalId nor an MFA condition: "
                    "every user and role of that account allowed sts:AssumeRole can become the break-glass role",
                    "name the vendor's support role ARN, or add Condition StringEquals sts:ExternalId (or Bool "
                    "aws:MultiFactorAuthPresent true)",
                    f"root:{index}:{principal.value}",
                )
    ceiling = int(params.get("max_session_seconds", 3600))
    seconds = role.max_session_duration
    if seconds is not None and seconds > ceiling:
        yield Hit(
            role.max_session_loc or role.loc,
            f"allows sessions of {seconds} s ({seconds / 3600:g} h), over the {ceiling} s ceiling: a session token "
            "copied during the incident keeps working that long after the stack is uninstalled",
            f"set MaxSessionDuration to {ceiling} or less (or leave it out: the default is 3600)",
            "session",
        )


def _conditions(statement: Statement) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(operator, key, values), lower-cased, for conditions that narrow: no IfExists, no negation, no ForAllValues."""
    for condition in statement.conditions:
        operator = condition.operator.lower()
        if operator.startswith("forallvalues:") or operator.endswith("ifexists") or "not" in operator:
            continue
        yield operator.removeprefix("foranyvalue:"), condition.key.lower(), condition.values


def _names_principal(statement: Statement) -> bool:
    """A condition that pins the caller to specific principals or an account."""
    return any(
        key in ("aws:principalarn", "aws:principalaccount") and values and "*" not in values
        for _, key, values in _conditions(statement)
    )


def _guards_root(statement: Statement) -> bool:
    for operator, key, values in _conditions(statement):
        if key == "sts:externalid" and values and "*" not in values:
            return True
        if key == "aws:multifactorauthpresent" and operator == "bool" and "true" in (v.lower() for v in values):
            return True
        if key == "aws:multifactorauthage" and operator.startswith("numericless"):
            return True
    return _names_principal(statement)
