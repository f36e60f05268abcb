"""What a predicate looks at: one role (or document) with its context and settings."""

import datetime as dt
import functools
from typing import TYPE_CHECKING, NamedTuple

from bglint.iam.catalog import Catalog, load_catalog
from bglint.iam.effective import Permissions, analyse
from bglint.model import DEFAULT_TAG_KEYS, Document, Role, Suppression

if TYPE_CHECKING:
    from bglint.clouds.access import CloudAccess


class Settings(NamedTuple):
    """The user's knobs that rules read (from config and flags)."""

    tag_keys: tuple[str, ...] = DEFAULT_TAG_KEYS
    subnet_ids: tuple[str, ...] = ()
    vpc_ids: tuple[str, ...] = ()
    drill_interval_days: int = 0  # bglint audit: 0, no drills expected
    incident_windows: tuple[tuple[str, str], ...] = ()
    standing_days: int = 30
    alarm_in_stack: bool = False  # `alerts: {in-stack: required}`: break-glass stacks must ship an alarm (BG035)


class Subject:
    def __init__(
        self,
        document: Document,
        role: Role | None,
        settings: Settings,
        # For the suppression rules only: every suppression, with whether a finding used it.
        suppressions: tuple[tuple[Suppression, bool], ...] = (),
        today: dt.date | None = None,  # None: today
    ) -> None:
        self.document = document
        self.role = role
        self.settings = settings
        self.suppressions = suppressions
        self.today = dt.date.today() if today is None else today

    @property
    def catalog(self) -> Catalog:
        return load_catalog()

    @functools.cached_property
    def permissions(self) -> Permissions:
        assert self.role is not None, "role predicates only run on roles"
        return analyse(self.role, self.catalog)

    @functools.cached_property
    def cloud(self) -> "CloudAccess | None":
        """What a GCP or Azure role can do; None for an AWS role (and for a document)."""
        if self.role is None or self.role.platform not in ("gcp", "azure"):
            return None
        from bglint.clouds.access import cloud_access  # read only when such a role is judged

        return cloud_access(self.role)

    @functools.cached_property
    def written_bits(self) -> int:
        """Actions the role's own policies name literally (no wildcard): what the author meant."""
        bits = 0
        for policy in self.role.policies if self.role else ():
            for statement in policy.statements:
                bits |= _literal_bits(statement.actions)
        return bits


@functools.lru_cache(maxsize=4096)  # AWS-managed policies' statements recur in every role using them
def _literal_bits(actions: tuple[str, ...]) -> int:
    return load_catalog().to_bits(a.lower() for a in actions if "*" not in a)
