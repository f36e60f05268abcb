"""The `check` pipeline: load -> model -> evaluate, with the user's configuration applied."""

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bglint import limits
from bglint.errors import InputError
from bglint.evaluate.engine import conclude, document_findings
from bglint.evaluate.subject import Settings
from bglint.findings import DEFAULT_BASELINE, Finding, Rule
from bglint.iam.catalog import load_catalog
from bglint.load.discover import Loaded, Plan, load_plan, plan_paths, settle_context
from bglint.model import Document, DocumentKind
from bglint.parallel import fan_out
from bglint.parse.files import read_text
from bglint.pipeline.common import CheckOptions, active_rules, load_options_of, provenance, settings_of

if TYPE_CHECKING:
    from bglint.report import Report
    from bglint.report.permissions import RoleView

# Below this many documents (apps and templates) a check never forks: a pre-commit hook's few
# files take less time than a worker's start (the fork, the catalog tables warmed for it).
MIN_DOCUMENTS_TO_FORK = 16


class CheckResult(NamedTuple):
    rules: list[Rule]
    documents: list[Document]
    findings: list[Finding]
    errors: list[InputError]
    skipped: list[str]
    passed_over: list[tuple[str, str]]


def run_check(paths: list[Path], options: CheckOptions) -> CheckResult:
    """Load and evaluate; with jobs > 1, independent pieces (an app, a batch of templates) run
    in worker processes. The result is the same whatever `jobs` is, in the same order."""
    rules, errors = active_rules(options)
    settings = settings_of(options.config)
    plan = plan_paths(paths)
    load_options = load_options_of(options)
    # Pieces of a few dozen templates at most, with one process or several: a process holds
    # the parse trees of one piece at a time (5,000 templates loaded at once peaked at 225 MB),
    # and forked processes finish close together. A run of a few documents is one piece in this
    # process: forking and warming the catalog cost more there.
    many = len(plan.apps) + len(plan.templates) >= MIN_DOCUMENTS_TO_FORK
    pieces = plan.split(max(options.jobs * 4, len(plan.templates) // 32)) if many else [plan]
    if len(pieces) > 1:
        load_options, context_errors = settle_context(plan, load_options)
        pieces[0].errors += context_errors
        if options.jobs > 1:
            load_catalog().warm()  # once, before forking: workers inherit the tables
            if options.cfn_lint:
                from bglint.evaluate import cfn_lint

                cfn_lint.warm()  # the same for cfn-lint's rules

    def check_piece(piece: Plan) -> tuple[Loaded, list[Finding]]:
        loaded = load_plan(piece, load_options)
        # Each document within its time budget: one that runs out becomes an input error.
        found = loaded.evaluate_each(lambda doc: document_findings(doc, rules, settings))
        if options.cfn_lint:
            found += _cfn_lint_findings(piece, loaded)
        # Reports read only what stripping keeps: whichever process evaluated a document, its
        # statements are not held (a worker's would be pickled back, this process's kept to the end).
        if not options.keep_statements:
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
    passed_over = sorted({s for loaded, _ in results for s in loaded.passed_over})
    # Reports describe every rule a finding names: cfn-lint's too, those it reported.
    reported = {f.rule.id: f.rule for f in found if f.rule.source == "cfn-lint"}
    rules = rules + [reported[key] for key in sorted(reported)]
    return CheckResult(rules, documents, findings, errors + input_errors, skipped, passed_over)


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


def permission_views(
    documents: list[Document], role_name: str | None, settings: Settings, every_action: bool = False
) -> "list[RoleView]":
    """What the break-glass roles (or the one named) can do: for AWS, risk counts, and with
    `every_action` each action with its scoping (the slow part, ~22k actions for `*`); for
    GCP/Azure, the roles and permissions bound."""
    from bglint.clouds.summary import summarise_cloud
    from bglint.iam.effective import analyse
    from bglint.iam.risk import role_risk  # `bglint permissions` only: spared by every check
    from bglint.iam.summary import summarise
    from bglint.report.permissions import RoleView

    catalog = load_catalog()
    views: list[RoleView] = []
    for doc in documents:
        for role in doc.roles:
            if role.platform not in ("aws", "gcp", "azure") or not (
                role.name == role_name or role.role_name == role_name if role_name else role.break_glass
            ):
                continue
            if role.platform != "aws":
                views.append(RoleView(doc, role, summarise_cloud(role), None))
                continue
            perms = analyse(role, catalog)
            actions = summarise(perms, catalog, settings.tag_keys) if every_action else None
            views.append(RoleView(doc, role, role_risk(perms, settings.tag_keys), actions))
    return views


def checked(
    paths: tuple[Path, ...], options: CheckOptions, baseline: Path | None = None, show_skipped: bool = False
) -> "Report":
    """Run the check pipeline and wrap the result as a report (with the baseline applied:
    `baseline`, else the config's, else the default file when there)."""
    result = run_check(list(paths), options)
    baseline = baseline or options.config.baseline or _default_baseline()
    if baseline is None:
        return wrapped(result, show_skipped=show_skipped)
    from bglint.evaluate.baseline import compare
    from bglint.load.baseline import load_baseline

    try:
        checked_places = [doc.path for doc in result.documents] + [str(p) for p in paths]
        findings, baselined, stale = compare(
            result.findings, load_baseline(baseline), checked_places, cfn_lint=options.cfn_lint
        )
    except InputError as exc:
        result.errors.append(exc)
        return wrapped(result, show_skipped=show_skipped)
    return wrapped(result, findings, baselined, stale, show_skipped)


def wrapped(
    result: CheckResult,
    findings: list[Finding] | None = None,
    baselined: int = 0,
    stale: list[str] | None = None,
    show_skipped: bool = False,
) -> "Report":
    """A check's result as a report; `findings` when a baseline left some out."""
    from bglint import __version__
    from bglint.report import Report

    return Report(
        __version__,
        provenance(),
        result.rules,
        result.findings if findings is None else findings,
        result.errors,
        result.documents,
        result.skipped,
        repo_root(Path.cwd()),
        baselined,
        stale or [],
        result.passed_over,
        show_skipped,
    )


def _default_baseline() -> Path | None:
    """`bglint baseline create`'s default file in the working directory, when it is there."""
    default = Path(DEFAULT_BASELINE)
    return default if default.is_file() else None


def merged(reports: "list[Report]") -> "Report":
    """Reports of paths checked under different configs, as one (in the order of a single run)."""
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    rules = {rule.id: rule for report in reports for rule in report.rules}
    return first._replace(
        rules=[rules[key] for key in sorted(rules)],
        findings=sorted(
            (f for r in reports for f in r.findings),
            key=lambda f: (f.loc.path, f.loc.line, f.loc.col, f.rule.id, f.message),
        ),
        errors=sorted((e for r in reports for e in r.errors), key=lambda e: (e.path, e.line, e.col, e.message)),
        documents=sorted((d for r in reports for d in r.documents), key=lambda d: (d.kind != "app", d.path)),
        skipped=sorted(s for r in reports for s in r.skipped),
        baselined=sum(r.baselined for r in reports),
        stale=[s for r in reports for s in r.stale],
        passed_over=sorted(p for r in reports for p in r.passed_over),
    )


def repo_root(start: Path) -> Path:
    """The enclosing git work tree, so SARIF URIs are repository-relative; else `start`."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start
