"""What bglint reasons about: roles, their policies and the context they live in.

Loaders build these; rules read them; nothing here opens a file or judges.
"""

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from bglint.model.audit import Alerting, ControlLayer, Deployed, Drift
    from bglint.model.nuon import CloudGrant, ConfigNote, QuickCreateLink, RoleReference, Runbook


class NetworkKind(StrEnum):
    CUSTOMER_MANAGED = "customer-managed"
    VENDOR_MANAGED = "vendor-managed"
    UNKNOWN = "unknown"


ACCESS_LEVELS = ("network", "sandbox", "runner", "component")
# Where an app's runbook is looked for when the config names none (any case), as messages name them.
RUNBOOK_NAMES = ("RUNBOOK.md", "BREAK_GLASS.md", "BREAK-GLASS.md", "docs/break-glass*.md", "docs/runbook*.md")
# Values filled in at deploy time, as regular-expression sources to build patterns from: a Nuon
# template (`{{.nuon.install.id}}`) and a CloudFormation Fn::Sub variable (`${AWS::StackName}`).
NUON_TEMPLATE = r"\{\{[^}]*\}\}"
SUB_VARIABLE = r"\$\{[^}]*\}"
PLACEHOLDER = f"{NUON_TEMPLATE}|{SUB_VARIABLE}"
# The tag a role's policies use to scope access to one install, unless the config names others.
DEFAULT_TAG_KEYS = ("install.nuon.co/id",)


class Location(NamedTuple):
    """A place in a file; `logical` is a line-independent path used for fingerprints.

    A named tuple rather than a frozen dataclass: a template makes one per action, and a
    tuple is built several times faster."""

    path: str
    line: int = 0
    col: int = 0
    logical: str = ""


class Condition(NamedTuple):
    operator: str
    key: str
    values: tuple[str, ...]


class Principal(NamedTuple):
    kind: str  # AWS | Service | Federated | CanonicalUser | * (the bare string form)
    value: str


class Statement(NamedTuple):
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
    # CloudFormation functions bglint could not resolve in it (judged as their widest value in
    # an Allow, as nothing in a Deny); findings on the statement say so.
    unresolved: tuple[str, ...] = ()

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


class Policy:
    """A policy as a role holds it. A plain class (mutable: loaders fill facts in after making
    it), not a dataclass, as are Role and Document: defining a dataclass costs start-up time."""

    __slots__ = (
        "arn",
        "conditional",
        "customer_managed",
        "deployed_name",
        "document_known",
        "grants",
        "has_contents",
        "loc",
        "logical_id",
        "managed_policy_name",
        "name",
        "name_loc",
        "origin",
        "rendered_name",
        "source",
        "statement_count",
        "statements",
    )

    def __init__(
        self,
        name: str,
        origin: PolicyOrigin,
        loc: Location,
        statements: tuple[Statement, ...] = (),
        *,
        # False when bglint has no document for it (unknown managed policy, external ARN).
        document_known: bool = True,
        arn: str = "",
        source: str = "",  # the file the document was read from, when it is not `loc.path`
        conditional: bool = False,  # attached only under a CloudFormation condition (Fn::If)
        # The name and path IAM gives a policy of this template (ManagedPolicyName, or the name
        # CloudFormation generates), for the ARN its own role may target.
        deployed_name: str = "",
        # Nuon config facts, kept so integrity rules can judge them.
        managed_policy_name: str = "",
        has_contents: bool = False,
        grants: "tuple[CloudGrant, ...]" = (),  # GCP and Azure entries: what they bind (they carry no IAM document)
        # The stack Nuon generates: a named policy is a managed policy of its own (a managed attachment,
        # as AWS-managed ones are); an inline one is an AWS::IAM::Policy with this logical id.
        customer_managed: bool = False,
        logical_id: str = "",
        rendered_name: str = "",  # the IAM policy name for an example install ("" when not a Nuon name)
        name_loc: Location | None = None,  # where its name is written, when apart from `loc` (Nuon configs)
    ) -> None:
        self.name = name
        self.origin = origin
        self.loc = loc
        self.statements = statements
        self.document_known = document_known
        self.arn = arn
        self.source = source
        self.conditional = conditional
        self.deployed_name = deployed_name
        self.managed_policy_name = managed_policy_name
        self.has_contents = has_contents
        self.grants = grants
        self.statement_count = len(statements)  # kept when the statements are dropped (Document.strip_for_report)
        self.customer_managed = customer_managed
        self.logical_id = logical_id
        self.rendered_name = rendered_name
        self.name_loc = name_loc

    def attached_at(self, loc: Location, conditional: bool) -> "Policy":
        """The same policy as another attachment names it: at `loc`, under a condition or not."""
        attached = Policy.__new__(Policy)
        for name in Policy.__slots__:
            setattr(attached, name, getattr(self, name))
        attached.loc, attached.conditional = loc, conditional
        return attached


