"""Predicates about roles and app configs, one function each, named for what they decide.

A predicate looks at a Subject and yields a Hit for every violation it finds, each
saying what the role can do and the smallest fix. Predicates never open files.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.iam.catalog import Catalog
from bglint.iam.effective import Scope, union
from bglint.iam.scoping import network_scoping, tag_scoping
from bglint.model import NUON_TEMPLATE, BoundaryState, Location, PolicyOrigin, SourceKind

_TEMPLATE = re.compile(NUON_TEMPLATE)
_INSTALL_ID = re.compile(r"\{\{-?\s*\.nuon\.install\.id\s*-?\}\}")
_NETWORK_CHANGE = re.compile(r"vpc|subnet|route|gateway|securitygroup|networkacl|dhcpoptions|peering", re.I)
_NETWORK_RESOURCES = frozenset({"subnet", "vpc", "network-interface", "instance", "security-group", "route-table"})
_ESCALATION_ON_SELF = (
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
)
_BOUNDARY_REWRITE = ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")
_COMPUTE_LAUNCH = (
    "ec2:RunInstances",
    "lambda:CreateFunction",
    "ecs:RunTask",
    "glue:CreateJob",
    "cloudformation:CreateStack",
    "codebuild:CreateProject",
    "sagemaker:CreateNotebookInstance",
    "eks:CreateNodegroup",
)
_SAMPLE_ACCOUNT = "123456789012"
# Services named first when a finding summarises many: the ones an install is made of.
_PROMINENT = ("ec2", "iam", "s3", "rds", "eks", "ecs", "lambda", "kms", "secretsmanager", "dynamodb")


# -- helpers ---------------------------------------------------------------------------


_LEVEL_ORDER = ("Permissions management", "Write", "Tagging", "Read", "List")


def _named(subject: Subject, bits: int, most: int = 4) -> str:
    """`ec2:CreateRoute, ec2:DeleteVpc and 12 more`: actions the policies name, then changes, first."""
    catalog = subject.catalog
    services = catalog.services_in(bits)
    if len(services) > most:
        return f"in {len(services)} services, among them {_services(set(services))}"
    ordered: list[str] = []
    left = bits
    for group in (subject.written_bits, *(catalog.level_bits(level) for level in _LEVEL_ORDER), bits):
        taken = catalog.first_keys(left & group, most - len(ordered))
        ordered += taken
        for key in taken:
            left &= ~catalog.bit(key)
        if len(ordered) == most:
            break
    count = bits.bit_count()
    shown = ", ".join(catalog.canonical(key) for key in ordered)
    return f"{shown} and {count - most} more" if count > most else shown


def _services(services: set[str]) -> str:
    named = [s for s in _PROMINENT if s in services]
    return ", ".join(named or sorted(services)[:6])


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _where(scope: Scope) -> str:
    policy = scope.policy
    if policy.origin is PolicyOrigin.AWS_MANAGED:
        return f"AWS-managed policy {policy.name}"
    sid = f" statement '{scope.statement.sid}'" if scope.statement.sid else ""
    return f"policy '{policy.name}'{sid}"


def _rendered_name(name: str) -> str:
    """A Nuon role name as deployed: the install id is 26 characters."""
    return _TEMPLATE.sub("", _INSTALL_ID.sub("x" * 26, name))


# -- role predicates -------------------------------------------------------------------


@predicate
def grants_admin(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Admin-equivalent on every resource: all actions, all but a few, or full IAM write."""
    perms = subject.permissions
    what = _admin_reason(subject, float(params.get("share", 0.9)))
    if not what:
        return
    held = perms.unconditional_bits
    contributing = [s for s in perms.allows if s.on_every_resource and s.unconditional and s.bits & held]
    source = max(contributing, key=lambda s: (s.bits & held).bit_count())
    yield Hit(
        _place(source),
        f"{what}, through {_where(source)}",
        "grant the specific actions the runbook needs instead of an all-powerful policy",
        "admin",
    )


