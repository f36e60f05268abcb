"""The CloudFormation Nuon generates for an app config's roles, and what it decides about them.

For each role: a parameter and a condition `Enable<L>` (default `enabled_in_stack`, else
false for break-glass roles and true for provision/maintenance/deprovision ones), the
`AWS::IAM::Role` L trusted by the runner's instance role, `ManagedPolicyArns` (AWS-managed
policies by name, named policies by `!Ref`), a boundary `AWS::IAM::ManagedPolicy` and an
`AWS::IAM::Policy` per inline policy, all under the condition; named policies are managed
policies with no condition. Logical ids come from CamelCased names in one namespace: a
later resource with the id of an earlier one replaces it, as in Nuon's generator.
"""

from __future__ import annotations

from typing import Any

from bglint.model import Principal, Role, Statement
from bglint.regex import Regex

RUNNER_ROLE = "RunnerAutoScalingGroup.Outputs.RunnerInstanceRoleARN"
_TEMPLATE = Regex(r"\{\{[^}]*\}\}")
_NOT_ALNUM = Regex(r"[^a-zA-Z0-9]+")
_SEPARATORS = "_ -."
# Roles Nuon creates at install time unless the config says otherwise (the runner's operation roles).
_ON_BY_DEFAULT = ("provision", "maintenance", "deprovision")


def camel(text: str) -> str:
    """CamelCase as Nuon's generator computes it (iancoleman/strcase ToCamel): letters and
    digits kept, a separator (`_`, ` `, `-`, `.`) or a digit capitalises what follows, every
    other character is dropped, and a capital after a capital is lowered."""
    out: list[str] = []
    cap_next, prev_cap = True, False
    for char in text.strip():
        is_cap, is_low = "A" <= char <= "Z", "a" <= char <= "z"
        if cap_next and is_low:
            char = char.upper()
        elif not cap_next and prev_cap and is_cap:
            char = char.lower()
        prev_cap = is_cap
        if is_cap or is_low:
            out.append(char)
            cap_next = False
        elif "0" <= char <= "9":
            out.append(char)
            cap_next = True
        else:
            cap_next = char in _SEPARATORS
    return "".join(out)


def role_logical_id(kind: str, name: str) -> str:
    if kind in ("breakglass", "custom"):
        return camel(f"{kind}{name}")
    return camel(f"runner_{kind}")


def named_policy_logical_id(name: str) -> str:
    return "NamedPolicy" + (camel(_NOT_ALNUM.sub(" ", _TEMPLATE.sub(" ", name))) or "Policy")


class RoleSpec:
    """A role as the generator sees it: the model role plus the raw values it writes out."""

    def __init__(
        self,
        role: Role,
        kind: str,  # breakglass | provision | maintenance | deprovision | custom
        description: str = "",
        enabled_in_stack: bool | None = None,
    ) -> None:
        self.role = role
        self.kind = kind
        self.description = description
        self.enabled_in_stack = enabled_in_stack
        self.managed: list[str] = []
        self.named: list[str] = []
        self.inline: list[tuple[str, Any]] = []  # (policy name, document)
        self.boundary: Any = None  # the document, when there is one Nuon can use


def generate(specs: list[RoleSpec], named: dict[str, Any], in_use: set[str]) -> dict[str, Any]:
    """The stack, and on each model role: its logical id, gate or standing access, and trust."""
    parameters: dict[str, Any] = {}
    conditions: dict[str, Any] = {}
    resources: dict[str, Any] = {}
    for name, document in named.items():
        resources[named_policy_logical_id(name)] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"ManagedPolicyName": name, "PolicyDocument": document},
        }
    for spec in specs:
        role = spec.role
        logical = role.logical_id = role_logical_id(spec.kind, role.name)
        gate = f"Enable{logical}"
        default = _enabled_by_default(spec, in_use)
        role.standing = _standing(spec, default, gate)
        role.gate_condition = "" if default else gate
        role.trust = (
            Statement(
                "Allow", ("sts:AssumeRole",), (), role.loc, principals=(Principal("AWS", "${" + RUNNER_ROLE + "}"),)
            ),
        )
        parameters[gate] = {
            "Type": "String",
            "Default": "true" if default else "false",
            "AllowedValues": ["true", "false"],
            "Description": spec.description,
        }
        conditions[gate] = {"Fn::Equals": [{"Ref": gate}, "true"]}
        arns: list[Any] = [f"arn:aws:iam::aws:policy/{managed}" for managed in spec.managed]
        arns += [{"Ref": named_policy_logical_id(ref)} for ref in spec.named if ref in named]
        body: dict[str, Any] = {
            "RoleName": role.name,
            "ManagedPolicyArns": arns,
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::GetAtt": RUNNER_ROLE.split(".", 1)}},
                        "Action": "sts:AssumeRole",
                    }
                ]
            },
        }
        if spec.boundary is not None:
            resources[f"{logical}Boundary"] = {
                "Type": "AWS::IAM::ManagedPolicy",
                "Condition": gate,
                "Properties": {"ManagedPolicyName": f"{role.name}-boundary", "PolicyDocument": spec.boundary},
            }
            body["PermissionsBoundary"] = {"Ref": f"{logical}Boundary"}
        resources[logical] = {"Type": "AWS::IAM::Role", "Condition": gate, "Properties": body}
        for policy_name, document in spec.inline:
            resources[camel(policy_name)] = {
                "Type": "AWS::IAM::Policy",
                "Condition": gate,
                "Properties": {
                    "PolicyName": {"Fn::Sub": [policy_name, {"RoleName": {"Ref": logical}}]},
                    "PolicyDocument": document,
                    "Roles": [{"Ref": logical}],
                },
            }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": parameters,
        "Conditions": conditions,
        "Resources": resources,
    }


def _enabled_by_default(spec: RoleSpec, in_use: set[str]) -> bool:
    if spec.enabled_in_stack is not None:
        return spec.enabled_in_stack
    if spec.kind == "custom":
        return spec.role.name in in_use  # a custom role something runs as
    return spec.kind in _ON_BY_DEFAULT


def _standing(spec: RoleSpec, default: bool, gate: str) -> str:
    if not default:
        return ""
    if spec.enabled_in_stack:
        return f"enabled_in_stack = true: the stack's {gate} parameter defaults to true, so the role exists from install time"
    if spec.kind == "custom":
        return f"a custom role something runs as: Nuon defaults {gate} to true, so the role exists from install time"
    return f"a {spec.kind} role: Nuon defaults {gate} to true, so the role exists from install time"
