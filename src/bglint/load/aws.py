"""Build the model from a live AWS account's IAM, for `bglint audit`.

Reading and building are apart. `AccountReader` makes only IAM read calls (List*/Get*),
every list call paginated, through a boto3 IAM client it is handed, and returns plain
`RawRole` records; it never imports boto3 itself (`bglint.audit.sessions` makes the
client). An account is read in bulk (`bglint.load.aws_details`: GetAccountAuthorizationDetails
and ListRoles, a few calls whatever the number of roles) or role by role (`read`). `build_role` turns a record into the same `Role`/`Policy`/`Boundary` model the
file loaders build, normalising every document with `PolicyReader`, so the rules judge
a deployed role exactly as they judge a template. One `Document` per account
(`kind="account"`, `path="aws://<account id>"`); a role's location is its ARN (line 0).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from bglint.errors import InputError
from bglint.load.policy import PolicyReader
from bglint.load.selection import Selection
from bglint.model import (
    Boundary,
    BoundaryState,
    Document,
    DocumentKind,
    Location,
    NetworkContext,
    Policy,
    PolicyOrigin,
    Role,
    SourceKind,
    Statement,
)
from bglint.model.audit import Alerting, ControlLayer, Deployed
from bglint.regex import Regex

AWS_MANAGED = Regex(r"^arn:aws(?:-[a-z]+)*:iam::aws:policy/")


def account_path(account: str) -> str:
    return f"aws://{account}"


@dataclass(frozen=True)
class RawPolicy:
    """A policy as IAM returned it: `document` is a mapping or (URL-encoded) JSON text; None if unreadable."""

    name: str
    arn: str = ""  # "" for an inline policy
    document: Any = None
    version: str = ""


@dataclass(frozen=True)
class RawRole:
    role: dict[str, Any]  # GetRole's Role: trust, boundary ARN, tags, MaxSessionDuration, last used
    inline: tuple[RawPolicy, ...] = ()
    attached: tuple[RawPolicy, ...] = ()
    boundary: RawPolicy | None = None
    reason: str = ""  # why discovery chose it


class _Once:
    """A value computed by the first thread that asks; the others wait for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: RawPolicy | None = None


