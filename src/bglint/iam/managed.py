"""Every AWS-managed policy: its name, path and default version's document, by name or ARN.

The data is pinned from moto by scripts/build_managed_policies.py (see `pack` for the layout).
Nothing is read until a policy or the provenance is asked for; then the provenance is one small
gzip member, the list of names (and paths) another, and a document is inflated with the few
dozen neighbours that share its member, so a check pays only for the policies it names.
"""

import copy
import functools
import json
import zlib
from typing import Any, NamedTuple

from bglint.iam.spelling import closest
from bglint.paths import data_path
from bglint.regex import Regex

FORMAT = 1
POLICIES_FILE = "aws_managed_policies.json.gz"

# arn:<partition>:iam::aws:policy<path><name>; the path is "/" or "/a/b/".
_ARN = Regex(r"arn:aws(?:-[a-z]+)*:iam::aws:policy(/(?:[^/]+/)*)([^/]+)")


class ManagedPolicy(NamedTuple):
    name: str  # e.g. "ViewOnlyAccess"
    path: str  # e.g. "/job-function/"
    version: str  # the default version, e.g. "v9"
    member: int  # which document member holds it

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::aws:policy{self.path}{self.name}"

    @property
    def path_and_name(self) -> str:
        """What follows "policy/" in its ARN, as Nuon's managed_policy_name must give it."""
        return f"{self.path[1:]}{self.name}"


class ManagedPolicies:
    """The packed policies of one file; the index and each member are inflated on first use."""

    def __init__(self, blob: bytes) -> None:
        """`blob`: the bytes of a file `pack` made."""
        inflater = zlib.decompressobj(wbits=31)
        header = json.loads(inflater.decompress(blob))
        if header.get("format") != FORMAT:
            raise ValueError(
                "AWS-managed policies have an unexpected format; rebuild with scripts/build_managed_policies.py"
            )
        self._sections = inflater.unused_data
        self.provenance: dict[str, str] = header["provenance"]
        self._index_span: list[int] = header["index"]
        self._member_spans: list[list[int]] = header["members"]
        self._members: dict[int, dict[str, Any]] = {}  # inflated document members, by number

    @functools.cached_property
    def _index(self) -> str:
        """A line "name<TAB>path<TAB>version<TAB>member" per policy, after a leading newline: a name
        is found by one scan of the text, faster than parsing 1,600 rows into a table when a check
        names one or two policies."""
        return "\n" + _inflate(self._sections, *self._index_span)

    @functools.cached_property
    def _by_lower_name(self) -> dict[str, str]:
        return {name.lower(): name for name in self.names()}

    def names(self) -> list[str]:
        """Every policy's name, sorted; reading them inflates no document."""
        return [line.partition("\t")[0] for line in self._index[1:].split("\n")]

    def get(self, name: str) -> ManagedPolicy | None:
        """The policy of this exact name, whatever its path."""
        if not name or "\t" in name or "\n" in name:
            return None
        at = self._index.find(f"\n{name}\t")
        if at < 0:
            return None
        end = self._index.find("\n", at + 1)
        _, path, version, member = self._index[at + 1 : end if end >= 0 else None].split("\t")
        return ManagedPolicy(name, path, version, int(member))

    def find(self, name_or_arn: str) -> ManagedPolicy | None:
        """The policy a bare name (any path) or an ARN (any partition, its own path) names."""
        if not name_or_arn.startswith("arn:"):
            return self.get(name_or_arn)
        match = _ARN.fullmatch(name_or_arn)
        if match is None:
            return None
        path, name = match.groups()
        policy = self.get(name)
        return policy if policy is not None and policy.path == path else None

    def document(self, policy: ManagedPolicy) -> dict[str, Any]:
        """Its default version's document, shared: callers copy before changing it."""
        member = self._members.get(policy.member)
        if member is None:
            start, end = self._member_spans[policy.member]
            member = self._members[policy.member] = json.loads(_inflate(self._sections, start, end))
        document: dict[str, Any] = member[policy.name]
        return document

    def inflated_members(self) -> int:
        """How many document members have been inflated so far (the laziness is a contract)."""
        return len(self._members)

    def suggest(self, path_and_name: str) -> ManagedPolicy | None:
        """The policy someone who wrote "[path/]Name" most likely meant, or None.

        The same name under its own path first (`ViewOnlyAccess` is `job-function/ViewOnlyAccess`),
        then the same name in another case, then the shortest name it begins (`AmazonS3ReadOnly`),
        then the nearest name by edit distance.
        """
        name = path_and_name.rsplit("/", 1)[-1]
        lowered = name.lower()
        exact = self.get(name)
        if exact is not None:
            return exact
        completions = [known for known in self._by_lower_name if lowered and known.startswith(lowered)]
        if lowered in self._by_lower_name:
            nearest: str | None = lowered
        elif completions:
            nearest = min(completions, key=len)
        else:
            nearest = closest(lowered, self._by_lower_name)
        return None if nearest is None else self.get(self._by_lower_name[nearest])


