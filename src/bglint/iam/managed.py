"""Documents of the AWS-managed policies break-glass roles attach, by name or ARN.

The data is pinned from moto by scripts/build_managed_policies.py and read on first use.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

from bglint.paths import data_path

POLICIES_FILE = "aws_managed_policies.json"

# arn:<partition>:iam::aws:policy<path><name>; the path is "/" or "/a/b/".
_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::aws:policy(/(?:[^/]+/)*)([^/]+)")


@functools.cache
def _data() -> dict[str, Any]:
    text = data_path("data", POLICIES_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def managed_policy(name_or_arn: str) -> dict[str, Any] | None:
    """The document (default version) of an AWS-managed policy, or None if it is not pinned.

    Accepts a bare name or an ARN in any partition. Names are case-sensitive and an ARN's path
    must be the policy's own (e.g. policy/service-role/...), as IAM requires. The result is a
    fresh copy the caller may change.
    """
    path: str | None = None
    name = name_or_arn
    if name_or_arn.startswith("arn:"):
        match = _ARN.fullmatch(name_or_arn)
        if match is None:
            return None
        path, name = match.groups()
    entry = _data()["policies"].get(name)
    if entry is None or path not in (None, entry["path"]):
        return None
    document: dict[str, Any] = copy.deepcopy(entry["document"])
    return document


def managed_provenance() -> dict[str, str]:
    """Where the documents come from ("source": moto version and file) and "built" (date)."""
    return dict(_data()["provenance"])
