"""Predicates about being told when the glass is broken: alarms on a break-glass role's use, in a
live account (BG034) and in the stack that creates the role (BG035)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from bglint.evaluate.arns import SAMPLE_ACCOUNT, deployed_value, own_role_arn, role_iam_name
from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.model import METRIC_FILTER, AlertRule, Document, DocumentKind, Role
from bglint.regex import Regex

# The head of a literal IAM ARN: `own_role_arn` is in the sample account, in partition `aws`; the
# template's own account and partition are whichever it is deployed to.
_IAM_ARN_HEAD = Regex(r"\barn:aws[a-z-]*:iam::\d{12}:")
# CloudTrail's events reach the default event bus: by name or ARN.
_DEFAULT_BUS = Regex(r"^(?:default|arn:[^:]*:events:[^:]*:[^:]*:event-bus/default)$")


def _fires_for(rule: AlertRule, role: Role) -> bool:
    """An enabled rule with a target whose pattern matches the role's AssumeRole."""
    from bglint.iam.events import fires_on_assume_role  # only an audit with alarm rules pays for it

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


@predicate
def stack_ships_no_alarm(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """With `alerts: {in-stack: required}`: a template's break-glass role whose use no alarm of the stack reports."""
    role, document = subject.role, subject.document
    assert role is not None
    if not subject.settings.alarm_in_stack or document.kind is not DocumentKind.TEMPLATE:
        return
    from bglint.iam.events import fires_on_assume_role  # only a check that asks for alarms pays for it

    arn, resolve = own_role_arn(role), _template_values(document)
    matching = [
        rule
        for rule in document.stack_alarms
        if fires_on_assume_role(rule._replace(pattern=resolve(rule.pattern)), arn)
    ]
    silent = [why for rule in matching if (why := _why_silent(rule))]
    if len(silent) < len(matching):
        return
    detail = (
        "has no alarm on its use in its stack: no AWS::Events::Rule of the template with a target matches its "
        "AssumeRole (CloudTrail's 'AWS API Call via CloudTrail' events), and no CloudWatch alarm with actions "
        "watches a metric filter that does"
    )
    logical = role.logical_id or role.name
    yield Hit(
        role.loc,
        detail + (f" ({'; '.join(silent)})" if silent else ""),
        "add to the stack an AWS::Events::Rule with EventPattern {source: [aws.sts], detail-type: [AWS API Call via "
        f"CloudTrail], detail: {{eventName: [AssumeRole], requestParameters: {{roleArn: [!GetAtt {logical}.Arn]}}}}}} "
        "and an SNS or chat target",
        "stack-alarm",
    )


def _template_values(document: Document) -> Callable[[str], str]:
    """Renders a pattern's `${Role.Arn}` / `${Role}` (from !GetAtt, !Ref, !Sub) as the stack's roles'
    ARNs / names and its pseudo parameters as deployed, so that it compares with `own_role_arn`."""
    if not document.stack_alarms:
        return str
    names = {}
    for role in document.roles:
        logical = role.logical_id or role.name
        names["${" + logical + ".Arn}"], names["${" + logical + "}"] = own_role_arn(role), role_iam_name(role)
    references = re.compile("|".join(map(re.escape, names)) or r"(?!)")

    def resolve(text: str) -> str:
        text = deployed_value(references.sub(lambda found: names[found.group(0)], text))
        return _IAM_ARN_HEAD.sub(f"arn:aws:iam::{SAMPLE_ACCOUNT}:", text)

    return resolve


def _why_silent(rule: AlertRule) -> str:
    """Why a rule or alarm that matches the role's AssumeRole tells nobody; "" when it tells someone."""
    alarm = rule.kind == METRIC_FILTER
    what = f"alarm '{rule.name}'" if alarm else f"rule '{rule.name}'"
    if not alarm and not _DEFAULT_BUS.search(rule.bus):
        return f"{what} is on event bus '{rule.bus}', which CloudTrail's events do not reach"
    if not rule.enabled:
        return f"{what} has its actions disabled" if alarm else f"{what} matches but is disabled"
    if not rule.targets:
        return f"{what} has no AlarmActions" if alarm else f"{what} matches but has no target"
    return ""
