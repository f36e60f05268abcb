"""The `audit` pipeline: read live accounts, judge their roles with the same rules as `check`,
compare them with their definitions (--against), and assemble the report and its readable view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bglint.errors import InputError
from bglint.load.config import Config

if TYPE_CHECKING:
    from bglint.report import Report
    from bglint.report.audit_report import AuditView


@dataclass(frozen=True)
class AuditRequest:
    """What the command line asked for, checked already."""

    profile: str | None
    region: str | None
    assume_role: str
    accounts: tuple[str, ...]
    organization: bool
    tags: tuple[str, ...]
    names: tuple[str, ...]
    path_prefix: str
    role_arns: tuple[str, ...]
    all_roles: bool
    against: tuple[Path, ...]
    network: str | None
    jobs: int
    page_size: int | None
    rules_dirs: tuple[Path, ...]
    progress: bool
    readable: bool  # a readable report (Markdown, HTML) is written: compute each role's reach


@dataclass(frozen=True)
class AuditOutcome:
    report: Report
    view: AuditView
    errors: list[InputError]
    redact: Callable[[str], str]  # scrubs every credential the run saw


def run_audit_pipeline(request: AuditRequest, config: Config) -> AuditOutcome:
    from bglint import __version__
    from bglint.audit.discovery import Discovery
    from bglint.audit.drift import definitions_of
    from bglint.audit.run import AuditOptions, run_audit
    from bglint.evaluate.engine import conclude, document_findings
    from bglint.findings import AppliesTo
    from bglint.iam.catalog import load_catalog
    from bglint.iam.reach import Reacher
    from bglint.load.selection import Selection
    from bglint.pipeline.common import CheckOptions, active_rules, load_documents, provenance, settings_of
    from bglint.report import Report
    from bglint.report.audit_report import AccountView, AuditView

    errors: list[InputError] = []
    documents = []
    if request.against:
        loaded = load_documents(list(request.against), CheckOptions(config=config, network=request.network or ""))
        documents, errors = loaded.documents, list(loaded.errors)
    rules, rule_errors = active_rules(CheckOptions(config=config, rules_dirs=request.rules_dirs))
    errors += rule_errors
    selection = Selection(patterns=config.break_glass_roles, levels=config.levels)
    settings = settings_of(config)
    # Role rules run on each role as soon as it is read (one-role documents of its account);
    # document rules once per account; then suppressions apply as for `check`.
    role_rules = [r for r in rules if r.applies_to in (AppliesTo.BREAK_GLASS_ROLES, AppliesTo.ALL_ROLES)]
    document_rules = [r for r in rules if r.applies_to == AppliesTo.DOCUMENT]
    options = AuditOptions(
        profile=request.profile,
        region=request.region,
        assume_role=request.assume_role,
        accounts=request.accounts,
        organization=request.organization,
        discovery=Discovery(
            request.tags, request.names, request.path_prefix, request.role_arns, request.all_roles, selection
        ),
        jobs=request.jobs,
        page_size=request.page_size,
        network=request.network or config.network,
        definitions=tuple(definitions_of(documents)),
        against=tuple(str(p) for p in request.against),
        progress=request.progress,
        judge=lambda document: document_findings(document, role_rules, settings),
    )
    result = run_audit(options)
    errors += result.errors
    reach = Reacher(load_catalog())
    found = [f for account in result.accounts for f in account.findings]
    found += [f for doc in result.documents for f in document_findings(doc, document_rules, settings)]
    findings = conclude(found, result.documents, rules, settings, config.ignore)
    report = Report(
        version=__version__,
        provenance=provenance(),
        rules=rules,
        findings=findings,
        errors=errors,
        documents=result.documents,
        root=Path.cwd(),
    )
    view = AuditView(
        accounts=tuple(AccountView(a.account, a.document, a.error.message if a.error else "") for a in result.accounts),
        reach={role.loc.path: reach(role) for doc in result.documents for role in doc.roles}
        if request.readable
        else {},
        against=options.against,
        generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    return AuditOutcome(report, view, errors, result.secrets.redact)
