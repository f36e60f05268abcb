"""Decide whether an app runs in a customer-managed network, and say which signal decided.

Signals, strongest first (see docs): the user's statement in config; the VPC nested
stack in stack.toml; a BYO sandbox repository in sandbox.toml; sandbox network vars
taken from the customer's install inputs.
"""

from __future__ import annotations

import re
from typing import Any

from bglint.model import Location, NetworkContext, NetworkKind
from bglint.parse.nodes import Pos, pos_in

_BYO_STACK = "/byo-vpc/"
_VENDOR_STACKS = ("/vpc/eks/", "/vpc/ecs/", "/vpc/minimal/")
_BYO_SANDBOX = re.compile(r"byo-?vpc|byo-?eks|byovpn", re.IGNORECASE)
_NETWORK_VAR = re.compile(r"^(vpc_id|.*subnet_ids?)$")
_FROM_INPUTS = re.compile(r"\{\{\s*\.nuon\.install\.inputs\.")


def decide_network(stack: Any, stack_path: str, sandbox: Any, sandbox_path: str) -> NetworkContext:
    return (
        _from_stack(stack, stack_path)
        or _from_sandbox_repo(sandbox, sandbox_path)
        or _from_sandbox_vars(sandbox, sandbox_path)
        or NetworkContext(NetworkKind.UNKNOWN, "no signal in stack.toml or sandbox.toml")
    )


def _from_stack(stack: Any, path: str) -> NetworkContext | None:
    if not isinstance(stack, dict):
        return None
    url = stack.get("vpc_nested_template_url")
    if not isinstance(url, str):
        return None
    loc = _loc(path, pos_in(stack, "vpc_nested_template_url"), "vpc_nested_template_url")
    if _BYO_STACK in url:
        return NetworkContext(
            NetworkKind.CUSTOMER_MANAGED, "stack.toml vpc_nested_template_url is the BYO-VPC stack", loc
        )
    if any(marker in url for marker in _VENDOR_STACKS):
        return NetworkContext(NetworkKind.VENDOR_MANAGED, "stack.toml vpc_nested_template_url creates the VPC", loc)
    return None


def _from_sandbox_repo(sandbox: Any, path: str) -> NetworkContext | None:
    if not isinstance(sandbox, dict):
        return None
    for section in ("public_repo", "connected_repo"):
        repo = sandbox.get(section)
        if not isinstance(repo, dict):
            continue
        for key in ("repo", "directory"):
            value = repo.get(key)
            if isinstance(value, str) and _BYO_SANDBOX.search(value):
                loc = _loc(path, pos_in(repo, key), f"{section}.{key}")
                return NetworkContext(
                    NetworkKind.CUSTOMER_MANAGED,
                    f"sandbox.toml {section}.{key} '{value}' is a bring-your-own sandbox",
                    loc,
                )
    return None


def _from_sandbox_vars(sandbox: Any, path: str) -> NetworkContext | None:
    variables = sandbox.get("vars") if isinstance(sandbox, dict) else None
    if not isinstance(variables, dict):
        return None
    for key, value in variables.items():
        if _NETWORK_VAR.match(key) and isinstance(value, str) and _FROM_INPUTS.search(value):
            loc = _loc(path, pos_in(variables, key), f"vars.{key}")
            return NetworkContext(
                NetworkKind.CUSTOMER_MANAGED,
                f"sandbox.toml vars.{key} comes from the customer's install inputs",
                loc,
            )
    return None


def _loc(path: str, pos: Pos, logical: str) -> Location:
    return Location(path, pos[0], pos[1], logical)
