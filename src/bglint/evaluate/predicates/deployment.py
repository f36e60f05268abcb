"""Predicates about what a stack will deploy: standing access, quotas, logical ids, names IAM
refuses, and which triggers run a break-glass role. One function each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bglint.evaluate.predicates.usage import unused_since_deployed
from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.model import NUON_TEMPLATE, DocumentKind, Location, Policy, PolicyOrigin, Role, SourceKind
from bglint.regex import Regex

# IAM's pattern for role and policy names ([\w+=,.@-]+), and its length limits.
_IAM_NAME_CHAR = Regex(r"[\w+=,.@-]", re.ASCII)
_POLICY_NAME_MAX = 128
_TEMPLATE = Regex(NUON_TEMPLATE)


@predicate
def has_standing_access(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """The role exists before anyone breaks the glass."""
    role = subject.role
    assert role is not None
    if role.standing:
        yield Hit(
            role.loc,
            f"exists before anyone breaks the glass: {role.standing}",
            'create it only on demand: set enabled_in_stack = false (or default the Enable parameter to "false") '
            "and let the customer turn it on during an incident",
            "standing",
        )
    yield from unused_since_deployed(subject)  # bglint audit: a deployed role IAM says is not used


def _managed_attachments(role: Role) -> list[Policy]:
    return [p for p in role.policies if p.origin is PolicyOrigin.AWS_MANAGED or p.customer_managed]


@predicate
def exceeds_managed_policy_quota(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """More managed policies (AWS-managed and named) than IAM lets one role attach."""
    role = subject.role
    assert role is not None
    limit = int(params.get("max", 10))
    attached = _managed_attachments(role)
    if len(attached) > limit:
        names = ", ".join(p.name for p in attached)
        yield Hit(
            attached[limit].loc,
            f"attaches {len(attached)} managed policies ({names}), over IAM's quota of {limit} per role: "
            "the stack fails to deploy",
            f"merge policies so at most {limit} remain (an inline policy does not count)",
            "quota",
        )


@predicate
def shares_logical_id(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Two roles or inline policies that become one logical id: the later replaces the earlier."""
    if subject.document.kind is not DocumentKind.APP:
        return  # a template's logical ids are the keys of one mapping: they cannot repeat
    first: dict[str, tuple[str, Location]] = {}
    for role in subject.document.roles:
        items: list[tuple[str, Role | Policy]] = [(f"role '{role.name}'", role)]
        items += [(f"policy '{p.name}'", p) for p in role.policies]
        for what, item in items:
            logical = item.logical_id
            if not logical:
                continue
            # The name makes the logical id: its line is the one to change.
            named_at = item.name_loc or item.loc
            if logical not in first:
                first[logical] = (what, named_at)
                continue
            earlier, where = first[logical]
            yield Hit(
                named_at,
                f"{what} becomes logical id '{logical}' in the stack Nuon generates, as {earlier} "
                f"({where.path}:{where.line}) does: the later one silently replaces the earlier",
                "rename one of them so their CamelCased names differ",
                f"logical-id:{logical}:{item.loc.logical}",
            )


@predicate
def runs_break_glass_role_automatically(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """An action that runs a break-glass role from a trigger other than manual."""
    doc = subject.document
    break_glass = {r.name for r in doc.roles if r.source_kind is SourceKind.NUON_BREAK_GLASS}
    for ref in doc.role_references:
        if ref.key == "role" and ref.name not in break_glass:
            continue
        for trigger, loc in ref.triggers:
            if trigger == "manual":
                continue
            refused = "; Nuon refuses the workflow at plan time" if ref.key == "break_glass_role" else ""
            yield Hit(
                loc,
                f"runs break-glass role '{ref.name}' ({ref.key}) from the '{trigger}' trigger: the role is used "
                f"without anyone deciding to break the glass{refused}",
                "use only the manual trigger for actions that run a break-glass role",
                f"trigger:{ref.name}:{loc.logical}",
            )


@predicate
def has_name_iam_refuses(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """A role or policy name IAM rejects, once rendered for an install: the stack fails."""
    role = subject.role
    assert role is not None
    if role.source_kind not in (SourceKind.NUON_BREAK_GLASS, SourceKind.NUON_PERMISSIONS):
        return  # template names are checked by CloudFormation's own linters
    if role.rendered_name:
        bad = _bad_characters(role.rendered_name)
        if bad:
            yield Hit(
                role.name_loc or role.loc,
                f"has a name with characters IAM refuses in role names ({bad}); only letters, digits and +=,.@_- are allowed",
                "remove or replace those characters",
                "role-name",
            )
    for policy in role.policies:
        if policy.origin is PolicyOrigin.INLINE:
            yield from _policy_name_problems(policy)


def _policy_name_problems(policy: Policy) -> Iterator[Hit]:
    at = policy.name_loc or policy.loc  # the name (or, with none, the entry): the line to change
    name = policy.rendered_name
    kind = "named policy" if policy.customer_managed else "inline policy"
    if not name and not _TEMPLATE.search(policy.name):
        yield Hit(
            at,
            f"has an {kind} with no name; IAM needs 1 to {_POLICY_NAME_MAX} characters",
            "give it a name",
            f"policy-name:{policy.loc.logical}",
        )
        return
    bad = _bad_characters(name)
    if bad:
        yield Hit(
            at,
            f"has {kind} '{policy.name}' whose name has characters IAM refuses ({bad}); "
            "only letters, digits and +=,.@_- are allowed, so the stack fails when the role is enabled",
            "replace them, e.g. spaces with -",
            f"policy-name:{policy.loc.logical}",
        )
    if len(name) > _POLICY_NAME_MAX:
        yield Hit(
            at,
            f"has {kind} '{policy.name}' whose name renders to {len(name)} characters, over IAM's {_POLICY_NAME_MAX}",
            f"shorten it by {len(name) - _POLICY_NAME_MAX} characters",
            f"policy-length:{policy.loc.logical}",
        )


def _bad_characters(name: str) -> str:
    bad = sorted({char for char in name if not _IAM_NAME_CHAR.fullmatch(char)})
    return ", ".join(repr(char) for char in bad)
