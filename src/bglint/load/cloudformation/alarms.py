"""The alarms a stack ships: its EventBridge rules, and its CloudWatch alarms on metric filters.

Read for BG035 (does a break-glass stack alarm on its role's use), as the model's `AlertRule`s
that a live account's rules also become. An `AWS::Events::Rule` keeps its `EventPattern` as
JSON text with the intrinsics rendered (`!GetAtt Role.Arn` stays `${Role.Arn}`, `!Ref Role`
`${Role}`: the rules resolve them against the roles); an `AWS::CloudWatch::Alarm` on the metric
an `AWS::Logs::MetricFilter` publishes keeps that filter's `FilterPattern`. Nothing is judged here.
"""

from __future__ import annotations

import json
from typing import Any

from bglint.load.intrinsics import Renderer, is_intrinsic
from bglint.model import METRIC_FILTER, AlertRule
from bglint.parse.nodes import table_in

_ALARM_TYPES = ("AWS::Events::Rule", "AWS::CloudWatch::Alarm")
# The filters of EventBridge patterns whose value is one text (the others take lists).
_ONE_VALUE = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_MAX_DEPTH = 64  # nesting of a pattern written in YAML; deeper parts are dropped


def read_alarms(resources: dict[str, Any], renderer: Renderer) -> tuple[AlertRule, ...]:
    found: list[AlertRule] = []
    filters: dict[tuple[str, str], list[tuple[str, str]]] | None = None
    for rid, body in resources.items():
        kind = body.get("Type") if isinstance(body, dict) else None
        if kind not in _ALARM_TYPES:
            continue
        props = table_in(body, "Properties")
        if kind == "AWS::Events::Rule" and "EventPattern" in props:
            found.append(_event_rule(str(rid), props, renderer))
        elif kind == "AWS::CloudWatch::Alarm":
            filters = _metric_filters(resources, renderer) if filters is None else filters
            found += _filter_alarms(str(rid), props, filters, renderer)
    return tuple(found)


def _event_rule(rid: str, props: dict[str, Any], renderer: Renderer) -> AlertRule:
    raw = props["EventPattern"]
    if isinstance(raw, dict) and not is_intrinsic(raw):
        pattern = json.dumps(_plain(raw, renderer, 0))
    else:  # a JSON string, or one built by Fn::Sub
        pattern = _text(raw, renderer)
    states = {r.text.upper() for r in renderer.texts(props.get("State"))} or {"ENABLED"}
    return AlertRule(
        rid,
        pattern,
        _count(props.get("Targets")),
        enabled=states != {"DISABLED"},  # every branch of an Fn::If may be deployed
        bus=_text(props.get("EventBusName"), renderer) or "default",
    )


def _plain(node: Any, renderer: Renderer, depth: int, one_value: bool = False) -> Any:
    """A pattern written in YAML or JSON as plain data: each intrinsic as the texts it may render."""
    if depth > _MAX_DEPTH:
        return None
    if is_intrinsic(node):
        texts = [r.text for r in renderer.items(node)]
        return (texts[0] if texts else "") if one_value else texts
    if isinstance(node, dict):
        return {str(k): _plain(v, renderer, depth + 1, k in _ONE_VALUE) for k, v in node.items()}
    if isinstance(node, list):
        items: list[Any] = []
        for item in node:
            if is_intrinsic(item):
                items += [r.text for r in renderer.items(item)]
            else:
                items.append(_plain(item, renderer, depth + 1))
        return items
    return node


def _metric_filters(resources: dict[str, Any], renderer: Renderer) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(metric name, namespace) -> (filter's logical id, its FilterPattern), for every metric filter."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for rid, body in resources.items():
        if not (isinstance(body, dict) and body.get("Type") == "AWS::Logs::MetricFilter"):
            continue
        props = table_in(body, "Properties")
        pattern = _text(props.get("FilterPattern"), renderer)
        transformations = props.get("MetricTransformations")
        for item in transformations if isinstance(transformations, list) else ():
            item = item if isinstance(item, dict) else {}
            metric = (_text(item.get("MetricName"), renderer), _text(item.get("MetricNamespace"), renderer))
            found.setdefault(metric, []).append((str(rid), pattern))
    return found


def _filter_alarms(
    rid: str, props: dict[str, Any], filters: dict[tuple[str, str], list[tuple[str, str]]], renderer: Renderer
) -> list[AlertRule]:
    """The alarm once per metric filter whose metric it watches (directly or in `Metrics`)."""
    watched = [(_text(props.get("MetricName"), renderer), _text(props.get("Namespace"), renderer))]
    metrics = props.get("Metrics")
    for query in metrics if isinstance(metrics, list) else ():
        metric = table_in(table_in(query if isinstance(query, dict) else {}, "MetricStat"), "Metric")
        watched.append((_text(metric.get("MetricName"), renderer), _text(metric.get("Namespace"), renderer)))
    enabled = {r.text.lower() for r in renderer.texts(props.get("ActionsEnabled"))} != {"false"}
    actions = _count(props.get("AlarmActions"))
    return [
        AlertRule(f"{rid} (metric filter {filter_id})", pattern, actions, enabled, kind=METRIC_FILTER)
        for metric in dict.fromkeys(watched)
        if metric[0]
        for filter_id, pattern in filters.get(metric, ())
    ]


def _text(value: Any, renderer: Renderer) -> str:
    return next((r.text for r in renderer.texts(value)), "") if value is not None else ""


def _count(value: Any) -> int:
    """Targets or actions in a list (one under an Fn::If counts: it may be deployed)."""
    if isinstance(value, list):
        return sum(1 for item in value if item != {"Ref": "AWS::NoValue"})
    return 1 if is_intrinsic(value) else 0
