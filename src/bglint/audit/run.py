"""Audit accounts: discover the break-glass roles, read them, build the model, record drift.

Accounts are audited side by side (at most `jobs` at a time). Each is read in bulk:
GetAccountAuthorizationDetails (every role with its policies, boundary, tags and last use)
and ListRoles (MaxSessionDuration), a few calls whatever the number of roles. Roles named by
`--role-arn`, and accounts where the bulk call is denied, are read role by role, through one
pool of `jobs` threads for all accounts. An account that fails (access denied, throttled past
the retries, unreachable) becomes one input error; the others are still audited. With
`--from`, saved bulk-read dumps are judged instead, offline (`bglint.audit.offline`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from bglint.audit.alerts import read_alerting
from bglint.audit.discovery import Discovery
from bglint.audit.drift import Definition, compare, find_definition, undefined
from bglint.audit.failures import describe, is_denied
from bglint.audit.organization import OrganizationControls
from bglint.audit.progress import Progress
from bglint.audit.sessions import Secrets, Sessions
from bglint.audit.targets import Shard, organization_accounts
from bglint.errors import InputError
from bglint.findings import Finding
from bglint.load.aws import AccountReader, Documents, RawRole, account_document, account_path, build_role
from bglint.load.aws_details import collect, raw_roles
from bglint.model import Document, Location, NetworkContext, NetworkKind, Role
from bglint.model.audit import Alerting, ControlLayer

DEFAULT_JOBS = 8


@dataclass(frozen=True)
class AuditOptions:
    profile: str | None = None
    region: str | None = None
    assume_role: str = ""  # role name to assume in every audited account
    accounts: tuple[str, ...] = ()  # account ids; empty: the caller's account
    organization: bool = False  # every active account of the caller's AWS Organization
    discovery: Discovery = field(default_factory=Discovery)
    jobs: int = DEFAULT_JOBS
    page_size: int | None = None  # MaxItems of each list call; None: the service's default
    network: str = ""  # stated network kind for every account
    definitions: tuple[Definition, ...] = ()  # from --against: the roles as the repository defines them
    against: tuple[str, ...] = ()  # the --against paths, as given
    progress: bool = False
    shard: Shard | None = None  # audit only this stable slice of the accounts
    keep_records: bool = False  # keep what IAM returned (the per-account snapshots SARIF points at)
    # Judges one role (a one-role document of its account) as soon as it is read, while the
    # other reads go on: the rules add little to the time the reads take.
    judge: Judge | None = None


Judge = Callable[[Document], list[Finding]]
# What the rules need of the account beyond its roles: its control policies (--organization)
# and what would alert on a break-glass role's use (None when not read: --from).
Facts = tuple[tuple[ControlLayer, ...], Alerting | None]


@dataclass
class AccountAudit:
    account: str
    document: Document | None = None
    error: InputError | None = None
    findings: list[Finding] = field(default_factory=list)  # from `AuditOptions.judge`
    records: list[RawRole] = field(default_factory=list)  # with `AuditOptions.keep_records`
    defined_at: dict[str, Location] = field(default_factory=dict)  # role ARN -> its definition (--against)
    source: str = ""  # the dump it was read from (--from)


@dataclass
class AuditResult:
    accounts: list[AccountAudit]
    errors: list[InputError]  # failed accounts, unreadable documents, a failed start
    secrets: Secrets
    planned: list[str] = field(default_factory=list)  # every account of the run, before sharding

    @property
    def documents(self) -> list[Document]:
        return [a.document for a in self.accounts if a.document is not None]


class _AccountFailure(Exception):
    """A reason not to audit an account that is not an AWS error."""


@dataclass
class _Context:
    options: AuditOptions
    sessions: Sessions
    identity: Future[tuple[str, str]]  # (account, partition) of the caller, from sts:GetCallerIdentity
    pool: ThreadPoolExecutor
    progress: Progress
    documents: Documents = field(default_factory=Documents)  # managed policies, normalised once
    controls: OrganizationControls | None = None  # --organization: the SCPs and RCPs

    def caller(self) -> str:
        return self.identity.result()[0]

    def session_for(self, account: str | None) -> Any:
        if account is None:
            return None  # the caller's own session
        if self.options.assume_role:
            return self.sessions.assume(account, self.options.assume_role, self.identity.result()[1])
        if account != self.caller():
            raise _AccountFailure(
                f"the credentials are for account {self.caller()}; give --assume-role ROLE_NAME to audit {account}"
            )
        return None


def run_audit(options: AuditOptions) -> AuditResult:
    secrets = Secrets()
    try:
        sessions = Sessions(options.profile, options.region, options.jobs)
    except Exception as exc:
        return AuditResult([], [InputError("aws", describe(exc, secrets))], secrets)
    with ThreadPoolExecutor(options.jobs, thread_name_prefix="bglint-iam") as pool:
        identity = pool.submit(sessions.caller)
        # The caller's own account (None until STS answers) is listed while STS is asked who it is.
        targets: list[str | None] = [None]
        try:
            if _beyond_caller(options):
                targets = list(_targets(options, sessions, identity.result()[0]))
        except Exception as exc:
            return AuditResult([], [InputError("aws", describe(exc, sessions.secrets))], sessions.secrets)
        planned = [t for t in targets if t is not None]
        if options.shard is not None:
            targets = [t for t in targets if t is not None and options.shard.takes(t)]
        progress = Progress(len(targets), options.progress)
        context = _Context(options, sessions, identity, pool, progress)
        if options.organization:
            context.controls = OrganizationControls(sessions.client("organizations"))
        workers = max(1, min(options.jobs, len(targets)))
        with ThreadPoolExecutor(workers, thread_name_prefix="bglint-account") as accounts_pool:
            results = list(accounts_pool.map(lambda target: _audit_account(target, context), targets))
    progress.close()
    errors = [e for result in results for e in _errors_of(result)]
    return AuditResult(results, errors, sessions.secrets, planned)


def _beyond_caller(options: AuditOptions) -> bool:
    """Whether accounts other than the caller's own (or an assumed role in it) are audited."""
    return bool(options.accounts or options.organization or options.assume_role or options.discovery.role_arns)


