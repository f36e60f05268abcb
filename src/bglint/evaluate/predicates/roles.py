"""Predicates about roles and app configs, one function each, named for what they decide.

A predicate looks at a Subject and yields a Hit for every violation it finds, each
saying what the role can do and the smallest fix. Predicates never open files.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bglint.evaluate.arns import EscalationTargets, escalation_targets, rendered_name
from bglint.evaluate.registry import Predicate, predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.iam.catalog import Catalog
from bglint.iam.controls import blocked_grants
from bglint.iam.effective import Permissions, Scope, union
from bglint.iam.managed import ManagedPolicy, managed_provenance, suggest_managed
from bglint.iam.risk import change_bits, iam_write_bits, network_change_bits
from bglint.iam.scoping import network_scoping, tag_scoping
from bglint.model import BoundaryState, Location, NetworkKind, PolicyOrigin, SourceKind

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


def _on_gcp_and_azure(question: str) -> Callable[[Predicate], Predicate]:
    """A GCP or Azure role gets the same question answered by `bglint.clouds.questions.<question>`,
    in the cloud's own words; an AWS role, by the predicate itself."""

    def wrap(func: Predicate) -> Predicate:
        @functools.wraps(func)
        def for_any_cloud(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
            if subject.cloud is None:
                return func(subject, params)
            from bglint.clouds import questions  # read only when such a role is judged

            answer: Callable[..., Iterator[Hit]] = getattr(questions, question)
            assert subject.role is not None
            return answer(subject.cloud, subject.role, params)

        return for_any_cloud

    return wrap


# -- role predicates -------------------------------------------------------------------


@predicate
@_on_gcp_and_azure("admin")
def grants_admin(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Admin-equivalent on every resource: all actions, all but a few, or full IAM write."""
    perms = subject.permissions
    what = _admin_reason(subject, float(params.get("share", 0.9)))
    if not what:
        return
    assert subject.role is not None
    if blocked_grants(subject.role, subject.document.controls):
        return  # the organisation's control policies deny all of it: not admin there (BG032 says so)
    held = perms.unconditional_bits
    contributing = [s for s in perms.allows if s.on_every_resource and s.free_bits & held]
    source = max(contributing, key=lambda s: (s.free_bits & held).bit_count())
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
    elif role.boundary.state is BoundaryState.UNUSABLE:
        yield Hit(
            role.boundary.loc,
            f"has permissions_boundary '{role.boundary.reference}', an ARN: Nuon stores the boundary as a JSON "
            "document and cannot use an ARN, so nothing bounds this role",
            "write the boundary document itself (or a ./file.json reference to it) in permissions_boundary",
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
    iam_write = iam_write_bits(catalog)
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
def _in_subnet_bits(catalog: Catalog) -> int:
    """EC2 changes (Write, Permissions management, Tagging) whose requests carry ec2:Subnet or
    ec2:Vpc, so that such a condition can limit them to the install's network: network
    interfaces, instances, subnets, route tables, security groups, network ACLs, NAT gateways.
    Reads change nothing; instance actions (ec2:RebootInstances...) never carry those keys, so
    tags limit them (BG003)."""
    bits = catalog.expand_bits("ec2:*") & change_bits(catalog)
    return catalog.carrying_bits("ec2:subnet", bits) | catalog.carrying_bits("ec2:vpc", bits)


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
@_on_gcp_and_azure("project_wide")
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
@_on_gcp_and_azure("network_in_customer_network")
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
        count = loose.bit_count()
        yield Hit(
            place,
            f"allows {_plural(count, 'EC2 action')} that {'acts' if count == 1 else 'act'} in subnets ({_named(subject, loose)}) in any subnet of the customer's network, through {_where(scope)}",
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
    on_star = union(s.free_bits for s in perms.boundary_allows if s.on_every_resource)
    on_star &= ~union(s.free_bits for s in perms.boundary_denies if s.certain_deny)
    granted = union(s.bits for s in perms.allows) & ~perms.denied_bits
    changes = change_bits(catalog)
    iam_write = on_star & granted & iam_write_bits(catalog)
    # Tag-scopable changes the boundary lets through on every resource: in a customer-managed
    # network the boundary itself must keep the role to the install (it caps later additions).
    unscoped = on_star & changes & subject.catalog.tag_scopable_bits
    customer = subject.document.network.kind is NetworkKind.CUSTOMER_MANAGED
    if on_star == catalog.all_bits:
        why = "allows every action on every resource"
    elif catalog.expand_bits("iam:*") & ~on_star == 0:
        why = "allows iam:* on every resource, so the role can lift its own boundary"
    elif iam_write:
        why = f"lets IAM write through on every resource ({_named(subject, iam_write)}), so the role can change access"
    elif customer and unscoped:
        why = (
            f"is not scoped to the install: it lets {_plural(unscoped.bit_count(), 'change')} that can be "
            f"tag-scoped ({_named(subject, unscoped)}) through on every resource, so it removes nothing a role "
            "policy may grant there"
        )
    else:
        return  # a boundary as tight as the role's own policies still caps what is added later
    yield Hit(
        role.boundary.loc,
        f"has a permissions boundary that {why}",
        "narrow the boundary to the services and install-tagged resources the role needs, without iam:*",
        "bound",
    )


@predicate
@_on_gcp_and_azure("escalation")
def can_escalate(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """The escalation methods of the rule's parameters that the role holds, each asked on the
    resources it concerns (the role itself, its boundary, another role, user, function...)."""
    role = subject.role
    assert role is not None
    perms = subject.permissions
    if _admin_equivalent(subject):
        return  # BG001 already says the role can do everything
    methods = params.get("methods", [])
    if not perms.named_bits & _method_bits(subject.catalog, methods):
        return  # no Allow names any action of any method: nothing to ask about
    targets = escalation_targets(role)
    loose = {key.lower() for key in params.get("not-limiting", ())}
    found = []
    for method in methods:
        steps = method.get("steps", [])
        if steps and all(_step_holds(perms, step, targets, loose) for step in steps):
            found.append(f"{' + '.join(_step_text(step) for step in steps)} ({method['name']}: {method['why']})")
    unresolved = sorted({name for p in role.policies for s in p.statements for name in s.unresolved})
    if unresolved:  # the finding is on the role: say here that part of it rests on unresolved values
        found.append(f"bglint could not resolve {', '.join(unresolved)} in its policies and judged the widest value")
    if found and len(found) > bool(unresolved):
        yield Hit(
            role.loc,
            f"can escalate its own access: {'; '.join(found)}",
            "remove these IAM actions or limit them to resources other than this role, its boundary and other principals",
            "escape",
        )


def _method_bits(catalog: Catalog, methods: list[dict[str, Any]]) -> int:
    return catalog.to_bits(step["action"].lower() for method in methods for step in method.get("steps", []))


def _target_name(on: str) -> str:
    named = {"self": "itself", "boundary": "its boundary", "own-policies": "its own policies", "*": "*"}
    return named.get(on) or f"another {re.split('[/:]', on.split(':', 5)[-1])[0]}"


def _step_text(step: dict[str, Any]) -> str:
    limited_by = step.get("limited-by")
    if limited_by:
        return f"{step['action']} (without a condition on {', '.join(limited_by)})"
    return f"{step['action']} on {_target_name(step['resource'])}"


def _step_holds(perms: Permissions, step: dict[str, Any], targets: EscalationTargets, loose: set[str]) -> bool:
    limited_by = {key.lower() for key in step.get("limited-by", ())}
    for resource in targets.resolve(step["resource"]):
        decision = perms.can(step["action"], resource)
        if not decision.allowed:
            continue
        keys = {c.key.lower() for c in decision.conditions}
        if (not keys & limited_by) if limited_by else keys <= loose:
            return True
    return False


def _admin_equivalent(subject: Subject) -> bool:
    return bool(_admin_reason(subject, 0.9))


@predicate
@_on_gcp_and_azure("network_beyond_level")
def exceeds_access_level(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    if role.level not in ("component", "runner", "sandbox"):
        return
    perms = subject.permissions
    changes = perms.all_effective_bits & network_change_bits(subject.catalog)
    if changes:
        yield Hit(
            role.loc,
            f"can change the network, which a '{role.level}' role should not ({role.level_source}): {_named(subject, changes)}",
            "drop the VPC/subnet/route/gateway/security-group write actions or declare the role 'network'",
            "level",
        )


@predicate
@_on_gcp_and_azure("not_permissions")
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
@_on_gcp_and_azure("unknown_roles")
def has_unknown_policy(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    role = subject.role
    assert role is not None
    for policy in subject.permissions.unknown_policies:
        if policy.managed_policy_name:
            continue  # BG010 reports a managed_policy_name that names no AWS-managed policy
        what = policy.arn or policy.name
        if policy.origin is PolicyOrigin.AWS_MANAGED and not _is_templated(what.replace("${AWS::Partition}", "")):
            yield _no_such_managed_arn(policy.loc, what)
            continue
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
            hint = None if _is_templated(name) else suggest_managed(name)
            detail = f"names '{name}', so Nuon attaches arn:aws:iam::aws:policy/{name}, {_why_not_managed(name, hint)}"
            if hint is None:
                fix = "give the name of an AWS-managed policy, or put the document in an entry with name and contents"
                yield Hit(
                    policy.loc,
                    f"{detail}; customer-managed policies cannot be named here",
                    fix,
                    f"unknown-managed:{name}",
                )
            else:
                meant = hint.path_and_name
                fix = f'write managed_policy_name = "{meant}"'
                yield Hit(policy.loc, f"{detail} (did you mean '{meant}'?)", fix, f"unknown-managed:{name}")


def _is_templated(text: str) -> bool:
    """A name filled in at deploy time (`${Param}`, `{{.nuon.inputs.x}}`): no hint can be right."""
    return "${" in text or "{{" in text


def _why_not_managed(path_and_name: str, hint: ManagedPolicy | None) -> str:
    """Why arn:...:policy/<path_and_name> attaches nothing: a policy's name under the wrong path, or no such policy."""
    if hint is not None and hint.name == path_and_name.rpartition("/")[2]:
        return f"which does not exist: the AWS-managed policy {hint.name} is under the path {hint.path}"
    return f"which is not an AWS-managed policy as of {managed_provenance()['date']}"


def _no_such_managed_arn(loc: Location, arn: str) -> Hit:
    """BG009 for an AWS-managed policy ARN that names no AWS-managed policy."""
    prefix, _, path_and_name = arn.partition(":policy/")
    hint = suggest_managed(path_and_name)
    detail = f"attaches {arn}, {_why_not_managed(path_and_name, hint)}; creating the role fails"
    if hint is None:
        fix = "attach an AWS-managed policy that exists, or define the document in the template"
        return Hit(loc, detail, fix, f"policy:{arn}")
    meant = f"{prefix}:policy/{hint.path_and_name}"
    return Hit(loc, f"{detail} (did you mean '{meant}'?)", f"attach {meant}", f"policy:{arn}")


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
    # App configs are rendered by the loader with Nuon's template functions; templates here.
    rendered = role.rendered_name or rendered_name(role.role_name)
    at_least = "" if role.rendered_exact or not role.rendered_name else "at least "
    if len(rendered) > limit:
        yield Hit(
            role.loc,
            f"has a name that renders to {at_least}{len(rendered)} characters (install id = 26), over IAM's {limit}",
            f"shorten the name by {len(rendered) - limit} characters",
            "name",
        )


# -- document predicates ---------------------------------------------------------------


@predicate
def names_missing_role(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    roles = subject.document.roles
    break_glass = {role.name for role in roles if role.source_kind is SourceKind.NUON_BREAK_GLASS}
    every = {role.name for role in roles}
    for ref in subject.document.role_references:
        if ref.key == "break_glass_role" and ref.name not in break_glass:
            yield Hit(
                ref.loc,
                f"break_glass_role '{ref.name}' names no break-glass role of the app",
                "use the exact `name` of a break-glass role (break_glass.toml or break_glass/)",
                f"ref:{ref.name}",
            )
        elif ref.key == "role" and ref.name not in every:
            yield Hit(
                ref.loc,
                f"role '{ref.name}' names no role of the app (break-glass or permissions)",
                "use the exact `name` of a role defined in break_glass or permissions",
                f"role-ref:{ref.name}",
            )


@predicate
def has_config_note(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    kind = params.get("kind", "unknown-key")
    for note in subject.document.notes:
        if note.kind == kind:
            yield Hit(note.loc, note.message, str(params.get("fix", "")), f"{kind}:{note.loc.path}:{note.loc.logical}")
