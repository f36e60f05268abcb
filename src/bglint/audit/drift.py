"""How a deployed role differs from its definition: a fact recorded while loading an account.

The definitions are the roles `load_paths` built from app configs and templates. A deployed
role is matched to one by name: the IAM RoleName as written (templates like
`{{.nuon.install.id}}` or `${AWS::StackName}` match anything), else CloudFormation's generated
`<stack>-<LogicalId>-<suffix>` name or its `aws:cloudformation:logical-id` tag. Then:

- policies: matched by AWS-managed name, by ARN, by identical document, else by name; what is
  left over on either side is added or missing, a name match with another document is changed;
- boundary: removed, added, or a different document/ARN;
- trust: widened when the deployed trust lets in a principal the definition does not, or drops
  a condition the definition puts on it.

Placeholders in the definition stand for any text, so a templated ARN matches its rendering.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bglint.model import (
    PLACEHOLDER,
    Boundary,
    BoundaryState,
    Condition,
    Document,
    Location,
    Policy,
    PolicyOrigin,
    Role,
    SourceKind,
    Statement,
)
from bglint.model.audit import Drift
from bglint.regex import Regex

_PLACEHOLDER = Regex(PLACEHOLDER)
_ACCOUNT_ID = Regex(r"^\d{12}$")
_CFN_LOGICAL_ID_TAG = "aws:cloudformation:logical-id"


@dataclass(frozen=True)
class Definition:
    role: Role
    document: Document


def definitions_of(documents: Iterable[Document]) -> list[Definition]:
    """Every AWS role the app configs and templates define, break-glass or not."""
    return [Definition(role, doc) for doc in documents for role in doc.roles if role.platform == "aws"]


def find_definition(role_name: str, tags: dict[str, str], definitions: Sequence[Definition]) -> Definition | None:
    """The definition of a deployed role: an exact name, then a templated name, then CloudFormation's."""
    best: tuple[int, Definition] | None = None
    for definition in definitions:
        score = _name_score(role_name, tags, definition.role)
        if score and (best is None or score > best[0]):
            best = (score, definition)
    return best[1] if best else None


def _name_score(deployed: str, tags: dict[str, str], role: Role) -> int:
    written = role.role_name
    if written and written == deployed:
        return 4
    if written and _PLACEHOLDER.search(written) and _matches(written, deployed):
        return 3
    if role.source_kind == SourceKind.CLOUDFORMATION:
        if tags.get(_CFN_LOGICAL_ID_TAG) == role.name:
            return 2
        if not written and re.fullmatch(rf".+-{re.escape(role.name[:40])}[A-Za-z0-9]*-[A-Za-z0-9]+", deployed):
            return 1
    return 0


def compare(deployed: Role, definition: Definition) -> tuple[Drift, ...]:
    defined = definition.role
    where = defined.loc
    drift = [*_policy_drift(deployed, defined, where), *_boundary_drift(deployed.boundary, defined.boundary, where)]
    if defined.source_kind is SourceKind.CLOUDFORMATION:  # Nuon writes an app config's trust (its support role too)
        drift += _trust_drift(deployed.trust, defined.trust, where)
    return tuple(drift)


def undefined(paths: Sequence[str]) -> Drift:
    shown = ", ".join(paths)
    return Drift("not-defined", "role", f"is deployed but no app config or template in {shown} defines it")


# -- policies --------------------------------------------------------------------------


def _policy_drift(deployed: Role, defined: Role, where: Location) -> list[Drift]:
    left = list(deployed.policies)
    drift = []
    for policy in defined.policies:
        found, changed = _take_match(policy, left)
        if found is None:
            if policy.conditional or not _checkable(policy):
                continue  # attached only under a template condition, or nothing to compare with
            drift.append(
                Drift(
                    "policy-missing", _label(policy), f"lacks {_describe(policy)}, which its definition attaches", where
                )
            )
        elif changed:
            drift.append(
                Drift(
                    "policy-changed",
                    _label(policy),
                    f"has {_describe(found)} with a document that differs from its definition",
                    where,
                )
            )
    for policy in left:
        drift.append(
            Drift(
                "policy-added", _label(policy), f"has {_describe(policy)}, which its definition does not attach", where
            )
        )
    return drift