def _errors_of(result: AccountAudit) -> list[InputError]:
    return [result.error] if result.error is not None else []


def _targets(options: AuditOptions, sessions: Sessions, caller: str) -> list[str]:
    by_arn = options.discovery.role_names_by_account()
    if by_arn:
        return sorted(by_arn)
    if options.organization:
        return organization_accounts(sessions.client("organizations"))
    return sorted(options.accounts) or [caller]


def _audit_account(target: str | None, context: _Context) -> AccountAudit:
    """Audit one account; `target` None is the caller's own, named once STS has answered."""
    secrets = context.sessions.secrets
    try:
        session = context.session_for(target)
        reader = AccountReader(context.sessions.client("iam", session), context.options.page_size)
        controls = context.controls.layers(target) if context.controls and target else ()
        alerting = read_alerting(
            context.sessions.client("cloudtrail", session), context.sessions.client("events", session)
        )
        records = _records(reader, target, context)
        account_of = lambda: target or context.caller()  # noqa: E731
        result = judge_account(account_of, records, context.options, context.documents, (controls, alerting))
    except Exception as exc:
        context.progress.account_done(False)
        message = str(exc) if isinstance(exc, _AccountFailure) else describe(exc, secrets)
        where = account_path(target) if target else _caller_path(context)
        label = where.removeprefix("aws://") if where != "aws" else "the caller's account"
        return AccountAudit(label, error=InputError(where, secrets.redact(message)))
    context.progress.account_done(True)
    return result


def judge_account(
    account_of: Callable[[], str],
    records: Iterable[RawRole],
    options: AuditOptions,
    documents: Documents,
    facts: Facts = ((), None),
) -> AccountAudit:
    """Build, compare and judge each role as it comes; `account_of` is asked once the first role is in."""
    built: list[tuple[Role, Definition | None]] = []
    problems: list[InputError] = []
    findings: list[Finding] = []
    kept: list[RawRole] = []
    account = ""
    for raw in records:
        account = account or account_of()
        built.append(_build(raw, account, options, documents, problems, findings, facts))
        if options.keep_records:
            kept.append(raw)
    account = account or account_of()
    built.sort(key=lambda item: item[0].loc.path)
    kept.sort(key=lambda raw: str(raw.role.get("Arn", "")))
    roles = [role for role, _ in built]
    network = _account_network(options, [d for _, d in built if d is not None], roles)
    defined_at = {role.loc.path: d.role.loc for role, d in built if d is not None}
    document = account_document(account, roles, network, *facts)
    result = AccountAudit(account, document, None, findings, kept, defined_at)
    if problems:  # a document IAM returned that bglint cannot read: the roles are still judged
        result.error = InputError(account_path(account), "; ".join(f"{p.path}: {p.message}" for p in problems))
    return result