def pack(provenance: dict[str, str], policies: dict[str, dict[str, Any]], member_size: int) -> bytes:
    """The file for `policies` (name -> {"path", "version", "document"}), which
    scripts/build_managed_policies.py gathers. The file is gzip members, each inflated on its
    own (level 9, mtime 0: the same input gives the same bytes):

        header, one line: {"format", "provenance", "members": [[start, end], ...],
                           "index": [start, end]}
        members: {name: document, ...}, neighbours in name order, up to `member_size`
                 characters of JSON each (or one policy larger than that)
        index: "name\tpath\tversion\tmember number" per policy, by name, one per line

    Offsets count from the end of the header. Neighbours compress almost as well together as
    all policies in one member (their statements repeat each other), while a lookup inflates
    only its own member.
    """
    import gzip  # only the build writes this file; importing gzip costs ~1 ms of every run

    def text(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    groups: list[dict[str, Any]] = [{}]
    size = 0
    for name in sorted(policies):
        document = policies[name]["document"]
        length = len(text(document))
        if groups[-1] and size + length > member_size:
            groups.append({})
            size = 0
        groups[-1][name] = document
        size += length
    members = [gzip.compress(text(group).encode(), compresslevel=9, mtime=0) for group in groups]
    lines = [
        "\t".join((name, policies[name]["path"], policies[name]["version"], str(number)))
        for number, group in enumerate(groups)
        for name in group
    ]
    spans, at = [], 0
    for member in members:
        spans.append([at, at + len(member)])
        at += len(member)
    index = gzip.compress("\n".join(lines).encode(), compresslevel=9, mtime=0)
    header = {"format": FORMAT, "provenance": provenance, "members": spans, "index": [at, at + len(index)]}
    return gzip.compress((text(header) + "\n").encode(), compresslevel=9, mtime=0) + b"".join(members) + index


def _inflate(sections: bytes, start: int, end: int) -> str:
    return zlib.decompress(sections[start:end], wbits=31).decode()


@functools.cache
def load_managed() -> ManagedPolicies:
    """The packed AWS-managed policies, read once per process on first use."""
    return ManagedPolicies(data_path("data", POLICIES_FILE).read_bytes())


def find_managed(name_or_arn: str) -> ManagedPolicy | None:
    """The AWS-managed policy a bare name (any path) or an ARN names; names are case-sensitive
    and an ARN's path must be the policy's own (e.g. policy/service-role/...), as IAM requires."""
    return load_managed().find(name_or_arn)


def managed_policy(name_or_arn: str) -> dict[str, Any] | None:
    """The document (default version) of an AWS-managed policy, or None if there is none by
    that name or ARN (see `find_managed`). The result is a fresh copy the caller may change."""
    store = load_managed()
    policy = store.find(name_or_arn)
    return None if policy is None else copy.deepcopy(store.document(policy))


def suggest_managed(path_and_name: str) -> ManagedPolicy | None:
    """The AWS-managed policy a name that is not one most likely meant (see ManagedPolicies.suggest)."""
    return load_managed().suggest(path_and_name)


def managed_provenance() -> dict[str, str]:
    """source and version (the package), file (in it), date (the newest policy update in the
    data) and built (date of the file)."""
    return dict(load_managed().provenance)