@dataclass
class AccountReader:
    """IAM read calls for one account through one client (boto3 clients are thread-safe)."""

    iam: Any
    page_size: int | None = None
    _managed: dict[str, _Once] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _pages(self, operation: str, page_size: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        size = self.page_size or page_size
        config = {"PageSize": size} if size else {}
        yield from self.iam.get_paginator(operation).paginate(**params, PaginationConfig=config)

    def role_summaries(self, path_prefix: str = "/") -> Iterator[dict[str, Any]]:
        """Every role under `path_prefix` (ListRoles: no tags, no boundary, no last use)."""
        for page in self._pages("list_roles", PathPrefix=path_prefix):
            yield from page.get("Roles", ())

    def details(self) -> Iterator[dict[str, Any]]:
        """GetAccountAuthorizationDetails' pages: every role with its inline policies, attached policies,
        boundary, tags and last use, and the customer-managed policies with their versions (not the
        AWS-managed ones: bglint has their documents). 1000 items a page, the most IAM allows."""
        yield from self._pages("get_account_authorization_details", 1000, Filter=["Role", "LocalManagedPolicy"])

    def session_durations(self, path_prefix: str = "/") -> dict[str, int]:
        """MaxSessionDuration by role name (ListRoles has it, GetAccountAuthorizationDetails does not)."""
        return {
            role["RoleName"]: role["MaxSessionDuration"]
            for page in self._pages("list_roles", 1000, PathPrefix=path_prefix)
            for role in page.get("Roles", ())
            if isinstance(role.get("MaxSessionDuration"), int)
        }

    def tags(self, role_name: str) -> dict[str, str]:
        return {
            tag["Key"]: tag.get("Value", "")
            for page in self._pages("list_role_tags", RoleName=role_name)
            for tag in page.get("Tags", ())
        }

    def read(self, role_name: str, reason: str) -> RawRole:
        role = self.iam.get_role(RoleName=role_name)["Role"]
        inline = tuple(
            RawPolicy(name, document=self.iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
            for page in self._pages("list_role_policies", RoleName=role_name)
            for name in page.get("PolicyNames", ())
        )
        attached = tuple(
            self.managed(item["PolicyArn"])
            for page in self._pages("list_attached_role_policies", RoleName=role_name)
            for item in page.get("AttachedPolicies", ())
        )
        boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", "")
        boundary = self.managed(boundary_arn) if boundary_arn else None
        return RawRole(role, inline, attached, boundary, reason)

    def managed(self, arn: str) -> RawPolicy:
        """A managed policy's default version, read once per account however many roles attach it."""
        with self._lock:
            once = self._managed.setdefault(arn, _Once())
        with once.lock:
            if not once.done:
                once.value = self._read_managed(arn)
                once.done = True
        assert once.value is not None
        return once.value

    def _read_managed(self, arn: str) -> RawPolicy:
        name = arn.rsplit("/", 1)[-1]
        try:
            policy = self.iam.get_policy(PolicyArn=arn)["Policy"]
            version = policy["DefaultVersionId"]
            document = self.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        except Exception as exc:
            if _error_code(exc) == "NoSuchEntity":  # deleted since it was listed: reported as unknown (BG009)
                return RawPolicy(name, arn)
            raise
        return RawPolicy(policy.get("PolicyName", name), arn, document, version)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


# -- building the model ----------------------------------------------------------------


@dataclass
class Documents:
    """Managed policy documents normalised once per (ARN, version), however many roles attach them.

    A statement is stored without locations and placed on each role that uses it (its location
    is the role's ARN). Shared by threads: a race only normalises a document twice.
    """

    _parsed: dict[tuple[str, str], tuple[tuple[Statement, ...], tuple[InputError, ...]]] = field(default_factory=dict)

    def statements(self, raw: RawPolicy, arn: str, logical: str) -> tuple[tuple[Statement, ...], list[InputError]]:
        key = (raw.arn, raw.version)
        found = self._parsed.get(key) if raw.arn else None
        if found is None:
            reader = PolicyReader(raw.arn or arn, _locator(raw.arn or arn), action_locations=False)
            parsed = reader.statements(decode_document(raw.document), logical)
            found = (parsed, tuple(reader.errors))
            if raw.arn:
                self._parsed[key] = found
        statements, errors = found
        placed = tuple(
            s._replace(loc=Location(arn, 0, 0, f"{logical}/Statement[{index}]")) for index, s in enumerate(statements)
        )
        return placed, list(errors)


def build_role(
    raw: RawRole, account: str, selection: Selection, documents: Documents | None = None
) -> tuple[Role, list[InputError]]:
    """The deployed role as the rules see it; problems with its documents are input errors."""
    documents = documents or Documents()
    info = raw.role
    arn: str = info["Arn"]
    name: str = info["RoleName"]
    errors: list[InputError] = []

    def statements(policy: RawPolicy, logical: str) -> tuple[Statement, ...]:
        found, problems = documents.statements(policy, arn, logical)
        errors.extend(problems)
        return found

    loc = Location(arn, 0, 0, arn)
    level = selection.level_for([name])
    duration = info.get("MaxSessionDuration")
    role = Role(
        name=name,
        loc=loc,
        source_kind=SourceKind.AWS_ACCOUNT,
        break_glass=True,
        break_glass_reason=raw.reason,
        level=level,
        level_source="config" if level else "",
        role_name=name,
        trust=statements(RawPolicy("trust", document=info.get("AssumeRolePolicyDocument")), "AssumeRolePolicyDocument"),
        max_session_duration=duration if isinstance(duration, int) else None,
        max_session_loc=loc if isinstance(duration, int) else None,
        deployed=_deployed(info, account),
    )
    role.policies.extend(_inline(arn, policy, statements) for policy in raw.inline)
    role.policies.extend(_attached(arn, policy, statements) for policy in raw.attached)
    if raw.boundary is not None:
        policy = _attached(arn, raw.boundary, statements, "PermissionsBoundary")
        state = BoundaryState.DOCUMENT if policy.document_known else BoundaryState.UNKNOWN
        role.boundary = Boundary(state, policy.loc, (policy,), raw.boundary.arn)
    return role, errors


def account_document(
    account: str,
    roles: list[Role],
    network: NetworkContext,
    controls: tuple[ControlLayer, ...] = (),
    alerting: Alerting | None = None,
) -> Document:
    return Document(
        path=account_path(account),
        kind=DocumentKind.ACCOUNT,
        roles=roles,
        network=network,
        controls=controls,
        alerting=alerting,
    )


def _locator(arn: str) -> Callable[[tuple[int, int], str], Location]:
    return lambda _pos, logical: Location(arn, 0, 0, logical)


def decode_document(value: Any) -> Any:
    """IAM's API returns documents URL-encoded; boto3 decodes them, a raw string is decoded here."""
    if isinstance(value, str):
        text = unquote(value) if value.lstrip().startswith("%") else value
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            return text  # PolicyReader reports it as invalid JSON
    return value


Normalise = Callable[[RawPolicy, str], tuple[Statement, ...]]


def _inline(arn: str, raw: RawPolicy, statements: Normalise) -> Policy:
    logical = f"RolePolicy/{raw.name}"
    return Policy(
        name=raw.name,
        origin=PolicyOrigin.INLINE,
        loc=Location(arn, 0, 0, logical),
        statements=statements(raw, logical),
    )


def _attached(arn: str, raw: RawPolicy, statements: Normalise, kind: str = "AttachedPolicy") -> Policy:
    logical = f"{kind}/{raw.name}"
    known = raw.document is not None
    return Policy(
        name=raw.name,
        origin=PolicyOrigin.AWS_MANAGED if AWS_MANAGED.match(raw.arn) else PolicyOrigin.ATTACHED,
        loc=Location(arn, 0, 0, logical),
        statements=statements(raw, logical) if known else (),
        document_known=known,
        arn=raw.arn,
        source=f"{raw.arn} ({raw.version})" if raw.version else raw.arn,
    )


def _deployed(info: dict[str, Any], account: str) -> Deployed:
    used = info.get("RoleLastUsed") or {}
    return Deployed(
        arn=info["Arn"],
        account=account,
        path=info.get("Path", "/"),
        tags=tuple((t["Key"], t.get("Value", "")) for t in info.get("Tags") or ()),
        created=_iso(info.get("CreateDate")),
        last_used=_iso(used.get("LastUsedDate")),
        last_used_region=used.get("Region", ""),
    )


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value) if value else ""
