"""An account's IAM in the shape of GetAccountAuthorizationDetails, both ways.

`collect` picks the break-glass roles out of the pages of `iam:GetAccountAuthorizationDetails`
(read live, or the JSON `aws iam get-account-authorization-details` saves, for `bglint audit
--from`) and keeps the managed policies the pages carry (their default version). `raw_roles`
then resolves each role's managed policies: an AWS-managed one from bglint's pinned copy
first (not from the account), then from the pages, then from `fallback` (live: GetPolicy and
GetPolicyVersion; a dump: unknown, reported as BG009). `details_of` writes roles back in that
shape: the per-account snapshot SARIF results point at, which `--from` reads again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bglint.iam.managed import managed_policy
from bglint.load.aws import AWS_MANAGED, RawPolicy, RawRole, decode_document

Choose = Callable[[dict[str, Any]], str]  # a role's details -> why it is break-glass, "" if it is not
Fallback = Callable[[str], RawPolicy]  # a managed policy the pages do not carry, by ARN

# The role keys the model needs (GetRole's, except MaxSessionDuration, which comes from ListRoles).
_ROLE_KEYS = (
    "Path",
    "RoleName",
    "RoleId",
    "Arn",
    "CreateDate",
    "AssumeRolePolicyDocument",
    "PermissionsBoundary",
    "Tags",
    "RoleLastUsed",
    "MaxSessionDuration",
)


@dataclass
class Details:
    roles: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (role details, reason)
    policies: dict[str, RawPolicy] = field(default_factory=dict)  # by ARN


def collect(pages: Iterable[dict[str, Any]], choose: Choose, path_prefix: str = "/") -> Details:
    """The chosen roles of the pages and every managed policy they carry; the rest is dropped as it is read."""
    found = Details()
    for page in pages:
        for role in _dicts(page.get("RoleDetailList")):
            if str(role.get("Path", "/")).startswith(path_prefix) and (reason := choose(role)):
                found.roles.append((role, reason))
        for policy in _dicts(page.get("Policies")):
            raw = _default_version(policy)
            found.policies[raw.arn] = raw
    return found


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The mappings of a list (a saved dump may hold anything)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def raw_roles(details: Details, fallback: Fallback, durations: dict[str, int] | None = None) -> list[RawRole]:
    """The chosen roles as `RawRole` records, in name order; `durations`: MaxSessionDuration by role name."""
    resolved: dict[str, RawPolicy] = {}

    def resolve(arn: str) -> RawPolicy:
        if arn not in resolved:
            resolved[arn] = _pinned(arn) or details.policies.get(arn) or fallback(arn)
        return resolved[arn]

    records = []
    for role, reason in sorted(details.roles, key=lambda item: str(item[0].get("RoleName", ""))):
        info = {key: role[key] for key in _ROLE_KEYS if key in role}
        if "MaxSessionDuration" not in info and durations and info.get("RoleName") in durations:
            info["MaxSessionDuration"] = durations[info["RoleName"]]
        inline = tuple(
            RawPolicy(str(p.get("PolicyName", "")), document=p.get("PolicyDocument"))
            for p in _dicts(role.get("RolePolicyList"))
        )
        attached = tuple(resolve(str(p.get("PolicyArn", ""))) for p in _dicts(role.get("AttachedManagedPolicies")))
        boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", "")
        records.append(RawRole(info, inline, attached, resolve(boundary_arn) if boundary_arn else None, reason))
    return records


def unknown_policy(arn: str) -> RawPolicy:
    """A managed policy whose document is not available (reported as BG009, never assumed harmless)."""
    return RawPolicy(arn.rsplit("/", 1)[-1], arn)


def _pinned(arn: str) -> RawPolicy | None:
    document = managed_policy(arn) if AWS_MANAGED.match(arn) else None
    return RawPolicy(arn.rsplit("/", 1)[-1], arn, document) if document is not None else None


def _default_version(policy: dict[str, Any]) -> RawPolicy:
    arn = str(policy.get("Arn", ""))
    name = str(policy.get("PolicyName") or arn.rsplit("/", 1)[-1])
    for version in _dicts(policy.get("PolicyVersionList")):
        if version.get("IsDefaultVersion"):
            return RawPolicy(name, arn, version.get("Document"), str(version.get("VersionId", "")))
    return RawPolicy(name, arn)


# -- writing the shape back: the per-account snapshot ------------------------------------------


def details_of(roles: Iterable[RawRole]) -> dict[str, Any]:
    """The roles (and the managed policies they use) as GetAccountAuthorizationDetails returns them."""
    role_list = []
    policies: dict[str, dict[str, Any]] = {}
    for raw in roles:
        info = {key: _plain(value) for key, value in raw.role.items()}
        info["AssumeRolePolicyDocument"] = decode_document(raw.role.get("AssumeRolePolicyDocument"))
        info["RolePolicyList"] = [
            {"PolicyName": p.name, "PolicyDocument": decode_document(p.document)} for p in raw.inline
        ]
        info["AttachedManagedPolicies"] = [{"PolicyName": p.name, "PolicyArn": p.arn} for p in raw.attached]
        role_list.append(info)
        for policy in (*raw.attached, *((raw.boundary,) if raw.boundary else ())):
            if policy.document is not None and policy.arn not in policies:
                policies[policy.arn] = _policy_details(policy)
    return {"RoleDetailList": role_list, "Policies": [policies[arn] for arn in sorted(policies)]}


def role_lines(text: str, arns: Iterable[str]) -> dict[str, int]:
    """The line of each role's own `"Arn": "<arn>"` in a details JSON text (its first occurrence)."""
    lines = {}
    for arn in arns:
        found = re.search(r'"Arn"\s*:\s*' + re.escape(json.dumps(arn)), text)
        if found:
            lines[arn] = text.count("\n", 0, found.start()) + 1
    return lines


def _policy_details(policy: RawPolicy) -> dict[str, Any]:
    version = policy.version or "v1"
    return {
        "PolicyName": policy.name,
        "Arn": policy.arn,
        "DefaultVersionId": version,
        "PolicyVersionList": [
            {"Document": decode_document(policy.document), "VersionId": version, "IsDefaultVersion": True}
        ],
    }


def _plain(value: Any) -> Any:
    """A value JSON can hold: datetimes as ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
