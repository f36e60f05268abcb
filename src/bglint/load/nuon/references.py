"""Resolve `contents`/`permissions_boundary` references the way Nuon does.

A value starting with `./`, `file`, `http` or `git` is a reference; anything else is
literal JSON. Relative paths resolve against `permissions/` first, then the app root.
References never leave the app directory and remote ones are never fetched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bglint.errors import InputError
from bglint.parse.files import read_bytes

_REMOTE = ("http", "git", "s3://")


def is_reference(value: str) -> bool:
    return value.startswith(("./", "../", "/", "file", *_REMOTE))


@dataclass(frozen=True)
class Resolved:
    path: Path | None  # the file to read, when one was found
    problem: str = ""  # why there is none
    remote: bool = False  # a remote reference: not an error, but its document is unknown
    ambiguous_with: Path | None = None  # another candidate with different content


def resolve(value: str, app_dir: Path) -> Resolved:
    if value.startswith(_REMOTE):
        return Resolved(None, f"remote reference '{value}' is not fetched", remote=True)
    relative = value.removeprefix("file://").removeprefix("file:")
    if Path(relative).is_absolute():
        return Resolved(None, f"absolute path '{value}' is outside the app directory")
    root = app_dir.resolve()
    candidates = [root / "permissions" / relative, root / relative]
    # `..` that leaves the app is refused before anything outside is even looked at.
    candidates = [c for c in candidates if Path(os.path.normpath(c)).is_relative_to(root)]
    if not candidates:
        return Resolved(None, f"'{value}' points outside the app directory")
    found = [c for c in candidates if c.is_file()]
    if not found:
        tried = ", ".join(str(c.relative_to(root)) for c in candidates)
        return Resolved(None, f"'{value}' not found (tried {tried})")
    inside = [c for c in found if c.resolve().is_relative_to(root)]
    if not inside:
        return Resolved(None, f"'{value}' points outside the app directory")
    chosen = inside[0].resolve()
    # Compare only with a candidate that is itself inside the app: nothing outside is read.
    other = inside[1] if len(inside) > 1 and _differ(inside[0], inside[1]) else None
    return Resolved(chosen, ambiguous_with=other)


def _differ(first: Path, second: Path) -> bool:
    """Whether two candidates differ, reading each only as far as the file size limit allows."""
    try:
        return read_bytes(first, str(first)) != read_bytes(second, str(second))
    except InputError:
        return False  # reading the chosen one reports the problem
