"""BG023: the trust profile: who may assume the role, and under which conditions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bglint.evaluate.placeholders import Source, StandIn, stand_ins, widest_number
from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.iam.conditions import accepts_any_value
from bglint.model import SUB_VARIABLE, Parameter, Principal, Role, Statement
from bglint.regex import Regex

_VAR = SUB_VARIABLE
_LONGEST_SESSION = 43200  # IAM API Reference, CreateRole: MaxSessionDuration is 3600 to 43200 seconds
_WILDCARD_ONLY = Regex(r"[*?]*\*[*?]*|\?+")
# An account root: its ARN (partition and account may be ${...}), a bare account id, or !Ref AWS::AccountId.
_ROOT = Regex(rf"^(?:arn:(?:[\w-]+|{_VAR}):iam::(?:\d{{12}}|{_VAR}):root|\d{{12}}|\$\{{AWS::AccountId\}})$")


# What a too-broad AWS principal lets happen, and the smallest fix; {shown} is the principal.
_TRUSTS = {
    "account": (
        "trusts Principal {shown} limited only to an account (aws:PrincipalAccount or an aws:PrincipalArn pattern): "
        "every user and role of that account allowed sts:AssumeRole can become the break-glass role",
        "name the vendor's support role ARN, or add Condition StringEquals sts:ExternalId",
    ),
    "star": (
        "trusts Principal {shown}: any AWS principal in any account that learns the role's ARN can try to assume it",
        "name the vendor's support role ARN as the principal",
    ),
    "root": (
        "trusts account root {shown} with neither an sts:ExternalId nor an MFA condition: every user and role of "
        "that account allowed sts:AssumeRole can become the break-glass role",
        "name the vendor's support role ARN, or add Condition StringEquals sts:ExternalId (or Bool "
        "aws:MultiFactorAuthPresent true)",
    ),
    "root-any-external-id": (
        "trusts account root {shown} with {external_id}, and no MFA condition: every user and role of that "
        "account allowed sts:AssumeRole can become the break-glass role by passing any external ID",
        "match sts:ExternalId with StringEquals (the value the vendor gives this customer), or name the vendor's "
        "support role ARN",
    ),
}


@predicate
def trust_too_broad(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """A trust policy that does not name specific principals, or sessions longer than the ceiling."""
    role = subject.role
    assert role is not None
    for index, statement in enumerate(role.trust):
        if statement.not_principal:
            yield Hit(
                statement.loc,
                "uses NotPrincipal in its trust policy: "
                + (
                    "with Allow it lets every principal of every account except those listed assume the role"
                    if statement.is_allow
                    else "a Deny with NotPrincipal is easy to get wrong and AWS advises against it"
                ),
                "name the principals in Principal instead (or use a condition on aws:PrincipalArn)",
                f"not-principal:{index}",
            )
            continue
        if not statement.is_allow:
            continue
        for principal in statement.principals:
            if principal.kind == "Federated":
                yield from _federated(statement, principal.value, index)
            elif principal.kind in ("*", "AWS"):
                yield from _aws_principal(statement, principal, index, subject.document.parameters)
    yield from _session(role, int(params.get("max_session_seconds", 3600)), subject.document.parameters)


def _session(role: Role, ceiling: int, parameters: tuple[Parameter, ...]) -> Iterator[Hit]:
    """A MaxSessionDuration over the ceiling; one bglint does not have is judged as its widest."""
    seconds = role.max_session_duration
    fix = f"set MaxSessionDuration to {ceiling} or less (or leave it out: the default is 3600)"
    shown = ""
    free = widest_number(role.max_session_placeholder, parameters, _LONGEST_SESSION)
    if free is not None and (seconds is None or free[0] > seconds):
        seconds, source = free
        shown = f" (MaxSessionDuration {role.max_session_placeholder}: {_whose(source)})"
        if source.parameter:
            fix = f"give parameter {source.parameter} a MaxValue or AllowedValues of {ceiling} or less, or {fix}"
    if seconds is not None and seconds > ceiling:
        yield Hit(
            role.max_session_loc or role.loc,
            f"allows sessions of {seconds} s ({seconds / 3600:g} h){shown}, over the {ceiling} s ceiling: a session "
            "token copied during the incident keeps working that long after the stack is uninstalled",
            fix,
            "session",
        )


def _aws_principal(
    statement: Statement, principal: Principal, index: int, parameters: tuple[Parameter, ...]
) -> Iterator[Hit]:
    """`*`, an account root, or a placeholder that may be either: a parameter whoever installs
    the stack sets, a function bglint could not resolve (judged as its widest value)."""
    star: StandIn | None = None
    root: StandIn | None = None
    for stand_in in stand_ins(principal.value, parameters):
        if stand_in.text == "*":
            star = star or stand_in
        elif principal.kind == "AWS" and _ROOT.match(stand_in.text):
            root = root or stand_in
    if star is not None and _admits_account(statement, parameters):
        kind, stand_in = "account", star
    elif star is not None and not _names_principal(statement):
        kind, stand_in = "star", star
    elif root is not None and not _guards_root(statement, parameters):
        kind, stand_in = "root", root
    else:
        return
    wildcard = _wildcard_external_id(statement, parameters) if kind == "root" else ""
    what, fix = _TRUSTS["root-any-external-id" if wildcard else kind]
    what = what.format(shown=_shown(principal, stand_in), external_id=wildcard)
    key = f"root:{index}:{principal.value}" if kind == "root" else f"{kind}:{index}"
    yield Hit(statement.loc, what, _fix(principal, stand_in, fix), key)


def _shown(principal: Principal, stand_in: StandIn) -> str:
    """The principal as written; for a stand-in, also what it may be and why."""
    source = stand_in.source
    if source is None:
        return {"*": '"*"', "AWS": '{AWS: "*"}'}[principal.kind] if principal.value == "*" else principal.value
    what = '"*"' if stand_in.text == "*" else "an account root"
    return f"{principal.value} (may be {what}: {_whose(source)})"


def _whose(source: Source) -> str:
    """Why a placeholder may be wide: the parameter and what it lacks, or the unresolved function."""
    return f"parameter {source.parameter}, which {source.why}" if source.parameter else source.why


def _fix(principal: Principal, stand_in: StandIn, fix: str) -> str:
    source = stand_in.source
    if source is None:
        return fix
    if not source.parameter:
        return f"{fix}, in the template"
    # A whole Principal element can only be "*" or a map: the parameter has to move into one.
    wrap = f"write Principal as {{AWS: !Ref {source.parameter}}} and " if principal.kind == "*" else ""
    return (
        f"{wrap}give parameter {source.parameter} AllowedValues naming the vendor's support role ARN (or an "
        f"AllowedPattern that admits only its roles), or {fix}"
    )


def _federated(statement: Statement, provider: str, index: int) -> Iterator[Hit]:
    """A web-identity (OIDC, Cognito) or SAML provider: without conditions that pin the audience
    and the subject, every identity the provider issues tokens to can assume the role."""
    keys = {key: values for _, key, values in _conditions(statement)}
    host = provider.split(":oidc-provider/", 1)[-1].lower()
    if ":saml-provider/" in provider:
        wanted = {"saml:aud": "SAML:aud (the sign-in endpoint)"}
    elif host == "cognito-identity.amazonaws.com":
        wanted = {f"{host}:aud": f"{host}:aud (the identity pool id)", f"{host}:amr": f"{host}:amr (authenticated)"}
    else:
        wanted = {f"{host}:aud": f"{host}:aud (the audience)", f"{host}:sub": f"{host}:sub (the subject)"}
    missing = [shown for key, shown in wanted.items() if not _pinned(keys.get(key, ()))]
    if missing:
        yield Hit(
            statement.loc,
            f"trusts federated provider {provider} without a condition pinning {' and '.join(missing)}: every "
            "identity that provider issues tokens to (any repository, any app, any user) can assume the role",
            f"add Condition StringEquals on {' and '.join(key for key in wanted)} naming your own values",
            f"federated:{index}:{provider}",
        )


def _pinned(values: tuple[str, ...]) -> bool:
    """Values that name something: not empty, and none a bare wildcard (`*`, `?*`, `repo:*`)."""
    return bool(values) and not any(_WILDCARD_ONLY.fullmatch(v.rsplit(":", 1)[-1]) and "/" not in v for v in values)


def _conditions(statement: Statement) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(operator, key, values), lower-cased, for conditions that narrow: no IfExists, no negation,
    no ForAllValues, no `Null`, nothing that accepts any value (`StringLike "*"` or `"?*"`)."""
    for condition in statement.conditions:
        operator = condition.operator.lower()
        if operator.startswith("forallvalues:") or operator.endswith("ifexists") or "not" in operator:
            continue
        if operator == "null" or accepts_any_value(condition):
            continue
        yield operator.removeprefix("foranyvalue:"), condition.key.lower(), condition.values


