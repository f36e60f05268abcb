"""What bglint reasons about: roles, their policies and the context they live in.

Loaders build these; rules read them; nothing here opens a file or judges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class NetworkKind(StrEnum):
    CUSTOMER_MANAGED = "customer-managed"
    VENDOR_MANAGED = "vendor-managed"
    UNKNOWN = "unknown"


ACCESS_LEVELS = ("network", "sandbox", "runner", "component")


@dataclass(frozen=True)
class Location:
    """A place in a file; `logical` is a line-independent path used for fingerprints."""

    path: str
    line: int = 0
    col: int = 0
    logical: str = ""


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    kind: str  # AWS | Service | Federated | CanonicalUser | * (the bare string form)
    value: str


@dataclass(frozen=True)
class Statement:
    """One policy statement, normalised: every field a tuple, intrinsics rendered to text."""

    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    loc: Location
    not_action: bool = False
    not_resource: bool = False
    conditions: tuple[Condition, ...] = ()
    principals: tuple[Principal, ...] = ()
    not_principal: bool = False
    sid: str = ""
    action_locs: tuple[Location, ...] = ()
    # True when part of the statement sits under a CloudFormation Fn::If: it may not apply.
    conditional: bool = False

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    def action_loc(self, index: int) -> Location:
        return self.action_locs[index] if index < len(self.action_locs) else self.loc


class PolicyOrigin(StrEnum):
    INLINE = "inline"  # written in the role or in the app config
    ATTACHED = "attached"  # a policy resource of the same template, attached to the role
    AWS_MANAGED = "aws-managed"  # an AWS-managed policy, by ARN or Nuon managed_policy_name
    EXTERNAL = "external"  # a customer-managed ARN, a parameter: its document is not here


@dataclass
class Policy:
    name: str
    origin: PolicyOrigin
    loc: Location
    statements: tuple[Statement, ...] = ()
    # False when bglint has no document for it (unknown managed policy, external ARN).
    document_known: bool = True
    arn: str = ""
    source: str = ""  # the file the document was read from, when it is not `loc.path`
    conditional: bool = False  # attached only under a CloudFormation condition (Fn::If)
    # Nuon config facts, kept so integrity rules can judge them.
    managed_policy_name: str = ""
    has_contents: bool = False


class BoundaryState(StrEnum):
    NONE = "none"  # not set
    EMPTY = "empty"  # set, but "" or {} (Nuon treats it as none)
    DOCUMENT = "document"  # its document is known
    UNKNOWN = "unknown"  # set, but its document is not available here


@dataclass
class Boundary:
    state: BoundaryState
    loc: Location
    policies: tuple[Policy, ...] = ()  # several when a Fn::If picks between boundaries
    reference: str = ""  # the value as written (ARN, file reference)
    # A CloudFormation condition under which there is no boundary at all (Fn::If with
    # AWS::NoValue): bglint then judges the role as unbounded.
    absent_unless: str = ""

    @property
    def bounds(self) -> bool:
        """A document that applies whatever the stack's parameters: the only kind that limits."""
        return self.state is BoundaryState.DOCUMENT and not self.absent_unless


@dataclass
class Role:
    name: str  # logical id in a template, the `name` in an app config
    loc: Location
    source_kind: str  # cloudformation | nuon-break-glass | nuon-permissions
    platform: str = "aws"  # aws | gcp | azure
    break_glass: bool = False
    break_glass_reason: str = ""
    level: str = ""  # network | sandbox | runner | component, when declared
    level_source: str = ""
    policies: list[Policy] = field(default_factory=list)
    boundary: Boundary | None = None
    trust: tuple[Statement, ...] = ()
    gate_condition: str = ""  # the CloudFormation Condition that gates the role
    deletion_policy: str = ""
    role_name: str = ""  # IAM RoleName as written (may hold templates)
    suppressed: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkContext:
    kind: NetworkKind
    signal: str  # what decided, in words
    loc: Location | None = None


@dataclass(frozen=True)
class RoleReference:
    """A place that names a break-glass role by name (e.g. an action's break_glass_role)."""

    name: str
    loc: Location


@dataclass(frozen=True)
class ConfigNote:
    """Something the loader noticed but that is not an error, e.g. an unknown key."""

    message: str
    loc: Location
    kind: str  # unknown-key | ambiguous-reference


@dataclass
class Document:
    """One unit of checking: a template file or an app config directory."""

    path: str
    kind: str  # template | app
    roles: list[Role] = field(default_factory=list)
    network: NetworkContext = NetworkContext(NetworkKind.UNKNOWN, "no signal found")
    role_references: list[RoleReference] = field(default_factory=list)
    notes: list[ConfigNote] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)  # (as written, file used)
