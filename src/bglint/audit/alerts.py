"""What would raise an alarm when a break-glass role is used, in a live account.

AWS's break-glass guidance: a CloudTrail trail of every region, and an EventBridge rule on the
role's AssumeRole (CloudTrail's "AWS API Call via CloudTrail" events) with a target that tells
someone. Read with cloudtrail:DescribeTrails (organisation trails included) and, on the default
event bus of the audit's region, events:ListRules and events:ListTargetsByRule for the rules
whose pattern matches some role's AssumeRole: 2 calls, plus one per such rule.
"""

from __future__ import annotations

from typing import Any

from bglint.iam.events import fires_on_assume_role
from bglint.model import AlertRule
from bglint.model.audit import Alerting


def read_alerting(cloudtrail: Any, events: Any) -> Alerting:
    trails = cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", [])
    rules = []
    for page in events.get_paginator("list_rules").paginate():
        for rule in page.get("Rules", ()):
            found = AlertRule(
                str(rule["Name"]), str(rule.get("EventPattern") or ""), 0, rule.get("State") != "DISABLED"
            )
            if not fires_on_assume_role(found, None):  # some role's AssumeRole, whichever it names
                continue
            targets = sum(
                len(target_page.get("Targets", ()))
                for target_page in events.get_paginator("list_targets_by_rule").paginate(Rule=rule["Name"])
            )
            rules.append(found._replace(targets=targets))
    return Alerting(any(t.get("IsMultiRegionTrail") for t in trails), tuple(rules))
