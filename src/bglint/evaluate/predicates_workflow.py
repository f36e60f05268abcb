"""Predicates about the break-glass workflow around the roles: the runbook, the Quick-create
link, the uninstall and the trust profile (BG020-BG023).

Like every predicate they read the model only; the runbook, the links and the stack's
resources were read by the loaders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Hit, Subject
from bglint.model import ACCESS_LEVELS, Location, PolicyOrigin, Role, Runbook, RunbookSection, StackResource, Statement

# -- BG020: the runbook addresses every topic ----------------------------------------------

_TEMPLATE = re.compile(r"\{\{[^}]*\}\}")
_GENERIC_NAME = re.compile(r"^(?:break[-_ ]?glass|bg|role|access|[-_ ])+$", re.IGNORECASE)
_PLACEHOLDER_LINE = re.compile(r"^\s*(?:[-*+]\s*|\d+[.)]\s*)?(?:TODO|TBD|FIXME|XXX|N/?A\b|coming soon|\.\.\.)", re.I)
_LIST_OR_ROW = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|\|)")


@dataclass(frozen=True)
class _Topic:
    id: str
    title: str
    why: str
    fix: str
    headings: tuple[re.Pattern[str], ...]
    keywords: tuple[re.Pattern[str], ...]
    each_role: bool


class _BadParams(ValueError):
    pass


def _topics(params: dict[str, Any]) -> list[_Topic]:
    raw = params.get("topics")
    if not isinstance(raw, list) or not raw:
        raise _BadParams("check.params.topics must be a non-empty list of topics")
    topics = []
    for index, item in enumerate(raw):
        where = f"check.params.topics[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("title"), str):
            raise _BadParams(f"{where} must be a mapping with a string id and title")
        topics.append(
            _Topic(
                id=item["id"],
                title=item["title"],
                why=str(item.get("why", "")),
                fix=str(item.get("fix", "")),
                headings=_patterns(item.get("headings", []), f"{where}.headings"),
                keywords=_patterns(item.get("keywords", []), f"{where}.keywords"),
                each_role=bool(item.get("each-role", False)),
            )
        )
    return topics


def _levels(params: dict[str, Any]) -> tuple[str, ...]:
    raw = params.get("levels", list(ACCESS_LEVELS))
    if not isinstance(raw, list) or not raw or not all(isinstance(level, str) for level in raw):
        raise _BadParams("check.params.levels must be a non-empty list of words")
    return tuple(level.lower() for level in raw)


def _patterns(raw: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise _BadParams(f"{where} must be a list of regular expressions")
    compiled = []
    for index, pattern in enumerate(raw):
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise _BadParams(f"{where}[{index}] is not a valid regular expression: {exc}") from None
    return tuple(compiled)


@predicate
def runbook_lacks_topic(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """The app's runbook is missing, or does not address a topic of the rule's `topics`."""
    doc = subject.document
    if doc.kind != "app":
        return
    roles = [r for r in doc.roles if r.source_kind == "nuon-break-glass"]
    runbook = doc.runbook
    if runbook is None and not (roles and doc.runbook_searched):
        return  # no break-glass roles, or a runbook the loader could not read (an input error)
    # the runbook's first line, else break_glass.toml's (a file, never the app directory)
    anchor = Location(runbook.path if runbook else roles[0].loc.path, 1, 1, "runbook")
    try:
        topics = _topics(params)
        levels = _levels(params)
    except _BadParams as exc:
        yield Hit(anchor, f"this rule's parameters are invalid: {exc}", "correct the rule file", "params")
        return
    if runbook is None:
        yield Hit(
            anchor,
            f"app {doc.path} declares break-glass roles but has no break-glass runbook (looked for "
            f"{', '.join(doc.runbook_searched)}): during an incident nobody has the agreed steps for when to "
            "break glass, sharing the Quick-create link and uninstalling the stack",
            f"write {doc.path}/RUNBOOK.md with a section per topic ({', '.join(t.id for t in topics)})",
            "runbook-missing",
        )
        return
    headings = {s.loc.line for s in runbook.sections if s.level}
    body = "\n".join(text for number, text in enumerate(runbook.lines, start=1) if number not in headings)
    top = anchor
    for topic in topics:
        section = _section_for(topic, runbook, headings)
        addressed = section is not None or any(k.search(body) for k in topic.keywords)
        where = section.loc if section is not None else top
        if not topic.each_role:
            if not addressed:
                yield _topic_hit(runbook, topic, top, "")
            continue
        gaps = [(role, _role_gap(role, roles, runbook, headings, levels)) for role in roles]
        gaps = [(role, gap) for role, gap in gaps if gap]
        if not addressed and (gaps or not roles):
            wanted = ", ".join(f"'{r.name}'" + (f" ({r.level})" if r.level else "") for r in roles)
            yield _topic_hit(
                runbook,
                topic,
                top,
                f"; name each role of break_glass.toml with its access level: {wanted}" if roles else "",
            )
            continue
        for role, gap in gaps:
            yield Hit(
                where,
                f"runbook {runbook.path} {gap}: responders cannot tell how much access it gives or when to "
                f"choose it over the others (topic '{topic.id}')",
                f"add '{role.name}' with its access level ({role.level or ' / '.join(levels)}) and when to use it",
                f"topic:{topic.id}:role:{role.name}",
            )


def _topic_hit(runbook: Runbook, topic: _Topic, where: Location, extra: str) -> Hit:
    why = f": {topic.why}" if topic.why else ""
    fix = topic.fix or f"add a section '## {topic.title[:1].upper()}{topic.title[1:]}'"
    return Hit(
        where,
        f"runbook {runbook.path} does not say {topic.title} (topic '{topic.id}'){why}{extra}",
        fix,
        f"topic:{topic.id}",
    )


def _section_for(topic: _Topic, runbook: Runbook, headings: set[int]) -> RunbookSection | None:
    """The first section whose heading matches the topic and that says something."""
    for section in runbook.sections:
        if (
            section.level
            and any(p.search(section.title) for p in topic.headings)
            and _says_something(section, headings)
        ):
            return section
    return None


def _says_something(section: RunbookSection, headings: set[int]) -> bool:
    return any(number not in headings and not _PLACEHOLDER_LINE.match(text) for number, text in section.lines)


def _name_pattern(role: Role) -> re.Pattern[str]:
    """How a runbook names a role: its fixed part (install-id templates left out), case-insensitively.

    A generic fixed part (`-break-glass`) only counts right after a placeholder, as in
    `{{.nuon.install.id}}-break-glass` or `<install-id>-break-glass`.
    """
    parts = [p.strip("-_. ") for p in _TEMPLATE.split(role.name)]
    fixed = max(parts, key=len) if parts else ""
    if len(fixed) < 3:
        return re.compile(re.escape(role.name), re.IGNORECASE)
    body = re.escape(fixed)
    if _GENERIC_NAME.match(fixed):
        return re.compile(r"(?:\}\}?|>|\*)[-_. ]?" + body + r"(?!-?[A-Za-z0-9])", re.IGNORECASE)
    return re.compile(r"(?<![A-Za-z0-9])" + body + r"(?!-?[A-Za-z0-9])", re.IGNORECASE)


def _role_gap(role: Role, roles: list[Role], runbook: Runbook, headings: set[int], levels: tuple[str, ...]) -> str:
    """'' when the runbook names the role with its access level, else what is missing."""
    pattern = _name_pattern(role)
    mentions = [n for n, text in enumerate(runbook.lines, start=1) if pattern.search(text)]
    if not mentions:
        return f"does not name break-glass role '{role.name}'"
    wanted = (role.level,) if role.level else levels
    names = [_name_pattern(r) for r in roles]
    for number in mentions:
        block = _block(runbook, number, headings)
        for name in names:
            block = name.sub(" ", block)
        if any(re.search(rf"(?<![A-Za-z]){re.escape(level)}(?![A-Za-z])", block, re.IGNORECASE) for level in wanted):
            return ""
    what = f"its declared access level ({role.level})" if role.level else f"its access level ({', '.join(levels)})"
    return f"names break-glass role '{role.name}' but not {what}"


def _block(runbook: Runbook, number: int, headings: set[int]) -> str:
    """The text that speaks of line `number`: its list item, table row or paragraph; a heading's body."""
    lines = runbook.lines
    if number in headings:
        section = next(s for s in runbook.sections if s.level and s.loc.line == number)
        end = next((n for n, _ in section.lines if n in headings), None)
        return "\n".join([lines[number - 1], *(t for n, t in section.lines if end is None or n < end)])
    start = end = number
    if not _LIST_OR_ROW.match(lines[number - 1]):
        while (
            start > 1
            and lines[start - 2].strip()
            and start - 1 not in headings
            and not _LIST_OR_ROW.match(lines[start - 2])
        ):
            start -= 1
    while end < len(lines) and lines[end].strip() and end + 1 not in headings and not _LIST_OR_ROW.match(lines[end]):
        end += 1
    return "\n".join(lines[start - 1 : end])


