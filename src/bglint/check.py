"""The `check` pipeline: load -> model -> evaluate, with the user's configuration applied."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bglint import limits
from bglint.errors import InputError
from bglint.evaluate.engine import Finding, conclude, document_findings
from bglint.evaluate.rules import Rule, load_rules, shipped_rules_dir
from bglint.evaluate.subject import DEFAULT_TAG_KEYS, Settings
from bglint.iam.catalog import load_catalog
from bglint.load.config import Config
from bglint.load.discover import Loaded, LoadOptions, Plan, load_plan, plan_paths, settle_context
from bglint.load.selection import Selection
from bglint.model import Document
from bglint.parallel import fan_out

if TYPE_CHECKING:
    from bglint.report.permissions import RoleView


@dataclass
class CheckOptions:
    config: Config = field(default_factory=Config)
    rules_dirs: tuple[Path, ...] = ()  # from --rules, after the config's
    all_roles: bool = False
    network: str = ""  # --network overrides the config
    app_config: Path | None = None
    jobs: int = 1  # processes for evaluating many documents


@dataclass
class CheckResult:
    rules: list[Rule]
    documents: list[Document]
    findings: list[Finding]
    errors: list[InputError]
    skipped: list[str]


def active_rules(options: CheckOptions) -> tuple[list[Rule], list[InputError]]:
    """Shipped rules (checked by the test suite) plus the user's (validated here)."""
    config = options.config
    rules, _ = load_rules([shipped_rules_dir()], validate=False)
    extra, errors = load_rules([*config.rules_dirs, *options.rules_dirs], validate=True)
    by_id = {rule.id: rule for rule in rules + extra}
    chosen = [
        replace(
            rule,
            severity=config.severity.get(rule.id, rule.severity),
            overrides=() if rule.id in config.severity else rule.overrides,
        )
        for key, rule in sorted(by_id.items())
        if key not in config.disable
    ]
    return chosen, errors


def load_documents(paths: list[Path], options: CheckOptions) -> Loaded:
    return load_plan(plan_paths(paths), _load_options(options))


def _load_options(options: CheckOptions) -> LoadOptions:
    config = options.config
    selection = Selection(all_roles=options.all_roles, patterns=config.break_glass_roles, levels=config.levels)
    return LoadOptions(
        selection,
        options.network or config.network,
        config.apps,
        options.app_config,
        config.runbook,
        config.app_runbooks,
        limits=config.limits,
    )


def settings_of(config: Config) -> Settings:
    return Settings(config.tag_keys or DEFAULT_TAG_KEYS, config.subnet_ids, config.vpc_ids)


def run_check(paths: list[Path], options: CheckOptions) -> CheckResult:
    """Load and evaluate; with jobs > 1, independent pieces (an app, a batch of templates) run
    in worker processes. The result is the same whatever `jobs` is, in the same order."""
    rules, errors = active_rules(options)
    settings = settings_of(options.config)
    plan = plan_paths(paths)
    load_options = _load_options(options)
    # Pieces of a few dozen templates at most: the processes finish close together.
    pieces = plan.split(max(options.jobs * 4, len(plan.templates) // 32)) if options.jobs > 1 else [plan]
    if len(pieces) > 1:
        load_options, context_errors = settle_context(plan, load_options)
        pieces[0].errors += context_errors
        load_catalog().warm()  # once, before forking: workers inherit the tables
    home = os.getpid()

    def check_piece(piece: Plan) -> tuple[Loaded, list[Finding]]:
        loaded = load_plan(piece, load_options)
        # Each document within its time budget: one that runs out becomes an input error.
        found = loaded.evaluate_each(lambda doc: document_findings(doc, rules, settings))
        if os.getpid() != home:  # a worker's results are pickled back: only what reports read
            for doc in loaded.documents:
                doc.strip_for_report()
        return loaded, found

    # For the whole run, not per document; workers inherit both.
    with limits.paused_gc(), limits.shared_alarm():
        results = fan_out(check_piece, pieces, options.jobs)
    documents = sorted((d for loaded, _ in results for d in loaded.documents), key=lambda d: (d.kind != "app", d.path))
    findings = conclude([f for _, found in results for f in found], documents, rules, settings, options.config.ignore)
    input_errors = sorted(
        (e for loaded, _ in results for e in loaded.errors), key=lambda e: (e.path, e.line, e.col, e.message)
    )
    skipped = sorted(s for loaded, _ in results for s in loaded.skipped)
    return CheckResult(rules, documents, findings, errors + input_errors, skipped)


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
