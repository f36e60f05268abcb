"""BG022: the uninstall revokes access: nothing that grants access outlives the stack.

The stack's resources were read by the loaders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.model import DocumentKind, Location, PolicyOrigin, Role, StackResource

_KEEPING = {"Retain", "RetainExceptOnCreate"}
# IAM resources that are, or grant, access; one of them kept after the stack is access left behind.
_ACCESS_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
        "AWS::IAM::User",
        "AWS::IAM::AccessKey",
        "AWS::IAM::LoginProfile",
        "AWS::IAM::Group",
        "AWS::IAM::UserToGroupAddition",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::OIDCProvider",
        "AWS::IAM::SAMLProvider",
    }
)
_LONG_LIVED = {
    "AWS::IAM::User": (
        "the stack creates IAM user '{id}': a user's credentials (access keys, a console password) do not expire with a "
        "session and can be copied out of the account, and if anyone adds keys, MFA devices or policies to it "
        "outside the stack, deleting the stack fails and the user stays",
        "give break-glass access through the stack's role (temporary credentials) instead of a user",
    ),
    "AWS::IAM::AccessKey": (
        "the stack creates access key '{id}': a long-term secret that keeps working until someone deletes it, whoever "
        "copied it from the stack's outputs",
        "remove the access key; assume the break-glass role for temporary credentials instead",
    ),
    "AWS::IAM::LoginProfile": (
        "the stack creates a console password ('{id}') for an IAM user: a long-term credential, not a session",
        "remove the login profile; use the break-glass role from the console (switch role) instead",
    ),
}


def _kept(deletion: str, replace: str) -> str:
    """'DeletionPolicy: Retain' / 'UpdateReplacePolicy: Retain' as written, '' when neither keeps it."""
    kept = [f"DeletionPolicy: {deletion}"] if deletion.split(" ")[0] in _KEEPING else []
    kept += [f"UpdateReplacePolicy: {replace}"] if replace.split(" ")[0] == "Retain" else []
    return " and ".join(kept)


def _kept_at(deletion: str, deletion_loc: Location | None, replace_loc: Location | None, owner: Location) -> Location:
    """The line that keeps a resource (DeletionPolicy when it does, else UpdateReplacePolicy): the one to edit."""
    keeps_on_delete = deletion.split(" ")[0] in _KEEPING
    return (deletion_loc if keeps_on_delete else replace_loc) or owner


def _resource_kept_at(resource: StackResource) -> Location:
    return _kept_at(
        resource.deletion_policy, resource.deletion_policy_loc, resource.update_replace_policy_loc, resource.loc
    )


@predicate
def access_outlives_stack(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Anything in a break-glass stack that keeps access after the stack is deleted, or grants it
    to principals the stack does not own."""
    doc = subject.document
    roles = [r for r in doc.roles if r.break_glass]
    # Any stack that creates IAM principals or grants access: an IAM user with a key and an admin
    # policy is the worst break-glass stack, whatever its roles are called.
    if doc.kind != DocumentKind.TEMPLATE or not (roles or any(r.type in _ACCESS_TYPES for r in doc.stack_resources)):
        return
    resources = {r.logical_id: r for r in doc.stack_resources}
    reported: set[str] = set()
    for role in roles:
        kept = _kept(role.deletion_policy, role.update_replace_policy)
        if kept:
            reported.add(role.name)
            yield Hit(
                _kept_at(role.deletion_policy, role.deletion_policy_loc, role.update_replace_policy_loc, role.loc),
                f"break-glass role '{role.name}' has {kept}: deleting (or replacing) the stack leaves the role, its "
                "policies and its trust in the customer's account, so the vendor keeps access after the incident",
                f"remove {kept} from {role.name} (the default, Delete, removes it with the stack)",
                f"retain:{role.name}",
            )
        for resource, what in _owned_by(role, resources):
            kept = _kept(resource.deletion_policy, resource.update_replace_policy)
            if kept and resource.logical_id not in reported:
                reported.add(resource.logical_id)
                yield Hit(
                    _resource_kept_at(resource),
                    f"{what} '{resource.logical_id}' of break-glass role '{role.name}' has {kept}: it stays in the "
                    "account after the uninstall, holding break-glass permissions that can be attached again",
                    f"remove {kept} from {resource.logical_id}",
                    f"retain:{resource.logical_id}",
                )
    for resource in doc.stack_resources:
        yield from _resource_hits(resource, resources, reported)


def _owned_by(role: Role, resources: dict[str, StackResource]) -> Iterator[tuple[StackResource, str]]:
    for policy in role.policies:
        if policy.origin is PolicyOrigin.ATTACHED and policy.name in resources:
            yield resources[policy.name], "policy"
    for policy in role.boundary.policies if role.boundary else ():
        if policy.origin is PolicyOrigin.ATTACHED and policy.name in resources:
            yield resources[policy.name], "permissions boundary"


def _resource_hits(resource: StackResource, resources: dict[str, StackResource], reported: set[str]) -> Iterator[Hit]:
    rid = resource.logical_id
    kept = _kept(resource.deletion_policy, resource.update_replace_policy)
    if kept and (resource.type in _ACCESS_TYPES or resource.grants_outside) and rid not in reported:
        yield Hit(
            _resource_kept_at(resource),
            f"{resource.type} '{rid}' has {kept}: deleting the stack leaves it, with the access it grants"
            + (f" to {', '.join(resource.grants_outside)}" if resource.grants_outside else ""),
            f"remove {kept} from {rid}",
            f"retain:{rid}",
        )
    if resource.type in _LONG_LIVED:
        message, fix = _LONG_LIVED[resource.type]
        yield Hit(resource.loc, message.format(id=rid), fix, f"long-lived:{rid}")
    outside = [(key, name) for key, name in resource.attaches_to if not _in_stack(name, resources)]
    if outside:
        targets = ", ".join(f"'{name}'" for _, name in outside)
        kinds = sorted({_principal_kind(key) for key, _ in outside})
        yield Hit(
            resource.loc,
            f"{resource.type} '{rid}' grants access to {' / '.join(kinds)} {targets}, which this stack does not "
            "create: the access is used through a principal whose trust and lifetime the break-glass stack does not "
            "control, so the customer cannot see who holds it by reading the stack",
            "attach the policy to the stack's break-glass role only",
            f"outside:{rid}",
        )
    if resource.iam_mentions:
        mentions = ", ".join(resource.iam_mentions[:3]) + (" ..." if len(resource.iam_mentions) > 3 else "")
        if resource.type.startswith(("AWS::Lambda::", "AWS::Serverless::")):
            what = f"function '{rid}' calls IAM in its inline code ({mentions})"
        else:
            what = f"custom resource '{rid}' ({resource.type}) is given IAM inputs ({mentions})"
        yield Hit(
            resource.loc,
            f"{what}: roles, users, keys or trusts created that way are not resources of the stack, so deleting "
            "the stack does not remove them unless the code does, and bglint cannot see that code",
            "declare the IAM roles and policies as resources of this stack; if the code provably cleans up on "
            "Delete, suppress this finding with that reason",
            f"custom:{rid}",
        )


def _in_stack(name: str, resources: dict[str, StackResource]) -> bool:
    match = re.fullmatch(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}", name)
    return match is not None and match.group(1) in resources


def _principal_kind(key: str) -> str:
    return {"Roles": "role", "RoleName": "role", "Users": "user", "UserName": "user"}.get(key, "group")