# -- BG021: Quick-create links ------------------------------------------------------------


@predicate
def quickcreate_link_invalid(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Quick-create links in the runbook or app config that would fail, mislead or leak a secret."""
    if not subject.document.quickcreate_links:
        return
    from bglint.quickcreate import parse, problems  # only app configs and runbooks hold links

    for link in subject.document.quickcreate_links:
        template = f" (template {link.template})" if link.template else ""
        for problem in problems(parse(link.url), link.parameters):
            yield Hit(
                link.loc,
                f"the Quick-create link{template} {problem.message}",
                problem.fix,
                f"{problem.key}@{link.url}",
            )


# -- BG022: the uninstall revokes access ---------------------------------------------------

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
        "the break-glass stack creates IAM user '{id}': a user's credentials (access keys, a console password) do not expire with a "
        "session and can be copied out of the account, and if anyone adds keys, MFA devices or policies to it "
        "outside the stack, deleting the stack fails and the user stays",
        "give break-glass access through the stack's role (temporary credentials) instead of a user",
    ),
    "AWS::IAM::AccessKey": (
        "the break-glass stack creates access key '{id}': a long-term secret that keeps working until someone deletes it, whoever "
        "copied it from the stack's outputs",
        "remove the access key; assume the break-glass role for temporary credentials instead",
    ),
    "AWS::IAM::LoginProfile": (
        "the break-glass stack creates a console password ('{id}') for an IAM user: a long-term credential, not a session",
        "remove the login profile; use the break-glass role from the console (switch role) instead",
    ),
}


def _kept(deletion: str, replace: str) -> str:
    """'DeletionPolicy: Retain' / 'UpdateReplacePolicy: Retain' as written, '' when neither keeps it."""
    kept = [f"DeletionPolicy: {deletion}"] if deletion in _KEEPING else []
    kept += [f"UpdateReplacePolicy: {replace}"] if replace == "Retain" else []
    return " and ".join(kept)


@predicate
def access_outlives_stack(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Anything in a break-glass stack that keeps access after the stack is deleted, or grants it
    to principals the stack does not own."""
    doc = subject.document
    roles = [r for r in doc.roles if r.break_glass]
    if doc.kind != "template" or not roles:
        return
    resources = {r.logical_id: r for r in doc.stack_resources}
    reported: set[str] = set()
    for role in roles:
        kept = _kept(role.deletion_policy, role.update_replace_policy)
        if kept:
            reported.add(role.name)
            yield Hit(
                role.loc,
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
                    resource.loc,
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
    if kept and resource.type in _ACCESS_TYPES and rid not in reported:
        yield Hit(
            resource.loc,
            f"{resource.type} '{rid}' has {kept}: deleting the break-glass stack leaves it, with the access it grants",
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


# -- BG023: the trust profile --------------------------------------------------------------

_VAR = r"\$\{[^}]*\}"
# An account root: its ARN (partition and account may be ${...}), a bare account id, or !Ref AWS::AccountId.
_ROOT = re.compile(rf"^(?:arn:(?:[\w-]+|{_VAR}):iam::(?:\d{{12}}|{_VAR}):root|\d{{12}}|\$\{{AWS::AccountId\}})$")


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
            if principal.value == "*" and principal.kind in ("*", "AWS") and not _names_principal(statement):
                shown = '"*"' if principal.kind == "*" else '{AWS: "*"}'
                yield Hit(
                    statement.loc,
                    f"trusts Principal {shown}: any AWS principal in any account that learns the role's ARN can "
                    "try to assume it",
                    "name the vendor's support role ARN as the principal",
                    f"star:{index}",
                )
            elif principal.kind == "AWS" and _ROOT.match(principal.value) and not _guards_root(statement):
                yield Hit(
                    statement.loc,
                    f"trusts account root {principal.value} with neither an sts:ExternalId nor an MFA condition: "
                    "every user and role of that account allowed sts:AssumeRole can become the break-glass role",
                    "name the vendor's support role ARN, or add Condition StringEquals sts:ExternalId (or Bool "
                    "aws:MultiFactorAuthPresent true)",
                    f"root:{index}:{principal.value}",
                )
    ceiling = int(params.get("max_session_seconds", 3600))
    seconds = role.max_session_duration
    if seconds is not None and seconds > ceiling:
        yield Hit(
            role.max_session_loc or role.loc,
            f"allows sessions of {seconds} s ({seconds / 3600:g} h), over the {ceiling} s ceiling: a session token "
            "copied during the incident keeps working that long after the stack is uninstalled",
            f"set MaxSessionDuration to {ceiling} or less (or leave it out: the default is 3600)",
            "session",
        )


def _conditions(statement: Statement) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(operator, key, values), lower-cased, for conditions that narrow: no IfExists, no negation, no ForAllValues."""
    for condition in statement.conditions:
        operator = condition.operator.lower()
        if operator.startswith("forallvalues:") or operator.endswith("ifexists") or "not" in operator:
            continue
        yield operator.removeprefix("foranyvalue:"), condition.key.lower(), condition.values


def _names_principal(statement: Statement) -> bool:
    """A condition that pins the caller to specific principals or an account."""
    return any(
        key in ("aws:principalarn", "aws:principalaccount") and values and "*" not in values
        for _, key, values in _conditions(statement)
    )


def _guards_root(statement: Statement) -> bool:
    for operator, key, values in _conditions(statement):
        if key == "sts:externalid" and values and "*" not in values:
            return True
        if key == "aws:multifactorauthpresent" and operator == "bool" and "true" in (v.lower() for v in values):
            return True
        if key == "aws:multifactorauthage" and operator.startswith("numericless"):
            return True
    return _names_principal(statement)
