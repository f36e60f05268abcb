"""Facts about a whole CloudFormation stack that the break-glass workflow rules read.

Parameters (for Quick-create links), every resource with its DeletionPolicy and
UpdateReplacePolicy, the principals IAM policies attach to, and signs that a custom
resource or an inline Lambda function manages IAM outside CloudFormation. Built from the
located nodes of `cfn_yaml`; nothing here judges.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from bglint.load.intrinsics import Renderer, is_intrinsic
from bglint.model import Location, Parameter, StackResource
from bglint.parse.nodes import Pos, key_pos_in, pos_in, table_in, text_in
from bglint.regex import Regex

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
_CUSTOM = Regex(r"^(?:Custom::.+|AWS::CloudFormation::CustomResource)$")
# Words in a custom resource's properties that say it creates or changes IAM principals.
_IAM_WORDS = Regex(
    r"role|polic(?:y|ies)|assume|trust|principal|iam[:_]|accesskey|access_key|\busers?(?:name)?\b", re.IGNORECASE
)
# IAM API calls in inline Lambda code (boto3 snake case, SDK camel case) that create principals
# or credentials, or widen who may use a role; CloudFormation never deletes what they make.
# Each name is matched as boto3 writes it (create_role), as the AWS SDK for JavaScript v2
# (iam.createRole) and v3 (CreateRoleCommand) do, and as boto3's resource API does
# (iam.Role(...).attach_policy, User(...).create_access_key_pair, AssumeRolePolicy(...).update).
_IAM_CALL_NAMES = (
    "create_role",
    "put_role_policy",
    "attach_role_policy",
    "update_assume_role_policy",
    "create_user",
    "create_access_key",
    "create_access_key_pair",
    "create_login_profile",
    "update_login_profile",
    "add_user_to_group",
    "attach_user_policy",
    "put_user_policy",
    "attach_group_policy",
    "put_group_policy",
    "create_policy_version",
    "create_service_specific_credential",
    "create_instance_profile",
    "add_role_to_instance_profile",
)
_IAM_CALLS = Regex(
    r"\b(?:"
    + "|".join(name.replace("_", "_?") for name in _IAM_CALL_NAMES)
    + r")(?:Command)?\b|\b(?:Role|User|Group)\([^)]*\)\s*\.\s*(?:attach_policy|add_group|create_policy|put_policy)\b"
    r"|\bAssumeRolePolicy\([^)]*\)\s*\.\s*update\b",
    re.IGNORECASE,
)
# Resource policies, by the property that holds the document.
_RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
    "AWS::ECR::Repository": "RepositoryPolicyText",
    "AWS::Lambda::Permission": "Principal",
    "AWS::Events::EventBusPolicy": "Statement",
}
_OWN_ACCOUNT = Regex(r"\$\{AWS::AccountId\}|^arn:[^:]*:iam::\$\{AWS::AccountId\}:")


def read_parameters(data: Any, path: str) -> tuple[Parameter, ...]:
    """The template's `Parameters`, each with its type, Default, NoEcho, AllowedValues and AllowedPattern."""
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
                allowed_pattern=text_in(spec, "AllowedPattern"),
                max_value=_number(spec.get("MaxValue")),
            )
        )
    return tuple(result)


def _number(value: Any) -> float | None:
    """A number written as a number or as text (YAML and JSON writers quote them); else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # not a number; an int too large for a float
        return None
    return number if math.isfinite(number) else None


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
                deletion_policy=keeping_policy(body.get("DeletionPolicy"), renderer),
                update_replace_policy=keeping_policy(body.get("UpdateReplacePolicy"), renderer),
                deletion_policy_loc=written_at(body, "DeletionPolicy", path, rid),
                update_replace_policy_loc=written_at(body, "UpdateReplacePolicy", path, rid),
                attaches_to=_attaches_to(kind, props, renderer),
                iam_mentions=_iam_mentions(kind, props, renderer),
                grants_outside=_grants_outside(kind, props, renderer),
            )
        )
    return tuple(result)


def _grants_outside(kind: str, props: dict[str, Any], renderer: Renderer) -> tuple[str, ...]:
    """AWS principals a resource policy names that are not this account (or a service)."""
    if kind not in _RESOURCE_POLICIES:
        return ()
    found: list[str] = []
    todo = [props.get(_RESOURCE_POLICIES[kind])]
    while todo and len(found) < 8:
        value = todo.pop()
        if isinstance(value, str) and kind == "AWS::Lambda::Permission":
            found += [value] if re.fullmatch(r"\d{12}|arn:.*", value) else []
        elif isinstance(value, str):
            parsed = _json(value)
            todo += [parsed] if parsed is not None else []
        elif isinstance(value, dict) and "AWS" in value and not is_intrinsic(value):
            found += [r.text for r in renderer.items(value["AWS"]) if not _OWN_ACCOUNT.search(r.text)]
        elif isinstance(value, dict):
            todo += list(value.values())
        elif isinstance(value, list):
            todo += value
    return tuple(dict.fromkeys(found))


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text.lstrip().startswith("{") else None
    except ValueError:
        return None


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


_KEEP = ("Retain", "RetainExceptOnCreate", "Snapshot")


def keeping_policy(raw: Any, renderer: Renderer) -> str:
    """A DeletionPolicy/UpdateReplacePolicy as written; with `AWS::LanguageExtensions` it may be
    an intrinsic: then the value that keeps the resource when any branch or allowed value does
    ("Retain (by !If ...)"), and a parameter with no AllowedValues may be Retain."""
    if isinstance(raw, str) or raw is None:
        return raw or ""
    options = {r.text for r in renderer.texts(raw)}
    ref = raw.get("Ref") if isinstance(raw, dict) else None
    if isinstance(ref, str):
        allowed = renderer.allowed.get(ref)
        options |= set(allowed) if allowed else {"Retain"}
        why = f"parameter {ref} may be {'Retain' if not allowed else 'set to it'}"
    else:
        why = f"{next(iter(raw), 'an intrinsic')} may choose it"
    kept = next((value for value in _KEEP if value in options), "")
    return f"{kept} ({why})" if kept else next(iter(options), "")


def written_at(body: dict[str, Any], key: str, path: str, rid: str) -> Location | None:
    """Where a resource attribute (DeletionPolicy...) is written; None when it is not."""
    return Location(path, *pos_in(body, key), f"Resources/{rid}/{key}") if key in body else None


def session_duration(
    props: dict[str, Any], renderer: Renderer, locate: Locate
) -> tuple[int | None, Location | None, str]:
    """`MaxSessionDuration` in seconds (a parameter's Default when it is a `!Ref`), where it is,
    and the first `${...}` placeholder it may render to instead (a value bglint does not have)."""
    if "MaxSessionDuration" not in props:
        return None, None, ""
    raw = props["MaxSessionDuration"]
    loc = locate(pos_in(props, "MaxSessionDuration"), "Properties/MaxSessionDuration")
    longest: int | None = None  # every Fn::If branch may be deployed: the longest counts
    placeholder = ""
    for rendered in renderer.texts(raw):
        try:
            seconds = int(float(rendered.text))
        except (ValueError, OverflowError):  # not a number; inf or 1e999
            placeholder = placeholder or (rendered.text if "${" in rendered.text else "")
            continue
        longest = seconds if longest is None else max(longest, seconds)
    return longest, loc, placeholder
