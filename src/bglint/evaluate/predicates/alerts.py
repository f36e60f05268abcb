"""Predicates about being told when the glass is broken: alarms on a break-glass role's use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.iam.events import fires_on_assume_role
from bglint.model import AlertRule, Role


def _fires_for(rule: AlertRule, role: Role) -> bool:
    """An enabled rule with a target whose pattern matches the role's AssumeRole."""
    arn = role.deployed.arn if role.deployed else ""
    return rule.enabled and rule.targets > 0 and bool(arn) and fires_on_assume_role(rule, arn)


@predicate
def use_raises_no_alarm(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """A deployed break-glass role whose use no multi-region trail and EventBridge rule would report."""
    role = subject.role
    alerting = subject.document.alerting
    assert role is not None
    if alerting is None or role.deployed is None:
        return
    if not alerting.multi_region_trail:
        yield Hit(
            role.loc,
            "can be used without a record in every region: the account has no multi-region CloudTrail trail "
            "(an organisation trail counts)",
            "create a multi-region trail (or an organisation trail) so that every AssumeRole is recorded",
            "trail",
        )
    if not any(_fires_for(rule, role) for rule in alerting.rules):
        yield Hit(
            role.loc,
            "can be used without anyone being told: no enabled EventBridge rule with a target matches its "
            "AssumeRole (CloudTrail's 'AWS API Call via CloudTrail' events, default bus of the audited region)",
            'add a rule {"source": ["aws.sts"], "detail": {"eventName": ["AssumeRole"], "requestParameters": '
            '{"roleArn": [<the role ARN>]}}} with an SNS or chat target',
            "rule",
        )