@predicate
def lacks_boundary(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    if role.boundary is None:
        yield Hit(
            role.loc,
            "has no permissions boundary",
            "set a permissions boundary that caps the role to the install's resources",
            "boundary",
        )
    elif role.boundary.absent_unless:
        yield Hit(
            role.boundary.loc,
            f"has a permissions boundary only when condition '{role.boundary.absent_unless}' holds; otherwise none",
            "make the boundary unconditional",
            "boundary",
        )
    elif role.boundary.state is BoundaryState.EMPTY:
        written = role.boundary.reference or '""'
        yield Hit(
            role.boundary.loc,
            f"has an empty permissions boundary ({written}), which bounds nothing",
            "point the boundary at a policy document that caps the role",
            "boundary",
        )


def _admin_reason(subject: Subject, share: float) -> str:
    """Why the role is admin-equivalent on every resource, or "" when it is not."""
    catalog = subject.catalog
    held = subject.permissions.unconditional_bits
    every = catalog.all_bits
    iam_write = _iam_write_bits(catalog)
    total, count = every.bit_count(), held.bit_count()
    if held == every:
        return "can perform every action on every resource"
    if count >= share * total:
        missing = catalog.services_in(every & ~held)
        return f"can perform {count} of {total} actions on every resource (all but {', '.join(missing[:5])})"
    if iam_write & ~held == 0:
        return "holds full IAM write on every resource (iam:CreateRole, iam:AttachRolePolicy, ...): it can grant itself anything"
    return ""


@functools.cache
def _iam_write_bits(catalog: Catalog) -> int:
    return catalog.to_bits(catalog.at_levels("iam", ["Write", "Permissions management"]))


@functools.cache
def _escalation_bits(catalog: Catalog) -> int:
    """The IAM actions `can_escape_boundary` asks about (launching compute needs iam:PassRole)."""
    return catalog.to_bits(
        a.lower() for a in (*_ESCALATION_ON_SELF, *_BOUNDARY_REWRITE, "iam:CreateRole", "iam:PassRole")
    )


@functools.cache
def _network_change_bits(catalog: Catalog) -> int:
    """EC2 writes to VPCs, subnets, routes, gateways and security groups."""
    return catalog.to_bits(k for k in catalog.at_levels("ec2", ["Write"]) if _NETWORK_CHANGE.search(k))


@functools.cache
def _in_subnet_bits(catalog: Catalog) -> int:
    """EC2 actions on resources that live in subnets (List-level ones excepted)."""
    return catalog.to_bits(catalog.on_resource_types("ec2", _NETWORK_RESOURCES)) & ~catalog.level_bits("List")


def _place(scope: Scope) -> Location:
    """Where to point for a grant: the statement, or the reference to an AWS-managed policy."""
    return scope.policy.loc if scope.policy.origin is PolicyOrigin.AWS_MANAGED else scope.statement.loc


def _loose_by_place(scopes: Iterable[Scope], loose_of: Callable[[Scope], int]) -> Iterator[tuple[Location, Scope, int]]:
    """Loose actions per statement; an AWS-managed policy's statements count as one place."""
    merged: dict[Location, tuple[Scope, int]] = {}
    for scope in scopes:
        loose = loose_of(scope)
        if loose:
            first, before = merged.get(_place(scope), (scope, 0))
            merged[_place(scope)] = (first, before | loose)
    for place, (scope, actions) in merged.items():
        yield place, scope, actions


@predicate
def lacks_tag_scope(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Allows on actions that can take a resource-tag condition but are not scoped to the install."""
    perms = subject.permissions
    keys = subject.settings.tag_keys
    scoping = tag_scoping(perms, keys)
    scopable = subject.catalog.tag_scopable_bits
    for place, scope, loose in _loose_by_place(
        perms.allows, lambda s: scoping.loose(s, perms.effective_bits(s) & scopable)
    ):
        yield Hit(
            place,
            f"allows {_plural(loose.bit_count(), 'tag-scopable action')} ({_named(subject, loose)}) on resources that are not the install's, through {_where(scope)}",
            f"add a Condition StringEquals aws:ResourceTag/{keys[0]} (the install id) or name the install's resource ARNs",
            f"tag:{place.logical}",
        )


@predicate
def lacks_subnet_scope(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """EC2 actions that act in subnets, not limited to the install's subnets or VPC."""
    perms = subject.permissions
    ids = subject.settings.subnet_ids + subject.settings.vpc_ids
    scoping = network_scoping(perms, ids)
    in_subnets = _in_subnet_bits(subject.catalog)
    target = f"the configured subnets/VPCs ({', '.join(ids)})" if ids else "the install's subnets or VPC"
    for place, scope, loose in _loose_by_place(
        perms.allows, lambda s: scoping.loose(s, perms.effective_bits(s) & in_subnets)
    ):
        yield Hit(
            place,
            f"allows {_plural(loose.bit_count(), 'EC2 action')} that act in subnets ({_named(subject, loose)}) in any subnet of the customer's network, through {_where(scope)}",
            f"add a Condition on ec2:Subnet or ec2:Vpc limiting it to {target}",
            f"subnet:{place.logical}",
        )


@predicate
def boundary_does_not_bound(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    perms = subject.permissions
    if role is None or role.boundary is None or perms.boundary_allows is None:
        return
    catalog = subject.catalog
    on_star = union(s.bits for s in perms.boundary_allows if s.on_every_resource and s.unconditional)
    on_star &= ~union(s.bits for s in perms.boundary_denies if s.certain_deny)
    if on_star == catalog.all_bits:
        why = "allows every action on every resource"
    elif catalog.expand_bits("iam:*") & ~on_star == 0:
        why = "allows iam:* on every resource, so the role can lift its own boundary"
    else:
        # A boundary that lets every granted change through, on every resource and with no
        # condition, removes nothing. One that mirrors a read-only role is fine.
        granted = union(s.bits for s in perms.allows) & ~perms.denied_bits
        changes = granted & ~catalog.level_bits("List") & ~catalog.level_bits("Read")
        if not changes or granted & ~on_star:
            return
        why = "lets every action the role's own policies allow through, on every resource, so it removes nothing"
    yield Hit(
        role.boundary.loc,
        f"has a permissions boundary that {why}",
        "narrow the boundary to the services and install-tagged resources the role needs, without iam:*",
        "bound",
    )


@predicate
def can_escape_boundary(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """The role can remove or rewrite its boundary, grant itself more, or hand a role to compute."""
    role = subject.role
    assert role is not None
    perms = subject.permissions
    if _admin_equivalent(subject):
        return  # BG001 already says the role can do everything
    if not perms.named_bits & _escalation_bits(subject.catalog):
        return  # no Allow names any of the IAM actions below: nothing to ask about
    self_arn = f"arn:aws:iam::{_SAMPLE_ACCOUNT}:role/{_rendered_name(role.role_name or role.name)}"
    found = [a for a in _ESCALATION_ON_SELF if perms.can(a, self_arn).unconditional]
    boundary_names = [p.name for p in (role.boundary.policies if role.boundary else ())]
    for name in boundary_names or ["*"]:
        arn = f"arn:aws:iam::{_SAMPLE_ACCOUNT}:policy/{name}" if name != "*" else "*"
        found += [a for a in _BOUNDARY_REWRITE if perms.can(a, arn).unconditional and a not in found]
    create = perms.can("iam:CreateRole", "*")
    if create.allowed and not any(c.key.lower() == "iam:permissionsboundary" for c in create.conditions):
        found.append("iam:CreateRole (without an iam:PermissionsBoundary condition)")
    if perms.can("iam:PassRole", "*").unconditional:
        launch = [a for a in _COMPUTE_LAUNCH if perms.can(a, "*").unconditional]
        if launch:
            found.append(f"iam:PassRole on * with {', '.join(launch[:3])}")
    if found:
        yield Hit(
            role.loc,
            f"can escalate its own access: {'; '.join(found)}",
            "remove these IAM actions or limit them to resources other than this role and its boundary",
            "escape",
        )


def _admin_equivalent(subject: Subject) -> bool:
    return bool(_admin_reason(subject, 0.9))


@predicate
def exceeds_access_level(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    if role.level not in ("component", "runner", "sandbox"):
        return
    perms = subject.permissions
    changes = perms.all_effective_bits & _network_change_bits(subject.catalog)
    if changes:
        yield Hit(
            role.loc,
            f"can change the network, which a '{role.level}' role should not ({role.level_source}): {_named(subject, changes)}",
            "drop the VPC/subnet/route/gateway/security-group write actions or declare the role 'network'",
            "level",
        )


@predicate
def uses_unknown_action(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    perms = subject.permissions
    boundary = (perms.boundary_allows or ()) + perms.boundary_denies
    for scope in perms.allows + perms.denies + boundary:
        if scope.policy.origin is PolicyOrigin.AWS_MANAGED:
            continue  # AWS's own documents name retired services; the user cannot fix those
        for pattern, loc in scope.unknown:
            hint = subject.catalog.suggest(pattern)
            detail = f"names '{pattern}', which is not an IAM action in the catalog"
            if hint:
                yield Hit(loc, f"{detail} (did you mean '{hint}'?)", f"replace it with '{hint}'", f"unknown:{pattern}")
            else:
                yield Hit(loc, detail, "check the service prefix and action name", f"unknown:{pattern}")


@predicate
def has_unknown_policy(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    for policy in subject.permissions.unknown_policies:
        if policy.managed_policy_name:
            continue  # BG010 reports a managed_policy_name that names no AWS-managed policy
        what = policy.arn or policy.name
        yield Hit(
            policy.loc,
            f"attaches {what}, whose document bglint does not have; it is not assumed harmless",
            "define the document in the template or app config (or use an AWS-managed policy bglint knows) so it can be checked",
            f"policy:{what}",
        )
    boundary = role.boundary
    if boundary is not None and boundary.state is BoundaryState.UNKNOWN:
        yield Hit(
            boundary.loc,
            f"has a permissions boundary ({boundary.reference}) whose document bglint does not have",
            "define the boundary in the template or app config so it can be checked",
            "boundary-unknown",
        )


@predicate
def misuses_managed_policy_name(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    for policy in role.policies:
        name = policy.managed_policy_name
        if name.startswith("arn:"):
            yield Hit(
                policy.loc,
                f"gives managed_policy_name '{name}' as an ARN; Nuon prefixes arn:aws:iam::aws:policy/, producing a broken ARN",
                "give the AWS-managed policy's name only, e.g. 'ReadOnlyAccess'",
                f"arn:{name}",
            )
        elif name and policy.has_contents:
            yield Hit(
                policy.loc,
                f"gives both managed_policy_name '{name}' and contents in one policy entry",
                "split them into two [[role.policies]] entries",
                f"both:{name}",
            )
        elif name and not policy.document_known:
            yield Hit(
                policy.loc,
                f"names '{name}', which is not an AWS-managed policy bglint knows (customer-managed policies cannot be named here)",
                "check the name against the AWS-managed policy list",
                f"unknown-managed:{name}",
            )


@predicate
def grants_nothing(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    if not role.policies:
        yield Hit(
            role.loc, "has no policies, so it grants nothing", "add the policies it needs or remove the role", "empty"
        )


@predicate
def role_name_too_long(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    limit = int(params.get("max", 64))
    rendered = _rendered_name(role.role_name)
    if len(rendered) > limit:
        yield Hit(
            role.loc,
            f"has a name that renders to {len(rendered)} characters (install id = 26), over IAM's {limit}",
            f"shorten the name by {len(rendered) - limit} characters",
            "name",
        )


# -- document predicates ---------------------------------------------------------------


@predicate
def names_missing_role(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    names = {role.name for role in subject.document.roles if role.source_kind == SourceKind.NUON_BREAK_GLASS}
    for ref in subject.document.role_references:
        if ref.name not in names:
            yield Hit(
                ref.loc,
                f"break_glass_role '{ref.name}' names no role of break_glass.toml",
                "use the exact `name` of a [[role]] in break_glass.toml",
                f"ref:{ref.name}",
            )


@predicate
def has_config_note(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    kind = params.get("kind", "unknown-key")
    for note in subject.document.notes:
        if note.kind == kind:
            yield Hit(note.loc, note.message, str(params.get("fix", "")), f"{kind}:{note.loc.path}:{note.loc.logical}")
