"""Predicates over how a deployed break-glass role has been used (bglint audit): IAM's last use.

IAM records only a role's last use (RoleLastUsed; tracked since April 2020, up to 400 days back),
so a use before the last one cannot be judged. Roles read from files have no record: these
predicates judge deployed roles only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.model import Role


def _when(value: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _idle(role: Role, today: dt.date) -> tuple[int, str] | None:
    """(days since the last use, or since creation when never used; in words), None without a record."""
    if role.deployed is None:
        return None
    last = _when(role.deployed.last_used) if role.deployed.last_used else None
    if last is not None:
        return (today - last.date()).days, f"last used {last.date()} ({(today - last.date()).days} days ago)"
    created = _when(role.deployed.created)
    if created is None:
        return None
    return (today - created.date()).days, f"never used since it was created {(today - created.date()).days} days ago"


def unused_since_deployed(subject: Subject) -> Iterator[Hit]:
    """A deployed break-glass role still there long after its last use (or never used): nobody broke the glass.
    Part of BG024's `has_standing_access` (`deployment`), which judges what the stack will deploy."""
    role = subject.role
    assert role is not None
    idle = _idle(role, subject.today)
    limit = subject.settings.standing_days
    if idle is not None and idle[0] > limit:
        yield Hit(
            role.loc,
            f"is still deployed, {idle[1]}: it exists before anyone breaks the glass "
            f"(more than {limit} days unused, `standing-access-days`)",
            "delete the break-glass stack after each incident and create it again when the customer breaks the glass",
            "standing-live",
        )


@predicate
def glass_untested(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """With drills configured: a role not used within the drill interval, or last used outside every incident window."""
    role = subject.role
    assert role is not None
    settings = subject.settings
    idle = _idle(role, subject.today)
    if idle is None:
        return
    if settings.drill_interval_days and idle[0] > settings.drill_interval_days:
        yield Hit(
            role.loc,
            f"has not been tested within the drill interval of {settings.drill_interval_days} days: {idle[1]}",
            "run a break-glass drill (assume the role, check the alarm fires, record it as an incident window)",
            "drill",
        )
    last = _when(role.deployed.last_used) if role.deployed and role.deployed.last_used else None
    if (
        last is not None
        and settings.incident_windows
        and not any(_within(last, start, end) for start, end in settings.incident_windows)
    ):
        yield Hit(
            role.loc,
            f"was used on {last.isoformat(timespec='seconds')} ({role.deployed.last_used_region if role.deployed else ''}), "
            "outside every declared incident or drill window",
            "find out who used it (CloudTrail AssumeRole events) and declare the incident, or revoke its sessions",
            "outside-window",
        )


def _within(moment: dt.datetime, start: str, end: str) -> bool:
    """Whether `moment` falls in [start, end]; a date alone as `end` covers that whole day."""
    begin, finish = _when(start), _when(end)
    if begin is None or finish is None:
        return False
    if len(end.strip()) == 10:
        finish += dt.timedelta(days=1)
    return begin <= moment <= finish
