"""What only `bglint audit` adds to the model: how a deployed role differs from its definition,
what IAM says of it, and the account's organisation policies and alerting.

Apart from the core (`bglint.model`) so that checking files never defines them (start-up).
"""

from typing import NamedTuple

from bglint.model import AlertRule, Location, Policy


class Drift(NamedTuple):
    """One way a deployed role differs from its definition in an app config or template."""

    kind: str  # policy-added | policy-missing | policy-changed | boundary-* | trust-widened | not-defined
    subject: str  # the policy, boundary or principal concerned
    detail: str  # in words, for the finding
    definition: Location | None = None  # where the role is defined, when it is


class Deployed(NamedTuple):
    """What IAM says of a role in a live account (bglint audit); credentials are never kept."""

    arn: str
    account: str
    path: str = "/"
    tags: tuple[tuple[str, str], ...] = ()
    created: str = ""  # ISO 8601
    last_used: str = ""  # ISO 8601; "" when IAM has no record
    last_used_region: str = ""


class Alerting(NamedTuple):
    """What would tell someone that a break-glass role was used (bglint audit)."""

    multi_region_trail: bool  # a CloudTrail trail of every region (an organisation trail counts)
    rules: tuple[AlertRule, ...] = ()


class ControlLayer(NamedTuple):
    """The organisation policies attached at one level of an account's path (root, an OU, the
    account): an action must be allowed by one policy of every level, and denied by none."""

    target: str  # r-xxxx, ou-xxxx-yyyyyyyy or the account id
    kind: str  # "scp" (limits the account's principals) | "rcp" (limits its resources)
    policies: tuple[Policy, ...]
