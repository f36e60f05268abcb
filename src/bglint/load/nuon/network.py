"""Decide whether an app runs in a customer-managed network, and say which signal decided.

Signals, strongest first (see docs): the user's statement in config; the VPC nested
stack in stack.toml; a BYO sandbox repository in sandbox.toml; sandbox network vars
(in `[vars]` or a `[[var_file]]`) taken from the customer's install inputs, which Nuon spells
`{{.nuon.install.inputs.x}}` or `{{.nuon.inputs.inputs.x}}`. GCP and Azure installs have no VPC
stack: their signals are the sandbox repository and the network vars their sandboxes take
(network, subnetwork; vnet_name, *_subnet_names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bglint.model import Location, NetworkContext, NetworkKind
from bglint.parse.nodes import Pos, pos_in
from bglint.regex import Regex

_BYO_STACK = "/byo-vpc/"
_VENDOR_STACKS = ("/vpc/eks/", "/vpc/ecs/", "/vpc/minimal/")
_BYO_SANDBOX = Regex(r"byo-?(vpc|eks|vpn|vnet|network|gke|aks)", re.IGNORECASE)
_NETWORK_VAR = Regex(r"^(vpc_(id|name)|.*subnet_(ids?|names?)|(sub)?network(_name|_id)?|vnet_(name|id))$")
# Both spellings of an install input, with or without Go's whitespace trim marker.
_FROM_INPUTS = Regex(r"\{\{-?\s*\.nuon\.(?:install|inputs)\.inputs\.")
# `name = "value"` in a Terraform variables file (HCL), where a network variable may be set.
_TFVARS_LINE = Regex(r'^\s*([A-Za-z_][\w-]*)\s*=\s*"(.*)"', re.M)


def decide_network(
    stack: Any, stack_path: str, sandbox: Any, sandbox_path: str, var_files: Sequence[tuple[str, str]] = ()
) -> NetworkContext:
    """`var_files`: (file shown, text) of the sandbox's variables files."""
    return (
        _from_stack(stack, stack_path)
        or _from_sandbox_repo(sandbox, sandbox_path)
        or _from_sandbox_vars(sandbox, sandbox_path)
        or _from_var_files(var_files)
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


def _from_var_files(var_files: Sequence[tuple[str, str]]) -> NetworkContext | None:
    for path, text in var_files:
        for match in _TFVARS_LINE.finditer(text):
            key, value = match.groups()
            if _NETWORK_VAR.match(key) and _FROM_INPUTS.search(value):
                line = text.count("\n", 0, match.start()) + 1
                return NetworkContext(
                    NetworkKind.CUSTOMER_MANAGED,
                    f"sandbox variables file {path}: {key} comes from the customer's install inputs",
                    Location(path, line, match.start(1) - match.start() + 1, f"var_file.{key}"),
                )
    return None


def _loc(path: str, pos: Pos, logical: str) -> Location:
    return Location(path, pos[0], pos[1], logical)
