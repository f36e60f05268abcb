"""Run rules over documents: which rule applies to which role, and the finding it makes."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator

from bglint.evaluate.registry import registered
from bglint.evaluate.subject import Settings, Subject
from bglint.findings import CFN_LINT_PREFIX, AppliesTo, Finding, Hit, Rule
from bglint.model import Document, DocumentKind, NetworkKind, Role, Suppression
from bglint.regex import Regex

_ROLE_INDEX = Regex(r"\brole\[\d+\]\.?")
_NETWORK_PHRASE = {
    NetworkKind.CUSTOMER_MANAGED: "In a customer-managed network",
    NetworkKind.VENDOR_MANAGED: "In a vendor-managed network",
    NetworkKind.UNKNOWN: "In a network of unknown kind",
}


def document_findings(doc: Document, rules: list[Rule], settings: Settings) -> list[Finding]:
    """The findings of one document, before suppressions: documents are independent here."""
    return list(_document_findings(doc, rules, settings))


def conclude(
    findings: list[Finding],
    documents: list[Document],
    rules: list[Rule],
    settings: Settings,
    configured: tuple[Suppression, ...] = (),
    today: dt.date | None = None,
    cfn_lint: bool = False,
) -> list[Finding]:
    """Apply suppressions, judge the suppressions themselves, and order the findings.

    `cfn_lint`: cfn-lint ran, so suppressions of its rules can be judged unused."""
    from bglint.evaluate.suppress import apply_suppressions

    day = today or dt.date.today()
    findings, use = apply_suppressions(findings, documents, configured, day, cfn_lint)
    # A suppression of a rule not run (disabled, --select, --ignore, cfn-lint's without
    # --cfn-lint) is not known to be unused.
    active = {rule.id for rule in rules}
    use = [
        (suppression, used or (suppression.rule not in active and not _ran_in_cfn_lint(suppression.rule, cfn_lint)))
        for suppression, used in use
    ]
    # The suppressions themselves are judged last: expired, unjustified or unused ones.
    governance = Document(path="", kind=DocumentKind.SUPPRESSIONS)
    subject = Subject(governance, None, settings, suppressions=tuple(use), today=day)
    for rule in rules:
        if rule.applies_to == AppliesTo.SUPPRESSIONS:
            findings += [
                _finding(rule, rule.severity, governance, None, hit)
                for hit in registered()[rule.predicate](subject, rule.params)
            ]
    return sorted(findings, key=lambda f: (f.loc.path, f.loc.line, f.loc.col, f.rule.id, f.message))


def _document_findings(doc: Document, rules: list[Rule], settings: Settings) -> Iterator[Finding]:
    network = doc.network.kind
    subjects = [Subject(doc, role, settings) for role in doc.roles]
    whole = Subject(doc, None, settings)
    for rule in rules:
        if rule.applies_to == AppliesTo.SUPPRESSIONS:
            continue
        if rule.applies_to == AppliesTo.DOCUMENT:
            if rule.when.matches(network, "", "aws"):
                for hit in registered()[rule.predicate](whole, rule.params):
                    yield _finding(rule, rule.severity, doc, None, hit)
            continue
        for subject in subjects:
            role = subject.role
            assert role is not None
            if rule.applies_to == AppliesTo.BREAK_GLASS_ROLES and not role.break_glass:
                continue
            if not rule.when.matches(network, role.level, role.platform):
                continue
            severity = rule.severity_for(network, role.level, role.platform)
            for hit in registered()[rule.predicate](subject, rule.params):
                yield _finding(rule, severity, doc, role, hit)


def _unresolved_note(role: Role | None, hit: Hit) -> str:
    """Say so when the finding points at a statement with CloudFormation values bglint could
    not resolve."""
    if role is None:
        return ""
    statements = [s for p in role.policies for s in p.statements if s.unresolved]
    statements += [s for p in (role.boundary.policies if role.boundary else ()) for s in p.statements if s.unresolved]
    concerned = [s for s in statements if s.loc == hit.loc or hit.loc in s.action_locs]
    names = list(dict.fromkeys(name for s in concerned for name in s.unresolved))
    if not names:
        return ""
    return (
        f" (bglint could not resolve {', '.join(names)} here and judged the widest value it may take in an"
        " Allow, none in a Deny)"
    )


def _finding(rule: Rule, severity: str, doc: Document, role: Role | None, hit: Hit) -> Finding:
    level = f" (declared level: {role.level})" if role is not None and role.level else ""
    values = {
        "role": role.name if role is not None else "",
        "detail": hit.detail + _unresolved_note(role, hit),
        "network": _NETWORK_PHRASE[doc.network.kind] + level,
        "fix": hit.fix,
    }
    message = rule.message.format_map(values)
    # Independent of a role's position in its file (its name is in the identity).
    key = _ROLE_INDEX.sub("", hit.key)
    # A run's findings repeat a few fixes and details thousands of times (7 distinct fixes in
    # 12,876 findings of the bench): one shared copy of each (5000 templates: ~11 MB less).
    return Finding(
        rule,
        severity,
        message,
        sys.intern(hit.fix),
        hit.loc,
        doc.path,
        values["role"],
        identity(rule.id, doc, values["role"], key),
        detail=sys.intern(hit.detail),
    )


def identity(rule_id: str, doc: Document, role: str, key: str) -> tuple[str, str, str, str]:
    """A finding's identity, what its fingerprint hashes: line-independent (`key` is a logical path)."""
    return (rule_id, doc.identity or doc.path, role, key)


def _ran_in_cfn_lint(rule_id: str, cfn_lint: bool) -> bool:
    return cfn_lint and rule_id.startswith(CFN_LINT_PREFIX)