class BoundaryState(StrEnum):
    EMPTY = "empty"  # set, but "" or {} (Nuon treats it as none)
    DOCUMENT = "document"  # its document is known
    UNKNOWN = "unknown"  # set, but its document is not available here
    UNUSABLE = "unusable"  # set to what Nuon cannot use as a document (an ARN): nothing bounds the role


class Boundary(NamedTuple):
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


class SourceKind(StrEnum):
    """Where a role is defined."""

    CLOUDFORMATION = "cloudformation"
    NUON_BREAK_GLASS = "nuon-break-glass"  # an app config's break_glass.toml
    NUON_PERMISSIONS = "nuon-permissions"  # an app config's permissions/
    AWS_ACCOUNT = "aws-account"  # read from a live account (`bglint audit`)


class Role:
    __slots__ = (
        "boundary",
        "break_glass",
        "break_glass_reason",
        "deletion_policy",
        "deletion_policy_loc",
        "deployed",
        "drift",
        "gate_condition",
        "level",
        "level_source",
        "loc",
        "logical_id",
        "max_session_duration",
        "max_session_loc",
        "max_session_placeholder",
        "name",
        "name_loc",
        "platform",
        "policies",
        "rendered_exact",
        "rendered_name",
        "role_name",
        "role_path",
        "source_kind",
        "standing",
        "suppressions",
        "trust",
        "update_replace_policy",
        "update_replace_policy_loc",
    )

    def __init__(
        self,
        name: str,  # logical id in a template, the `name` in an app config
        loc: Location,
        source_kind: SourceKind,
        *,
        platform: str = "aws",  # aws | gcp | azure
        break_glass: bool = False,
        break_glass_reason: str = "",
        level: str = "",  # network | sandbox | runner | component, when declared
        level_source: str = "",
        policies: list[Policy] | None = None,
        boundary: Boundary | None = None,
        trust: tuple[Statement, ...] = (),
        gate_condition: str = "",  # the CloudFormation Condition that gates the role
        deletion_policy: str = "",
        role_name: str = "",  # IAM RoleName as written (may hold templates)
        role_path: str = "/",  # IAM Path
        suppressions: "tuple[Suppression, ...]" = (),  # written on the role (Metadata, a TOML comment)
        # Break-glass workflow facts (templates only): how long a session lasts, what a replacement keeps.
        max_session_duration: int | None = None,  # seconds; None when not set (AWS default: 3600) or not a number
        max_session_loc: Location | None = None,
        # A placeholder MaxSessionDuration may render to (`${Duration}` for a parameter with no Default,
        # `${Fn::ImportValue}`): whoever installs the stack, or another stack, decides it.
        max_session_placeholder: str = "",
        update_replace_policy: str = "",
        # Where the two are written (None when absent): a finding about them points there.
        deletion_policy_loc: Location | None = None,
        update_replace_policy_loc: Location | None = None,
        # Why the role exists before anyone breaks the glass ("" when it is created only on demand).
        standing: str = "",
        logical_id: str = "",  # in the stack that creates it (Nuon's generated stack, for app configs)
        # The IAM role name for an example install; `rendered_exact` is False when parts of it could
        # not be rendered (they count as nothing, so the real name is longer).
        rendered_name: str = "",
        rendered_exact: bool = True,
        name_loc: Location | None = None,  # where its name is written, when apart from `loc` (Nuon configs)
        # bglint audit only: how the deployed role differs from its definition, and what IAM says of it.
        drift: "tuple[Drift, ...]" = (),
        deployed: "Deployed | None" = None,
    ) -> None:
        self.name = name
        self.loc = loc
        self.source_kind = source_kind
        self.platform = platform
        self.break_glass = break_glass
        self.break_glass_reason = break_glass_reason
        self.level = level
        self.level_source = level_source
        self.policies = [] if policies is None else policies
        self.boundary = boundary
        self.trust = trust
        self.gate_condition = gate_condition
        self.deletion_policy = deletion_policy
        self.role_name = role_name
        self.role_path = role_path
        self.suppressions = suppressions
        self.max_session_duration = max_session_duration
        self.max_session_loc = max_session_loc
        self.max_session_placeholder = max_session_placeholder
        self.update_replace_policy = update_replace_policy
        self.deletion_policy_loc = deletion_policy_loc
        self.update_replace_policy_loc = update_replace_policy_loc
        self.standing = standing
        self.logical_id = logical_id
        self.rendered_name = rendered_name
        self.rendered_exact = rendered_exact
        self.name_loc = name_loc
        self.drift = drift
        self.deployed = deployed


