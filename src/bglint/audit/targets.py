"""Which accounts to audit: `--accounts` (ids, comma-separated, or a file of them) or an Organization."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bglint.errors import InputError
from bglint.regex import Regex

_ACCOUNT = Regex(r"^\d{12}$")


def parse_accounts(values: tuple[str, ...]) -> list[str]:
    """Account ids in the order given, without repeats. A value naming a file is read:
    ids separated by commas, spaces or lines; `#` starts a comment."""
    found: list[str] = []
    for value in values:
        path = Path(value)
        if not _looks_like_ids(value) and path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(value, f"cannot read accounts file: {exc}") from None
            for number, line in enumerate(text.splitlines(), 1):
                for item in _items(line.split("#", 1)[0]):
                    found.append(_account(item, value, number))
        else:
            found.extend(_account(item, "--accounts") for item in _items(value))
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Shard:
    """`--shard I/N`: the accounts whose stable hash falls in slice I of N (1-based).

    The slice depends on the account id alone, so an account stays in its shard when others
    join or leave the organisation, and every machine computes the same split."""

    index: int
    count: int

    def takes(self, account: str) -> bool:
        digest = hashlib.sha256(account.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(value: str) -> Shard:
    """`I/N` with 1 <= I <= N; ValueError otherwise."""
    index, sep, count = value.partition("/")
    if not (sep and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise ValueError(f"--shard wants I/N with 1 <= I <= N, e.g. 2/8; got {value!r}")
    return Shard(int(index), int(count))


def organization_accounts(organizations: Any) -> list[str]:
    """Every ACTIVE account of the caller's AWS Organization (organizations:ListAccounts, paginated)."""
    ids = [
        account["Id"]
        for page in organizations.get_paginator("list_accounts").paginate()
        for account in page.get("Accounts", ())
        if account.get("Status", "ACTIVE") == "ACTIVE"
    ]
    return sorted(ids)


def _looks_like_ids(value: str) -> bool:
    return all(_ACCOUNT.match(item) for item in _items(value)) and bool(_items(value))


def _items(text: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", text) if item]


def _account(item: str, where: str, line: int = 0) -> str:
    if not _ACCOUNT.match(item):
        raise InputError(where, f"'{item}' is not an AWS account id (12 digits)", line)
    return item
