"""The control policies on each account's path in an AWS Organization (`--organization`).

Read with organizations:ListParents, ListPoliciesForTarget and DescribePolicy, once per OU
and per policy however many accounts share them (threads share one cache; a race only reads
twice). An organisation without resource control policies enabled simply has none.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from bglint.load.policy import PolicyReader
from bglint.model import Location, Policy, PolicyOrigin
from bglint.model.audit import ControlLayer

_KINDS = (("scp", "SERVICE_CONTROL_POLICY"), ("rcp", "RESOURCE_CONTROL_POLICY"))
_NOT_ENABLED = {
    "PolicyTypeNotEnabledException",
    "InvalidInputException",
    "PolicyTypeNotAvailableForOrganizationException",
}


@dataclass
class OrganizationControls:
    organizations: Any  # a boto3 Organizations client of the management (or delegated) account
    _parents: dict[str, str] = field(default_factory=dict)  # child id -> parent id ("" for the root)
    _layers: dict[tuple[str, str], tuple[Policy, ...]] = field(default_factory=dict)
    _policies: dict[str, Policy] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def layers(self, account: str) -> tuple[ControlLayer, ...]:
        """Root first, then each OU down to the account; SCP and RCP levels."""
        path = [account]
        while parent := self._parent(path[-1]):
            path.append(parent)
        return tuple(
            ControlLayer(target, kind, policies)
            for target in reversed(path)
            for kind, _ in _KINDS
            if (policies := self._attached(target, kind)) is not None
        )

    def _parent(self, child: str) -> str:
        with self._lock:
            if child in self._parents:
                return self._parents[child]
        parents = self.organizations.list_parents(ChildId=child).get("Parents", [])
        parent = "" if not parents else str(parents[0]["Id"])
        if parents and parents[0].get("Type") == "ROOT":
            with self._lock:
                self._parents[parent] = ""
        with self._lock:
            self._parents[child] = parent
        return parent

    def _attached(self, target: str, kind: str) -> tuple[Policy, ...] | None:
        """The policies of `kind` attached to `target`; None when the organisation has none of that kind."""
        with self._lock:
            if (target, kind) in self._layers:
                return self._layers[(target, kind)]
        filter_name = dict(_KINDS)[kind]
        try:
            summaries = [
                item
                for page in self.organizations.get_paginator("list_policies_for_target").paginate(
                    TargetId=target, Filter=filter_name
                )
                for item in page.get("Policies", ())
            ]
        except Exception as exc:
            if kind == "rcp" and _code(exc) in _NOT_ENABLED:
                return None
            raise
        policies = tuple(self._policy(str(item["Id"])) for item in summaries)
        with self._lock:
            self._layers[(target, kind)] = policies
        return policies

    def _policy(self, policy_id: str) -> Policy:
        with self._lock:
            if policy_id in self._policies:
                return self._policies[policy_id]
        described = self.organizations.describe_policy(PolicyId=policy_id)["Policy"]
        summary = described.get("PolicySummary", {})
        arn, name = str(summary.get("Arn", policy_id)), str(summary.get("Name", policy_id))
        reader = PolicyReader(arn, lambda _pos, logical: Location(arn, 0, 0, logical), action_locations=False)
        content = described.get("Content")
        statements = reader.statements(json.loads(content) if isinstance(content, str) else content, name)
        policy = Policy(name, PolicyOrigin.ATTACHED, Location(arn, 0, 0, name), statements, arn=arn, source=arn)
        with self._lock:
            self._policies[policy_id] = policy
        return policy


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