def _records(reader: AccountReader, target: str | None, context: _Context) -> Iterator[RawRole]:
    """The account's break-glass roles as IAM returns them: in bulk, else (named roles, or the bulk
    call denied) role by role, each yielded as soon as it is read."""
    discovery = context.options.discovery
    if not discovery.role_arns:
        try:
            details = collect(reader.details(), discovery.choose, discovery.path_prefix)
        except Exception as exc:
            if not is_denied(exc):
                raise
        else:
            durations = reader.session_durations(discovery.path_prefix)
            records = raw_roles(details, reader.managed, durations)
            context.progress.found(len(records))
            for record in records:
                context.progress.read()
                yield record
            return
    chosen = _discover(reader, target, context)
    context.progress.found(len(chosen))
    futures = [context.pool.submit(_read, reader, name, reason, context.progress) for name, reason in chosen]
    try:
        for future in as_completed(futures):
            raw = future.result()
            if raw is not None:
                yield raw
    finally:
        for future in futures:
            future.cancel()


def _caller_path(context: _Context) -> str:
    """aws://<the caller's account>, or just "aws" when even STS could not say which it is."""
    try:
        return account_path(context.caller())
    except Exception:
        return "aws"


def _build(
    raw: RawRole,
    account: str,
    options: AuditOptions,
    documents: Documents,
    problems: list[InputError],
    findings: list[Finding],
    facts: Facts = ((), None),
) -> tuple[Role, Definition | None]:
    role, errors = build_role(raw, account, options.discovery.selection, documents)
    problems.extend(errors)
    definition = None
    if options.against:
        tags = dict(role.deployed.tags if role.deployed else ())
        definition = find_definition(role.role_name, tags, options.definitions)
        if definition is None:
            role.drift = (undefined(options.against),)
        else:
            role.drift = compare(role, definition)
            if not role.level and definition.role.level:
                role.level, role.level_source = definition.role.level, definition.role.level_source
    if options.judge is not None:
        alone = account_document(account, [role], _role_network(options, definition), *facts)
        findings.extend(options.judge(alone))
    return role, definition


def _discover(reader: AccountReader, account: str | None, context: _Context) -> list[tuple[str, str]]:
    """(role name, why it is break-glass) for the account's break-glass roles, in name order."""
    discovery = context.options.discovery
    explicit = discovery.role_names_by_account()
    if explicit:
        return [(name, "listed by --role-arn") for name in sorted(explicit.get(account or "", ()))]
    chosen: list[tuple[str, str]] = []
    undecided: list[str] = []
    for summary in reader.role_summaries(discovery.path_prefix):
        name = summary["RoleName"]
        reason = discovery.by_name(name)
        if reason:
            chosen.append((name, reason))
        else:
            undecided.append(name)
    # Tags are not in ListRoles: ask for them only for roles whose name did not decide.
    tagged = _in_pool(context.pool, reader.tags, undecided)
    chosen += [
        (name, reason) for name, tags in zip(undecided, tagged, strict=True) if (reason := discovery.by_tags(tags))
    ]
    return sorted(chosen)


def _in_pool(pool: ThreadPoolExecutor, func: Callable[[str], dict[str, str]], names: list[str]) -> list[dict[str, str]]:
    futures = [pool.submit(func, name) for name in names]
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _read(reader: AccountReader, name: str, reason: str, progress: Progress) -> RawRole | None:
    try:
        return reader.read(name, reason)
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") == "NoSuchEntity":
            return None  # deleted since it was listed
        raise
    finally:
        progress.read()


def _role_network(options: AuditOptions, definition: Definition | None) -> NetworkContext:
    """The network a role is judged in: stated, else its definition's, else unknown."""
    if options.network:
        return NetworkContext(NetworkKind(options.network), "stated (--network or the bglint config)")
    if definition is not None and definition.document.network.kind is not NetworkKind.UNKNOWN:
        network = definition.document.network
        return NetworkContext(
            network.kind, f"from the definition in {definition.document.path}: {network.signal}", network.loc
        )
    return NetworkContext(NetworkKind.UNKNOWN, "live account: no definition says (give --network or --against)")


def _account_network(options: AuditOptions, matched: list[Definition], roles: list[Role]) -> NetworkContext:
    """The account's network: the one its roles were judged in, when they agree."""
    kinds = {_role_network(options, d).kind for d in matched} | (
        {NetworkKind.UNKNOWN} if len(matched) < len(roles) else set()
    )
    if len(kinds) > 1:
        return NetworkContext(NetworkKind.UNKNOWN, "differs between roles: each is judged in its definition's")
    return _role_network(options, matched[0] if matched else None)
