"""Organisation control policies (SCPs, RCPs) over a principal's request, as AWS evaluates them.

A request is allowed by the control policies when, at every level of the account's path (the
root, each OU, the account), some policy allows the action, and no statement at any level
denies it. Conditions are judged for the keys that SCP exemptions use (`aws:PrincipalArn`,
`aws:PrincipalAccount`); a statement with any other condition is undecided: a Deny then does not
count as certain, an Allow still may allow. Actions may be IAM patterns (`ec2:*`): a Deny covers
one when its own pattern matches it as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from bglint.iam.glob import glob_regex
from bglint.model import Condition, Role, Statement

if TYPE_CHECKING:
    from bglint.model.audit import ControlLayer


class Control(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"  # an explicit Deny applies
    NOT_ALLOWED = "not-allowed"  # a level has no Allow for it (implicit deny)


def control_decision(layers: Iterable[ControlLayer], action: str, principal_arn: str) -> tuple[Control, str]:
    """The control policies' verdict on `principal_arn` doing `action`, and the policy (and level) that decides."""
    layers = tuple(layers)
    for layer in layers:
        for policy in layer.policies:
            for statement in policy.statements:
                if not statement.is_allow and _covers(statement, action) and _applies(statement, principal_arn) is True:
                    return Control.DENIED, f"{policy.name} ({layer.kind.upper()} on {layer.target})"
    for layer in layers:
        allowed = any(
            statement.is_allow and _covers(statement, action) and _applies(statement, principal_arn) is not False
            for policy in layer.policies
            for statement in policy.statements
        )
        if not allowed:
            return Control.NOT_ALLOWED, f"no {layer.kind.upper()} on {layer.target} allows it"
    return Control.ALLOWED, ""


def blocked_grants(role: Role, layers: tuple[ControlLayer, ...]) -> list[tuple[str, str]]:
    """(action, why) for each action the role's Allows name, when the control policies deny every one of
    them for this role (the role can then do nothing); [] otherwise."""
    if not layers or role.deployed is None:
        return []
    granted = sorted(
        {
            action
            for policy in role.policies
            for statement in policy.statements
            if statement.is_allow and not statement.not_action
            for action in statement.actions
        }
    )
    blocked = []
    for action in granted:
        verdict, why = control_decision(layers, action, role.deployed.arn)
        if verdict is Control.ALLOWED:
            return []
        blocked.append((action, why))
    return blocked


def _covers(statement: Statement, action: str) -> bool:
    """Whether the statement's actions include `action` (or every action a pattern names)."""
    if "*" not in statement.resources and not statement.not_resource:
        return False  # limited to some resources: not certain for the whole action
    matched = any(glob_regex(pattern.lower()).fullmatch(action.lower()) for pattern in statement.actions)
    return not matched if statement.not_action else matched


_POSITIVE = {"stringequals", "stringlike", "arnequals", "arnlike"}
_NEGATED = {"stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike"}
_KNOWN_KEYS = {"aws:principalarn", "aws:principalaccount"}


def _applies(statement: Statement, principal_arn: str) -> bool | None:
    """Whether every condition holds for the principal; None when one cannot be judged here."""
    verdict: bool | None = True
    for condition in statement.conditions:
        held = _holds(condition, principal_arn)
        if held is False:
            return False
        if held is None:
            verdict = None
    return verdict


def _holds(condition: Condition, principal_arn: str) -> bool | None:
    operator, key = condition.operator.lower().removesuffix("ifexists"), condition.key.lower()
    if key not in _KNOWN_KEYS or operator not in _POSITIVE | _NEGATED:
        return None
    value = principal_arn if key == "aws:principalarn" else principal_arn.split(":")[4]
    like = "like" in operator
    matched = any((glob_regex(v).fullmatch(value) is not None) if like else v == value for v in condition.values)
    return matched if operator in _POSITIVE else not matched


def claimable_exemptions(statement: Statement) -> list[str]:
    """The aws:PrincipalArn patterns of a Deny's NotLike exemption that match roles by a wildcard in
    their name: whoever may create a role with a matching name is exempt too."""
    if statement.is_allow:
        return []
    found = []
    for condition in statement.conditions:
        if condition.key.lower() == "aws:principalarn" and condition.operator.lower() in (
            "arnnotlike",
            "stringnotlike",
        ):
            for value in condition.values:
                _, sep, name = value.partition(":role/")
                if sep and ("*" in name or "?" in name):
                    found.append(value)
    return found