class SuppressionSource(StrEnum):
    """Where a suppression is written."""

    METADATA = "metadata"  # a template resource's Metadata bglint.ignore
    TOML_COMMENT = "toml-comment"  # a comment in an app config's TOML
    CONFIG = "config"  # the config file's `ignore`


class Suppression(NamedTuple):
    """A governed exception: which rule, why, who owns it, until when, and where it is written."""

    rule: str
    reason: str
    loc: Location
    source: SuppressionSource
    owner: str = ""
    until: str = ""  # ISO date; after it the suppression stops suppressing
    role: str = ""  # role name pattern (config suppressions); "" = the role it is written on
    path: str = ""  # path glob (config suppressions)

    def expired(self, today: dt.date) -> bool:
        return bool(self.until) and dt.date.fromisoformat(self.until) < today

    def current(self, today: dt.date) -> bool:
        """Justified and not expired: only then does it suppress."""
        return bool(self.reason) and not self.expired(today)


class NetworkContext(NamedTuple):
    kind: NetworkKind
    signal: str  # what decided, in words
    loc: Location | None = None


_NO_SIGNAL = NetworkContext(NetworkKind.UNKNOWN, "no signal found")


class DocumentKind(StrEnum):
    TEMPLATE = "template"
    APP = "app"
    ACCOUNT = "account"  # a live AWS account (`bglint audit`)
    SUPPRESSIONS = "suppressions"  # the run's suppressions, judged by BG040-BG042


METRIC_FILTER = "metric-filter"  # AlertRule.kind of a CloudWatch alarm on a metric filter


class AlertRule(NamedTuple):
    """What would tell someone of a call: an EventBridge rule of a live account (default bus, the
    audit's region) or of a template, or a template's CloudWatch alarm on a metric filter."""

    name: str
    pattern: str  # the EventPattern as JSON text (a template's with its intrinsics rendered), or the FilterPattern
    targets: int  # the rule's targets, the alarm's AlarmActions
    enabled: bool
    kind: str = "event-pattern"  # or METRIC_FILTER
    bus: str = "default"  # the event bus a template's rule is on, as written


