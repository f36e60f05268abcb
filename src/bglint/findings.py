"""What a run produces and the rules that produce it: plain data every stage may share.

A leaf: it imports only the model, so formatters, the baseline and the pipeline can read
findings without importing the engine or the IAM analysis.
"""

from enum import StrEnum
from typing import Any, NamedTuple

from bglint.model import Location, Suppression

BASELINE_FORMAT = "bglint-baseline/1"
DEFAULT_BASELINE = ".bglint-baseline.json"  # what `bglint baseline create` writes by default
# cfn-lint's rule ids as bglint reports them (`--cfn-lint`): CFNLINT-E3002. A bglint or user
# rule id is letters then digits, never with a hyphen, so the two can never collide.
CFN_LINT_PREFIX = "CFNLINT-"


class BaselineEntry(NamedTuple):
    fingerprint: str
    rule: str
    path: str
    role: str


class AppliesTo(StrEnum):
    """What a rule's predicate is run on."""

    BREAK_GLASS_ROLES = "break-glass-roles"
    ALL_ROLES = "all-roles"
    DOCUMENT = "document"  # once per template, app config or account
    SUPPRESSIONS = "suppressions"  # once per run, on every suppression


class When(NamedTuple):
    network: tuple[str, ...] = ()  # empty: any
    level: tuple[str, ...] = ()
    platform: tuple[str, ...] = ("aws",)

    def matches(self, network: str, level: str, platform: str) -> bool:
        return (
            (not self.network or network in self.network)
            and (not self.level or level in self.level)
            and (not self.platform or platform in self.platform)
        )


class Rule(NamedTuple):
    id: str
    name: str
    title: str
    severity: str
    security_severity: float
    message: str
    rationale: str
    remediation: str
    help: str
    predicate: str
    params: dict[str, Any]
    applies_to: AppliesTo
    when: When
    overrides: tuple[tuple[When, str], ...] = ()
    example: str = ""
    fixed: str = ""  # the example, fixed
    source: str = ""
    tags: tuple[str, ...] = ()

    def severity_for(self, network: str, level: str, platform: str) -> str:
        for when, severity in self.overrides:
            if when.matches(network, level, platform):
                return severity
        return self.severity


class Hit(NamedTuple):
    """One thing a predicate found: where, what (in words), and the smallest fix."""

    loc: Location
    detail: str
    fix: str = ""
    key: str = ""  # what distinguishes this hit from others of the rule on the same role


class Finding(NamedTuple):
    rule: Rule
    severity: str
    message: str
    fix: str
    loc: Location
    document: str
    role: str
    identity: tuple[str, str, str, str]  # rule id, document, role, logical key: see `fingerprint`
    suppression: Suppression | None = None  # set when a current, justified suppression covers it
    detail: str = ""  # the predicate's words alone, without the rule's framing: the short text line

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.identity)


def fingerprint_of(identity: tuple[str, ...]) -> str:
    """A finding's identity for baselines and SARIF, line-independent, as 32 hex digits.

    Computed where it is shown or compared, not for every finding: hashlib (OpenSSL) costs a
    one-file check more to import than most of its work. Baselines keep these values: never
    change how they are made.
    """
    import hashlib

    # A path the OS gave as bytes that are not UTF-8 holds surrogates: hash those bytes.
    return hashlib.sha256("\x00".join(identity).encode("utf-8", "surrogateescape")).hexdigest()[:32]
