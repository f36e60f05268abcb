"""Resolve `contents`/`permissions_boundary`/`var_file` references the way Nuon does.

A value starting with `http`, `./`, `../`, `git` or `file` is fetched by Nuon; anything
else is the literal value, and so is a value starting with `./nuon`. A relative path
resolves against one base directory, with no fallback: `permissions/` when the app has
one (for policies and boundaries), a named policy's own folder, or the app root. Nothing
confines a path to the app (apps in one repository share folders), but bglint never reads
outside the tree it checks: the git repository, else the directory given to it. Remote
references are never fetched.
"""

import os
from pathlib import Path
from typing import NamedTuple

from bglint.errors import InputError
from bglint.parse.files import outside, read_bytes

_REMOTE = ("http", "git")
_FETCHED = ("./", "../", "file", *_REMOTE)


def is_reference(value: str) -> bool:
    return value.startswith(_FETCHED) and not value.startswith("./nuon")


class Tree(NamedTuple):
    """What references may reach: the git work tree, else the directory bglint was given."""

    root: Path
    name: str  # "the repository" | "the checked directory"


class Resolved(NamedTuple):
    path: Path | None  # the file to read, when one was found
    problem: str = ""  # why there is none
    remote: bool = False  # a remote reference: not an error, but its document is unknown
    ambiguous_with: Path | None = None  # the same name at the app root, with other content


def resolve(value: str, base: Path, tree: Tree, app_root: Path) -> Resolved:
    if value.startswith(_REMOTE):
        return Resolved(None, f"remote reference '{value}' is not fetched", remote=True)
    relative = value.removeprefix("file::").removeprefix("file://").removeprefix("file:")
    where = Path(os.path.normpath(base / relative))  # `..` taken lexically, as go-getter does
    if not where.is_relative_to(os.path.abspath(tree.root)):
        return Resolved(None, f"'{value}' leads outside {tree.name}; not read")
    if not where.is_file():
        shown = os.path.relpath(where, app_root)
        hint = ""
        at_root = Path(os.path.normpath(app_root / relative))
        if at_root != where and at_root.is_file():
            hint = f"; {os.path.relpath(at_root, app_root)} exists, but Nuon resolves this path against {os.path.relpath(base, app_root)}/ only"
        return Resolved(None, f"'{value}' not found: Nuon reads {shown}{hint}")
    problem = outside(where, tree.root, tree.name)
    if problem:
        return Resolved(None, f"'{value}' {problem}")
    at_root = Path(os.path.normpath(app_root / relative))
    other = at_root if at_root != where and at_root.is_file() and _differ(where, at_root, tree) else None
    return Resolved(where.resolve(), ambiguous_with=other)


def _differ(first: Path, second: Path, tree: Tree) -> bool:
    """Whether two files differ, reading each only as far as the file size limit allows."""
    try:
        return read_bytes(first, str(first), tree.root) != read_bytes(second, str(second), tree.root)
    except InputError:
        return False  # reading the chosen one reports the problem