class Document:
    """One unit of checking: a template file or an app config directory."""

    __slots__ = (
        "alerting",
        "controls",
        "generated_stack",
        "identity",
        "kind",
        "network",
        "notes",
        "parameters",
        "path",
        "quickcreate_links",
        "references",
        "role_references",
        "roles",
        "runbook",
        "runbook_searched",
        "stack_alarms",
        "stack_resources",
    )

    def __init__(
        self,
        path: str,
        kind: DocumentKind,
        *,
        roles: list[Role] | None = None,
        network: NetworkContext = _NO_SIGNAL,
        role_references: "list[RoleReference] | None" = None,
        notes: "list[ConfigNote] | None" = None,
        references: list[tuple[str, str]] | None = None,  # (as written, file used)
        # The break-glass workflow around the roles: the app's runbook and the Quick-create links it
        # shares (apps), the template's parameters and every resource of the stack (templates).
        runbook: "Runbook | None" = None,
        # where an app's runbook was looked for; () for templates, and when it was found but unreadable
        runbook_searched: tuple[str, ...] = (),
        quickcreate_links: "list[QuickCreateLink] | None" = None,
        parameters: "tuple[Parameter, ...]" = (),
        stack_resources: "tuple[StackResource, ...]" = (),
        # The path relative to the enclosing git work tree: fingerprints must not depend on the
        # directory bglint runs from or on how the path was typed.
        identity: str = "",
        # bglint audit --organization: the SCPs and RCPs on the account's path, root first.
        controls: "tuple[ControlLayer, ...]" = (),
        alerting: "Alerting | None" = None,  # bglint audit: the account's trail and EventBridge rules
        stack_alarms: tuple[AlertRule, ...] = (),  # templates: the stack's EventBridge rules and metric-filter alarms
        # Apps: the CloudFormation Nuon generates for the roles (`bglint render`); rules read the roles.
        generated_stack: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.roles = [] if roles is None else roles
        self.network = network
        self.role_references = [] if role_references is None else role_references
        self.notes = [] if notes is None else notes
        self.references = [] if references is None else references
        self.runbook = runbook
        self.runbook_searched = runbook_searched
        self.quickcreate_links = [] if quickcreate_links is None else quickcreate_links
        self.parameters = parameters
        self.stack_resources = stack_resources
        self.identity = identity
        self.controls = controls
        self.alerting = alerting
        self.stack_alarms = stack_alarms
        self.generated_stack = generated_stack

    def strip_for_report(self) -> None:
        """Drop, in place, what only evaluation reads: policy statements (reports show the
        count), trust, runbook and stack facts. Once the document is evaluated: what a check
        keeps to the end (or a worker sends back) is then only what suppressions and reports read."""
        for role in self.roles:
            role.trust = ()
            for policy in (*role.policies, *(role.boundary.policies if role.boundary else ())):
                policy.statements = ()
        self.role_references = []
        self.notes = []
        self.runbook = None
        self.runbook_searched = ()
        self.quickcreate_links = []
        self.parameters = ()
        self.stack_resources = ()
        self.stack_alarms = ()
        self.generated_stack = None


class Parameter(NamedTuple):
    """A CloudFormation template parameter."""

    name: str
    loc: Location
    type: str = "String"
    default: str | None = None  # None: no Default, so a value is required
    no_echo: bool = False
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str = ""  # AllowedPattern: a Java regex the whole value must match; "" for none
    max_value: float | None = None  # MaxValue: the largest a Number parameter accepts


class StackResource(NamedTuple):
    """One resource of a template, with the facts that decide whether access outlives the stack."""

    logical_id: str
    type: str
    loc: Location
    deletion_policy: str = ""
    update_replace_policy: str = ""
    deletion_policy_loc: Location | None = None  # where each is written (None when absent)
    update_replace_policy_loc: Location | None = None
    # IAM policies: the principals they attach to, as rendered (`${Rid}` for a resource of this stack)
    attaches_to: tuple[tuple[str, str], ...] = ()  # (Roles | Users | Groups | RoleName..., name)
    # Custom resources and Lambda functions with inline code: what suggests they manage IAM
    iam_mentions: tuple[str, ...] = ()
    # Resource policies (bucket, key, queue, topic, secret...): the AWS principals outside the
    # stack's account they grant
    grants_outside: tuple[str, ...] = ()
