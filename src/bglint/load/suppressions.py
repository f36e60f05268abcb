"""Read governed suppressions: from template Metadata, TOML comments and the bglint config.

Each names a rule and carries a `reason`, optionally an `owner` and an `until` date.
Whether one is valid, expired or unused is judged later (rules BG040-BG042); here they
are only read, with the place they are written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bglint.errors import InputError, shown
from bglint.model import Location, Suppression, SuppressionSource
from bglint.parse.nodes import pos_in, pos_of
from bglint.regex import Regex

_RULE_ID = Regex(r"^(?:[A-Z][A-Z0-9]*[0-9]{3}|CFNLINT-[A-Z][0-9]+)$")  # CFNLINT-: cfn-lint's, with --cfn-lint
_COMMENT = Regex(r"^\s*#\s*bglint:\s*ignore\s+(.*)$")
_FIELDS = ("reason", "owner", "until")


def from_mapping(raw: Any, loc: Location, source: SuppressionSource, errors: list[InputError]) -> Suppression | None:
    """One suppression written as a mapping ({rule, reason, owner, until[, role, path]})."""
    if not isinstance(raw, dict) or not isinstance(raw.get("rule"), str) or not _RULE_ID.match(raw["rule"]):
        errors.append(InputError(loc.path, "a suppression needs `rule: <rule id>`", loc.line, loc.col))
        return None
    values = {key: raw.get(key) for key in (*_FIELDS, "role", "path")}
    for key, value in values.items():
        if value is not None and not isinstance(value, str | dt.date):
            where = pos_in(raw, key)
            errors.append(InputError(loc.path, f"suppression `{key}` must be a string", *where))
            return None
    until = values["until"]
    if isinstance(until, dt.date):
        until = until.isoformat()
    if until and not _valid_date(until):
        where = pos_in(raw, "until")
        errors.append(
            InputError(loc.path, f"suppression `until` must be a date (YYYY-MM-DD), got {shown(until)}", *where)
        )
        return None
    return Suppression(
        rule=raw["rule"],
        reason=(values["reason"] or "").strip() if isinstance(values["reason"], str) else "",
        loc=Location(loc.path, *(pos_of(raw) if pos_of(raw) != (0, 0) else (loc.line, loc.col)), loc.logical),
        source=source,
        owner=values["owner"] if isinstance(values["owner"], str) else "",
        until=until or "",
        role=values["role"] if isinstance(values["role"], str) else "",
        path=values["path"] if isinstance(values["path"], str) else "",
    )


def from_list(raw: Any, loc: Location, source: SuppressionSource, errors: list[InputError]) -> list[Suppression]:
    if not isinstance(raw, list):
        errors.append(InputError(loc.path, "`ignore` must be a list of suppressions", loc.line, loc.col))
        return []
    found = []
    for index, item in enumerate(raw):
        line, col = pos_in(raw, index)
        here = Location(loc.path, line or loc.line, col or loc.col, f"{loc.logical}/ignore[{index}]")
        suppression = from_mapping(item, here, source, errors)
        if suppression is not None:
            found.append(suppression)
    return found


def from_comments(
    text: str, path: str, owners: list[tuple[int, str]], errors: list[InputError]
) -> dict[str, list[Suppression]]:
    """`# bglint: ignore BG002 reason="..." owner=x until=YYYY-MM-DD` comments, by the role they sit on.

    `owners` are (header line, role name) of the file's roles, in order. A comment belongs
    to the role whose table it is in, or to the role right below its comment block.
    """
    lines = text.splitlines()
    result: dict[str, list[Suppression]] = {}
    for number, line in enumerate(lines, start=1):
        match = _COMMENT.match(line)
        if not match or not owners:
            continue
        role = _owner_of(number, lines, owners)
        parsed = _parse_comment(match.group(1), Location(path, number, 1, f"{role}#bglint-ignore"), errors)
        if parsed is not None:
            result.setdefault(role, []).append(parsed)
    return result


def _owner_of(number: int, lines: list[str], owners: list[tuple[int, str]]) -> str:
    for header, role in owners:
        # "Right above" means in the comment block touching the header: a blank line ends
        # the block, so a comment at the end of the previous role's table stays with that role.
        between = lines[number : header - 1]
        if header > number and all(ln.lstrip().startswith("#") for ln in between):
            return role
    above = [role for header, role in owners if header <= number]
    return above[-1] if above else owners[0][1]


def _parse_comment(body: str, loc: Location, errors: list[InputError]) -> Suppression | None:
    import shlex  # few files carry a suppression comment

    try:
        words = shlex.split(body)
    except ValueError as exc:
        errors.append(InputError(loc.path, f"bglint ignore comment: {exc}", loc.line, loc.col))
        return None
    fields: dict[str, Any] = {"rule": words[0] if words else ""}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or key not in _FIELDS:
            errors.append(InputError(loc.path, f"bglint ignore comment: unknown part {shown(word)}", loc.line, loc.col))
            return None
        fields[key] = value
    return from_mapping(fields, loc, SuppressionSource.TOML_COMMENT, errors)


def _valid_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
