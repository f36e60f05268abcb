"""Predicates over an organisation's control policies (SCPs, RCPs) on a live account's path.

Only `bglint audit --organization` reads them; elsewhere a document has none and these find nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.iam.controls import blocked_grants, claimable_exemptions
from bglint.model import Location


@predicate
def blocked_by_controls(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Every action the break-glass role is granted is denied by the organisation's control policies."""
    role = subject.role
    assert role is not None
    blocked = blocked_grants(role, subject.document.controls)
    if blocked:
        shown = "; ".join(f"{action}: {why}" for action, why in blocked[:3])
        more = f" and {len(blocked) - 3} more" if len(blocked) > 3 else ""
        yield Hit(
            role.loc,
            f"cannot use what it is granted: the organisation's control policies deny it ({shown}{more}), "
            "so it will not work during an incident",
            "exempt the break-glass role from the SCP with a condition on its exact ARN "
            "(ArnNotEquals aws:PrincipalArn), or grant it what the SCPs allow",
            "blocked",
        )


@predicate
def exemption_claimable(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """An SCP Deny that exempts principals by a role-name pattern any principal could create a role to match."""
    for layer in subject.document.controls:
        for policy in layer.policies:
            for index, statement in enumerate(policy.statements):
                for pattern in claimable_exemptions(statement):
                    yield Hit(
                        Location(subject.document.path, 0, 0, f"Controls/{policy.name}/Statement[{index}]"),
                        f"{layer.kind.upper()} {policy.name} (on {layer.target}) exempts every principal whose ARN "
                        f"matches '{pattern}' from its Deny: any principal of the account allowed iam:CreateRole "
                        "can create a role with a matching name and escape the policy",
                        "exempt the break-glass role by its exact ARN (ArnNotEquals aws:PrincipalArn), or deny "
                        "iam:CreateRole for names matching the pattern in the same SCP",
                        f"exemption:{policy.name}:{index}:{pattern}",
                    )