def _any_value(operator: str, values: tuple[str, ...], parameters: tuple[Parameter, ...]) -> StandIn | None:
    """A StringLike value that may be a bare wildcard (a parameter with no Default or a function
    bglint could not resolve, judged as its widest value), which any external ID matches.

    With StringEquals such a value is the secret the customer and the vendor share, set at
    install (IAM User Guide, Access to AWS accounts owned by third parties): it stays a guard."""
    if operator != "stringlike":
        return None
    return next(
        (s for v in values for s in stand_ins(v, parameters) if s.source and _WILDCARD_ONLY.fullmatch(s.text)), None
    )


def _wildcard_external_id(statement: Statement, parameters: tuple[Parameter, ...]) -> str:
    """The sts:ExternalId condition that admits any value, in words, or ""."""
    for operator, key, values in _conditions(statement):
        stand_in = _any_value(operator, values, parameters) if key == "sts:externalid" else None
        if stand_in is not None and stand_in.source is not None:
            return (
                f'Condition StringLike sts:ExternalId {", ".join(values)}, which may be "*" ({_whose(stand_in.source)})'
            )
    return ""


def _names_principal(statement: Statement) -> bool:
    """A condition that pins the caller to specific principals (aws:PrincipalArn without
    wildcards): aws:PrincipalAccount alone admits a whole account, as its root does."""
    return any(
        key == "aws:principalarn" and values and not any("*" in v or "?" in v for v in values)
        for _, key, values in _conditions(statement)
    )


def _admits_account(statement: Statement, parameters: tuple[Parameter, ...]) -> bool:
    """Principal "*" narrowed only to an account (or a pattern over one), with no other guard."""
    narrowed = any(key in ("aws:principalaccount", "aws:principalarn") for _, key, _ in _conditions(statement))
    return narrowed and not _names_principal(statement) and not _guards_root(statement, parameters)


def _guards_root(statement: Statement, parameters: tuple[Parameter, ...]) -> bool:
    for operator, key, values in _conditions(statement):
        if key == "sts:externalid" and values and "*" not in values and not _any_value(operator, values, parameters):
            return True
        if key == "aws:multifactorauthpresent" and operator == "bool" and "true" in (v.lower() for v in values):
            return True
        if key == "aws:multifactorauthage" and operator.startswith("numericless"):
            return True
    return _names_principal(statement)