def _take_match(defined: Policy, left: list[Policy]) -> tuple[Policy | None, bool]:
    """The deployed policy standing for `defined` (removed from `left`) and whether its document changed."""
    for rank in range(4):
        for index, policy in enumerate(left):
            verdict = _match(defined, policy, rank)
            if verdict is not None:
                del left[index]
                return policy, verdict
    return None, False


def _match(defined: Policy, deployed: Policy, rank: int) -> bool | None:
    """None: not the same policy at this rank; else whether the document changed."""
    if rank == 0 and defined.origin is PolicyOrigin.AWS_MANAGED:
        same = deployed.origin is PolicyOrigin.AWS_MANAGED and _managed_name(defined) == deployed.name
        return False if same else None
    if rank == 1 and defined.arn and not defined.document_known:
        return False if _matches(defined.arn, deployed.arn) else None
    if rank == 2 and defined.document_known and defined.origin is not PolicyOrigin.AWS_MANAGED:
        if deployed.origin is not PolicyOrigin.AWS_MANAGED and same_statements(defined.statements, deployed.statements):
            return False
        return None
    if (
        rank == 3
        and defined.document_known
        and defined.origin is not PolicyOrigin.AWS_MANAGED
        and deployed.origin is not PolicyOrigin.AWS_MANAGED
        and _matches(defined.name, deployed.name)
    ):
        return True  # same name, another document (rank 2 found no identical one)
    return None


def _checkable(policy: Policy) -> bool:
    """Whether a definition's policy can be looked for: an AWS-managed name, an ARN or a document."""
    return policy.origin is PolicyOrigin.AWS_MANAGED or bool(policy.arn) or policy.document_known


def _managed_name(policy: Policy) -> str:
    return (policy.arn or policy.name).rsplit("/", 1)[-1]


def _label(policy: Policy) -> str:
    return policy.arn or policy.name


def _describe(policy: Policy) -> str:
    if policy.origin is PolicyOrigin.AWS_MANAGED:
        return f"AWS-managed policy {policy.name}"
    if policy.arn:
        return f"managed policy {policy.arn}"
    return f"inline policy '{policy.name}'"


# -- boundary --------------------------------------------------------------------------


def _sets_boundary(boundary: Boundary | None) -> bool:
    return boundary is not None and boundary.state in (BoundaryState.DOCUMENT, BoundaryState.UNKNOWN)


def _boundary_drift(deployed: Boundary | None, defined: Boundary | None, where: Location) -> list[Drift]:
    if not _sets_boundary(defined):
        if deployed is None:
            return []
        return [
            Drift(
                "boundary-added",
                deployed.reference,
                f"has permissions boundary {deployed.reference}, which its definition does not set",
                where,
            )
        ]
    assert defined is not None
    if deployed is None:
        if defined.absent_unless:
            return []  # the definition itself leaves the boundary out under a condition
        return [
            Drift(
                "boundary-removed",
                defined.reference,
                f"has no permissions boundary, but its definition sets {defined.reference}",
                where,
            )
        ]
    live = deployed.policies[0] if deployed.policies else None
    if live is None or any(_same_boundary(policy, live) for policy in defined.policies):
        return []
    return [
        Drift(
            "boundary-changed",
            deployed.reference,
            f"has permissions boundary {deployed.reference}, which differs from its definition's {defined.reference}",
            where,
        )
    ]


def _same_boundary(defined: Policy, deployed: Policy) -> bool:
    if defined.origin is PolicyOrigin.AWS_MANAGED:
        return deployed.origin is PolicyOrigin.AWS_MANAGED and _managed_name(defined) == deployed.name
    if defined.document_known:
        return same_statements(defined.statements, deployed.statements)
    return bool(defined.arn) and _matches(defined.arn, deployed.arn)


# -- trust -----------------------------------------------------------------------------


