"""bglint's Python API for security teams and tools: load, list roles, ask, get findings.

Stable: the names below keep their meaning across releases; new optional parameters and
fields may be added. Everything else in the package is internal.

    from bglint import api

    loaded = api.load(["apps/demo"])
    for role in loaded.roles:
        answer = role.can("ec2:RebootInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc")
        print(role.name, answer.allowed, answer.conditions)
    for finding in loaded.findings:
        print(finding.rule, finding.severity, finding.path, finding.line, finding.message)

`Role.can` answers for the role's identity policies (inline, attached, AWS-managed), its
explicit Denies and its permissions boundary. Without `context` it answers "for some
request": `conditions` lists the IAM conditions the grant depends on (conditions that hold
for every request of the action are left out; Denies count only when their conditions always
hold). With `context` (condition keys and values of one request, e.g.
`{"aws:ResourceTag/install.nuon.co/id": "inst123"}`), conditions are evaluated exactly and
a key absent from `context` is absent from the request.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bglint import model
    from bglint.iam.effective import Permissions

__all__ = ["Condition", "Decision", "Finding", "Loaded", "Role", "load"]


@dataclass(frozen=True)
class Condition:
    """One IAM condition a grant depends on, as written: `StringEquals`, `aws:ResourceTag/k`, values."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """Whether the role may perform the request, and under which conditions (none: unconditionally)."""

    allowed: bool
    conditions: tuple[Condition, ...] = ()

    @property
    def unconditional(self) -> bool:
        return self.allowed and not self.conditions


@dataclass(frozen=True)
class Finding:
    """One rule violation, as `bglint check --format json` reports it."""

    rule: str
    severity: str  # error | warning | note
    path: str
    line: int
    col: int
    role: str
    message: str
    fix: str
    suppressed: bool


@dataclass(frozen=True)
class Role:
    """An AWS IAM role bglint found (a template's logical id or an app config's role name)."""

    name: str
    role_name: str  # IAM RoleName as written, "" when CloudFormation generates it
    path: str  # the file that defines it
    line: int
    break_glass: bool  # selected as a break-glass role (the rules that judge break-glass access apply)
    _role: model.Role = field(repr=False, compare=False)

    def can(
        self, action: str, resource: str = "*", context: Mapping[str, str | Sequence[str]] | None = None
    ) -> Decision:
        """Can the role perform `action` on `resource` (an ARN, or "*" for actions without one)?"""
        found = self._permissions.can(action, resource, context)
        return Decision(found.allowed, tuple(Condition(c.operator, c.key, c.values) for c in found.conditions))

    @functools.cached_property
    def _permissions(self) -> Permissions:
        from bglint.iam.catalog import load_catalog
        from bglint.iam.effective import analyse

        return analyse(self._role, load_catalog())


@dataclass(frozen=True)
class Loaded:
    """What `load` read: the roles, the findings of every rule, and the inputs it could not read."""

    roles: tuple[Role, ...]
    findings: tuple[Finding, ...]
    errors: tuple[str, ...]  # `path:line:col: error: message`, as the CLI prints them

    def role(self, name: str) -> Role:
        """The role with this logical id, app-config name or RoleName; KeyError if none or several."""
        hits = [r for r in self.roles if name in (r.name, r.role_name)]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} roles named {name!r}")
        return hits[0]


def load(
    paths: Iterable[str | Path], *, all_roles: bool = False, network: str = "", config: str | Path | None = None
) -> Loaded:
    """Read app configs, templates or directories as `bglint check` does, and evaluate the rules.

    `all_roles`: judge every role as break-glass (`--all-roles`); `network`: customer-managed,
    vendor-managed or unknown (`--network`); `config`: a .bglint.yaml (else found from the
    first path upwards, as the CLI does)."""
    from bglint.errors import InputError
    from bglint.load.config import Config, find_config, load_config
    from bglint.pipeline.check import run_check
    from bglint.pipeline.common import CheckOptions

    chosen = [Path(p) for p in paths]
    found = Path(config) if config is not None else (find_config(chosen[0]) if chosen else None)
    config_errors: list[InputError] = []
    try:
        settings = load_config(found) if found else Config()
    except InputError as exc:
        config_errors.append(exc)
        settings = Config()
    result = run_check(
        chosen, CheckOptions(config=settings, all_roles=all_roles, network=network, keep_statements=True)
    )
    roles = tuple(
        Role(role.name, role.role_name, role.loc.path, role.loc.line, role.break_glass, role)
        for doc in result.documents
        for role in doc.roles
        if role.platform == "aws"
    )
    findings = tuple(
        Finding(
            f.rule.id,
            f.severity,
            f.loc.path,
            f.loc.line,
            f.loc.col,
            f.role,
            f.message,
            f.fix,
            f.suppression is not None,
        )
        for f in result.findings
    )
    errors = tuple(f"{e.path}:{e.line}:{e.col}: error: {e.message}" for e in [*config_errors, *result.errors])
    return Loaded(roles, findings, errors)
