"""Whether a template's role exists before anyone breaks the glass (standing access).

A role gated by a condition `Fn::Equals [!Ref P, "true"]` whose parameter P defaults to
"true" is created with the stack; so is a role with no condition at all in an install
stack (one that also holds Nuon's runner, `RunnerAutoScalingGroup`), which lives as long
as the install.
"""

from __future__ import annotations

from typing import Any

from bglint.model import Role

_INSTALL_STACK_MARKER = "RunnerAutoScalingGroup"  # the runner's nested stack in Nuon's install stack


def standing_access(data: dict[str, Any], role: Role) -> str:
    """Why `role` exists from the stack's creation on, or "" when it is created only on demand."""
    if not role.gate_condition:
        resources = data.get("Resources")
        if isinstance(resources, dict) and _INSTALL_STACK_MARKER in resources:
            return (
                "it has no Condition in an install stack (the stack holds the runner): it exists as long as the install"
            )
        return ""
    parameter = _gating_parameter(_table(data, "Conditions").get(role.gate_condition))
    if not parameter:
        return ""
    default = _table(data, "Parameters").get(parameter)
    value = default.get("Default") if isinstance(default, dict) else None
    if str(value).lower() == "true":
        return (
            f'its condition {role.gate_condition} holds by default: parameter {parameter} defaults to "true", '
            "so the role exists from the stack's creation"
        )
    return ""


def _gating_parameter(condition: Any) -> str:
    """P of `Fn::Equals [{Ref: P}, "true"]` (either order), else ""."""
    if not isinstance(condition, dict) or list(condition) != ["Fn::Equals"]:
        return ""
    operands = condition["Fn::Equals"]
    if not isinstance(operands, list) or len(operands) != 2:
        return ""
    for ref, literal in (operands, operands[::-1]):
        if isinstance(ref, dict) and isinstance(ref.get("Ref"), str) and str(literal).lower() == "true":
            return str(ref["Ref"])
    return ""


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}