def _trust_drift(deployed: tuple[Statement, ...], defined: tuple[Statement, ...], where: Location) -> list[Drift]:
    if not defined:
        return []  # an app config does not write the trust: Nuon generates it
    drift = []
    allows = [s for s in defined if s.is_allow and not s.not_principal]
    for statement in deployed:
        if not statement.is_allow:
            continue
        for principal in statement.principals:
            value = _principal(principal.value)
            shown = f"{principal.kind} {principal.value}" if principal.kind != "*" else "*"
            if statement.not_principal:
                drift.append(Drift("trust-widened", shown, f"trusts everyone but {shown} (NotPrincipal)", where))
                continue
            same = [
                s
                for s in allows
                if any(p.kind == principal.kind and _same_principal(p.value, value) for p in s.principals)
                and _covers(s.actions, statement.actions)
            ]
            if not same:
                drift.append(Drift("trust-widened", shown, f"trusts {shown}, which its definition does not", where))
            elif not any(_conditions_kept(s, statement) for s in same):
                keys = sorted({c.key for s in same for c in s.conditions})
                drift.append(
                    Drift(
                        "trust-widened",
                        shown,
                        f"trusts {shown} without the condition on {', '.join(keys)} its definition requires",
                        where,
                    )
                )
    return drift


def _principal(value: str) -> str:
    """IAM rewrites a bare account id as the account's root ARN."""
    return f"arn:aws:iam::{value}:root" if _ACCOUNT_ID.match(value) else value


def _same_principal(defined: str, deployed: str) -> bool:
    """A placeholder (`!GetAtt Runner.Arn`) stands for one principal, never for everyone ("*")."""
    if deployed == "*":
        return defined == "*"
    return _matches(_principal(defined), _principal(deployed))


def _covers(defined: tuple[str, ...], deployed: tuple[str, ...]) -> bool:
    return all(any(_matches(d, x, glob=True) for d in defined) for x in deployed)


def _conditions_kept(defined: Statement, deployed: Statement) -> bool:
    """Every condition the definition puts on the principal is still there (more is fine)."""
    return all(any(_same_condition(c, x) for x in deployed.conditions) for c in defined.conditions)


# -- documents -------------------------------------------------------------------------


def same_statements(defined: tuple[Statement, ...], deployed: tuple[Statement, ...]) -> bool:
    """Whether two documents say the same, order and Sid aside; the definition's placeholders match any text."""
    if len(defined) != len(deployed):
        return False
    left = list(deployed)
    for statement in defined:
        index = next((i for i, other in enumerate(left) if _same_statement(statement, other)), None)
        if index is None:
            return False
        del left[index]
    return True


def _same_statement(a: Statement, b: Statement) -> bool:
    return (
        a.effect == b.effect
        and a.not_action == b.not_action
        and a.not_resource == b.not_resource
        and a.not_principal == b.not_principal
        and _same_texts(a.actions, b.actions, fold=True)
        and _same_texts(a.resources, b.resources)
        and len(a.conditions) == len(b.conditions)
        and all(any(_same_condition(c, d) for d in b.conditions) for c in a.conditions)
        and len(a.principals) == len(b.principals)
        and all(any(p.kind == q.kind and _same_principal(p.value, q.value) for q in b.principals) for p in a.principals)
    )


def _same_condition(a: Condition, b: Condition) -> bool:
    return (
        a.operator.lower() == b.operator.lower() and a.key.lower() == b.key.lower() and _same_texts(a.values, b.values)
    )


def _same_texts(defined: tuple[str, ...], deployed: tuple[str, ...], fold: bool = False) -> bool:
    if fold:
        defined = tuple(t.lower() for t in defined)
        deployed = tuple(t.lower() for t in deployed)
    return all(any(_matches(d, x) for x in deployed) for d in defined) and all(
        any(_matches(d, x) for d in defined) for x in deployed
    )


def _matches(defined: str, deployed: str, glob: bool = False) -> bool:
    """`defined` with its placeholders (and, with `glob`, IAM wildcards) standing for any text."""
    if defined == deployed:
        return True
    if not (glob or _PLACEHOLDER.search(defined)):
        return False
    return _pattern(defined, glob).fullmatch(deployed) is not None


@functools.cache
def _pattern(defined: str, glob: bool) -> re.Pattern[str]:
    parts = []
    for index, piece in enumerate(_PLACEHOLDER.split(defined)):
        if index:
            parts.append(".+")
        escaped = re.escape(piece)
        parts.append(escaped.replace(r"\*", ".*").replace(r"\?", ".") if glob else escaped)
    return re.compile("".join(parts), re.IGNORECASE if glob else 0)
