"""Facts about a whole CloudFormation stack that the break-glass workflow rules read.

Parameters (for Quick-create links), every resource with its DeletionPolicy and
UpdateReplacePolicy, the principals IAM policies attach to, and signs that a custom
resource or an inline Lambda function manages IAM outside CloudFormation. Built from the
located nodes of `cfn_yaml`; nothing here judges.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bglint.load.intrinsics import Renderer, is_intrinsic
from bglint.model import Location, Parameter, StackResource
from bglint.parse.nodes import Pos, key_pos_in, pos_in, table_in, text_in

Locate = Callable[[Pos, str], Location]

# Policy resources and the properties that name the principals they attach to.
_ATTACHING = {
    "AWS::IAM::Policy": ("Roles", "Users", "Groups"),
    "AWS::IAM::ManagedPolicy": ("Roles", "Users", "Groups"),
    "AWS::IAM::RolePolicy": ("RoleName",),
    "AWS::IAM::UserPolicy": ("UserName",),
    "AWS::IAM::GroupPolicy": ("GroupName",),
    "AWS::IAM::UserToGroupAddition": ("Users",),
}
_CUSTOM = re.compile(r"^(?:Custom::.+|AWS::CloudFormation::CustomResource)$")
# Words in a custom resource's properties that say it creates or changes IAM principals.
_IAM_WORDS = re.compile(
    r"role|polic(?:y|ies)|assume|trust|principal|iam[:_]|accesskey|access_key|\busers?(?:name)?\b", re.IGNORECASE
)
# IAM API calls in inline Lambda code (boto3 snake case, SDK camel case) that create principals
# or credentials, or widen who may use a role; CloudFormation never deletes what they make.
_IAM_CALLS = re.compile(
    r"\b(?:create_role|CreateRole|CreateRoleCommand|put_role_policy|PutRolePolicy|attach_role_policy|AttachRolePolicy|"
    r"update_assume_role_policy|UpdateAssumeRolePolicy|create_user|CreateUser|create_access_key|CreateAccessKey|"
    r"create_login_profile|CreateLoginProfile|add_user_to_group|AddUserToGroup|attach_user_policy|AttachUserPolicy|"
    r"put_user_policy|PutUserPolicy|create_service_specific_credential|CreateServiceSpecificCredential)\b"
)


def read_parameters(data: Any, path: str) -> tuple[Parameter, ...]:
    """The template's `Parameters`, each with its type, Default, NoEcho and AllowedValues."""
    params = table_in(data, "Parameters")
    result = []
    for name, spec in params.items():
        spec = spec if isinstance(spec, dict) else {}
        default = spec.get("Default")
        allowed = spec.get("AllowedValues")
        no_echo = spec.get("NoEcho")
        result.append(
            Parameter(
                name=str(name),
                loc=Location(path, *key_pos_in(params, name), f"Parameters/{name}"),
                type=text_in(spec, "Type", "String"),
                default=None if default is None else _scalar(default),
                no_echo=no_echo is True or (isinstance(no_echo, str) and no_echo.lower() == "true"),
                allowed_values=tuple(_scalar(v) for v in allowed) if isinstance(allowed, list) else (),
            )
        )
    return tuple(result)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # a CommaDelimitedList default; nested containers are not values
        return ",".join(_scalar(v) for v in value if not isinstance(v, list | dict))
    return str(value) if not isinstance(value, dict) else ""


def read_resources(resources: dict[str, Any], path: str, renderer: Renderer) -> tuple[StackResource, ...]:
    """Every resource of the stack, with what decides whether access outlives it."""
    result = []
    for rid, body in resources.items():
        if not isinstance(body, dict):
            continue  # reported by the role loader
        kind = text_in(body, "Type")
        props = table_in(body, "Properties")
        result.append(
            StackResource(
                logical_id=str(rid),
                type=kind,
                loc=Location(path, *key_pos_in(resources, rid), f"Resources/{rid}"),
                deletion_policy=text_in(body, "DeletionPolicy"),
                update_replace_policy=text_in(body, "UpdateReplacePolicy"),
                attaches_to=_attaches_to(kind, props, renderer),
                iam_mentions=_iam_mentions(kind, props, renderer),
            )
        )
    return tuple(result)


def _attaches_to(kind: str, props: dict[str, Any], renderer: Renderer) -> tuple[tuple[str, str], ...]:
    return tuple(
        (key, rendered.text)
        for key in _ATTACHING.get(kind, ())
        if key in props
        for rendered in renderer.items(props[key], pos_in(props, key))
    )


def _iam_mentions(kind: str, props: dict[str, Any], renderer: Renderer) -> tuple[str, ...]:
    if _CUSTOM.match(kind):
        found: list[str] = []
        _walk_words(props, renderer, found)
        return tuple(dict.fromkeys(found))
    if kind in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
        code = table_in(props, "Code").get("ZipFile") if kind == "AWS::Lambda::Function" else props.get("InlineCode")
        text = "\n".join(r.text for r in renderer.texts(code))
        return tuple(dict.fromkeys(m.group(0) for m in _IAM_CALLS.finditer(text)))
    return ()


def _walk_words(props: Any, renderer: Renderer, found: list[str]) -> None:
    """Property names and values of a custom resource that speak of IAM (ServiceToken aside).

    Iterative: templates may nest up to the parser's depth limit, deeper than Python recursion.
    """
    stack: list[tuple[Any, str]] = [(props, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict) and not is_intrinsic(value):
            for key, item in reversed(list(value.items())):
                here = f"{where}.{key}" if where else str(key)
                if key == "ServiceToken":
                    continue
                if _IAM_WORDS.search(str(key)):
                    found.append(here)
                else:
                    stack.append((item, here))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]") for index, item in reversed(list(enumerate(value))))
        else:
            for rendered in renderer.texts(value):
                if _IAM_WORDS.search(rendered.text) or ":iam::" in rendered.text:
                    found.append(f"{where}={rendered.text}" if where else rendered.text)
                    break


def session_duration(props: dict[str, Any], renderer: Renderer, locate: Locate) -> tuple[int | None, Location | None]:
    """`MaxSessionDuration` in seconds (a parameter's Default when it is a `!Ref`), and where it is."""
    if "MaxSessionDuration" not in props:
        return None, None
    raw = props["MaxSessionDuration"]
    loc = locate(pos_in(props, "MaxSessionDuration"), "Properties/MaxSessionDuration")
    for rendered in renderer.texts(raw):
        try:
            return int(float(rendered.text)), loc
        except (ValueError, OverflowError):  # not a number; inf or 1e999
            continue
    return None, loc
