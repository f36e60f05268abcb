"""`bglint check --cfn-lint`: cfn-lint's own template validation, reported as bglint findings.

cfn-lint (the optional extra `bglint[cfn-lint]`) is imported only here, and only when asked.
Its rule ids become `CFNLINT-<id>` (CFNLINT-E3002): no bglint or user rule id can take that
form, so suppressions and baselines name them without ambiguity. This module is handed the
template's text (it opens no file) and gives findings, which suppressions, the baseline and
every report then treat as bglint's own.
"""

from __future__ import annotations

import functools
import gc
from typing import TYPE_CHECKING, Any

from bglint.errors import InputError
from bglint.evaluate.engine import identity
from bglint.findings import CFN_LINT_PREFIX, AppliesTo, Finding, Rule, When
from bglint.model import Document, Location

if TYPE_CHECKING:
    from cfnlint.rules import Match

INSTALL_HINT = "pip install 'bglint[cfn-lint]'"
_SEVERITY = {"error": "error", "warning": "warning", "informational": "note"}
_MESSAGE_LIMIT = 300  # cfn-lint lists every allowed value in some messages (all of EC2's actions)


def require() -> None:
    """Import cfn-lint now: InputError (one line, exit 2) when it is not installed."""
    try:
        import cfnlint.api  # noqa: F401
    except ImportError:
        raise InputError("--cfn-lint", f"cfn-lint is not installed: {INSTALL_HINT}") from None


@functools.cache
def _runner() -> Any:
    """cfn-lint's runner with its rules loaded: built once per process (it takes a second or
    more), before forking when a run is split so that workers inherit it."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn())


def warm() -> None:
    _runner()


def template_findings(doc: Document, text: str) -> list[Finding]:
    """cfn-lint's findings on the template `doc` was loaded from, whose text is `text`."""
    from cfnlint.decode.decode import decode_str

    try:
        template, matches = decode_str(text)
        if not matches and template is not None:
            matches = list(_runner().validate_template(template))
    except Exception as exc:  # cfn-lint's own failure: one error line, the other files still reported
        raise InputError(doc.path, f"cfn-lint failed on this file ({type(exc).__name__}: {exc})") from None
    found = [_finding(doc, match) for match in matches]
    # cfn-lint leaves reference cycles (its template graph) and a check runs with the collector
    # off: collect the youngest generation, what was made since the last template (~2 MB each).
    gc.collect(0)
    return found


def _finding(doc: Document, match: Match) -> Finding:
    rule = _rule(
        match.rule.id, match.rule.severity, match.rule.shortdesc, match.rule.description, match.rule.source_url
    )
    path = list(getattr(match, "path", None) or ())
    logical = "".join(f"[{part}]" if isinstance(part, int) else f"/{part}" for part in path).removeprefix("/")
    roles = {role.name for role in doc.roles}
    # On a role's resource, the role's own suppressions apply, as to bglint's findings.
    role = str(path[1]) if len(path) > 1 and path[0] == "Resources" and path[1] in roles else ""
    message = match.message if len(match.message) <= _MESSAGE_LIMIT else match.message[: _MESSAGE_LIMIT - 3] + "..."
    return Finding(
        rule,
        rule.severity,
        message,
        "",
        Location(doc.path, match.linenumber, match.columnnumber, logical),
        doc.path,
        role,
        identity(rule.id, doc, role, logical),
    )


@functools.cache
def _rule(rule_id: str, severity: str, title: str, description: str, url: str) -> Rule:
    return Rule(
        id=CFN_LINT_PREFIX + rule_id,
        name=f"cfn-lint-{rule_id.lower()}",
        title=title,
        severity=_SEVERITY.get(severity, "warning"),
        security_severity=0.0,  # template correctness, not a security finding
        message="{detail}",
        rationale=f"cfn-lint {rule_id}: {description}",
        remediation=f"See cfn-lint's description of {rule_id}: {url}",
        help=url,
        predicate="",
        params={},
        applies_to=AppliesTo.DOCUMENT,
        when=When(),
        source="cfn-lint",
        tags=("cfn-lint",),
    )
