"""The `check` pipeline: load -> model -> evaluate, with the user's configuration applied."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bglint import limits
from bglint.errors import InputError
from bglint.evaluate.engine import conclude, document_findings
from bglint.evaluate.subject import Settings
from bglint.findings import Finding, Rule
from bglint.iam.catalog import load_catalog
from bglint.load.discover import Loaded, Plan, load_plan, plan_paths, settle_context
from bglint.model import Document, DocumentKind
from bglint.parallel import fan_out
from bglint.parse.files import read_text
from bglint.pipeline.common import CheckOptions, active_rules, load_options_of, provenance, settings_of

if TYPE_CHECKING:
    from bglint.report import Report
    from bglint.report.permissions import RoleView


@dataclass
class CheckResult:
    rules: list[Rule]
    documents: list[Document]
    findings: list[Finding]
    errors: list[InputError]
    skipped: list[str]


def run_check(paths: list[Path], options: CheckOptions) -> CheckResult:
    """Load and evaluate; with jobs > 1, independent pieces (an app, a batch of templates) run
    in worker processes. The result is the same whatever `jobs` is, in the same order."""
    rules, errors = active_rules(options)
    settings = settings_of(options.config)
    plan = plan_paths(paths)
    load_options = load_options_of(options)
    # Pieces of a few dozen templates at most: the processes finish close together.
    pieces = plan.split(max(options.jobs * 4, len(plan.templates) // 32)) if options.jobs > 1 else [plan]
    if len(pieces) > 1:
        load_options, context_errors = settle_context(plan, load_options)
        pieces[0].errors += context_errors
        load_catalog().warm()  # once, before forking: workers inherit the tables
        if options.cfn_lint:
            from bglint.evaluate import cfn_lint

            cfn_lint.warm()  # the same for cfn-lint's rules
    home = os.getpid()

    def check_piece(piece: Plan) -> tuple[Loaded, list[Finding]]:
        loaded = load_plan(piece, load_options)
        # Each document within its time budget: one that runs out becomes an input error.
        found = loaded.evaluate_each(lambda doc: document_findings(doc, rules, settings))
        if options.cfn_lint:
            found += _cfn_lint_findings(piece, loaded)
        if os.getpid() != home:  # a worker's results are pickled back: only what reports read
            for doc in loaded.documents:
                doc.strip_for_report()
        return loaded, found

    # For the whole run, not per document; workers inherit both.
    with limits.paused_gc(), limits.shared_alarm():
        results = fan_out(check_piece, pieces, options.jobs)
    documents = sorted(
        (d for loaded, _ in results for d in loaded.documents), key=lambda d: (d.kind != DocumentKind.APP, d.path)
    )
    found = [f for _, piece_found in results for f in piece_found]
    findings = conclude(found, documents, rules, settings, options.config.ignore, cfn_lint=options.cfn_lint)
    input_errors = sorted(
        (e for loaded, _ in results for e in loaded.errors), key=lambda e: (e.path, e.line, e.col, e.message)
    )
    skipped = sorted(s for loaded, _ in results for s in loaded.skipped)
    # Reports describe every rule a finding names: cfn-lint's too, those it reported.
    reported = {f.rule.id: f.rule for f in found if f.rule.source == "cfn-lint"}
    rules = rules + [reported[key] for key in sorted(reported)]
    return CheckResult(rules, documents, findings, errors + input_errors, skipped)


def _cfn_lint_findings(piece: Plan, loaded: Loaded) -> list[Finding]:
    """cfn-lint's findings on each template loaded, its text read again (bglint keeps none);
    it runs with its own limits, outside bglint's per-document time budget."""
    from bglint.evaluate.cfn_lint import template_findings

    paths = {shown: path for path, (shown, _explicit) in piece.templates.items()}
    found: list[Finding] = []
    for doc in loaded.documents:
        if doc.kind == DocumentKind.TEMPLATE:
            try:
                found += template_findings(doc, read_text(paths[doc.path], doc.path))
            except InputError as exc:
                loaded.errors.append(exc)
    return found


def permission_views(documents: list[Document], role_name: str | None, settings: Settings) -> list[RoleView]:
    """Effective permissions of the break-glass AWS roles (or the one named)."""
    from bglint.iam.effective import analyse
    from bglint.iam.summary import summarise  # `bglint permissions` only: spared by every check

    catalog = load_catalog()
    return [
        (doc, role, summarise(analyse(role, catalog), catalog, settings.tag_keys))
        for doc in documents
        for role in doc.roles
        if role.platform == "aws"
        and (role.name == role_name or role.role_name == role_name if role_name else role.break_glass)
    ]


def checked(paths: tuple[Path, ...], options: CheckOptions, baseline: Path | None = None) -> Report:
    """Run the check pipeline and wrap the result as a report (with the baseline applied)."""
    from bglint import __version__
    from bglint.report import Report

    result = run_check(list(paths), options)
    findings, baselined = result.findings, 0
    stale: list[str] = []
    if baseline is not None:
        from bglint.evaluate.baseline import compare
        from bglint.load.baseline import load_baseline

        try:
            findings, baselined, stale = compare(findings, load_baseline(baseline), cfn_lint=options.cfn_lint)
        except InputError as exc:
            result.errors.append(exc)
    return Report(
        __version__,
        provenance(),
        result.rules,
        findings,
        result.errors,
        result.documents,
        result.skipped,
        repo_root(Path.cwd()),
        baselined,
        stale,
    )


def repo_root(start: Path) -> Path:
    """The enclosing git work tree, so SARIF URIs are repository-relative; else `start`."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start
