"""What an install of bglint pulls in, read from the installed packages' metadata.

    python scripts/deps.py [EXTRA...]                      # name==version, one a line
    python scripts/deps.py --against LOCK [EXTRA...]       # only those whose version differs from LOCK

The closure follows every requirement whose environment markers hold here, extras included
only where asked for: `python scripts/deps.py` is a plain `pip install bglint`. Used by
scripts/drift.sh and by the test that a plain install has no cfn-lint (and so no sympy).
"""

from __future__ import annotations

import argparse
import re
from importlib.metadata import PackageNotFoundError, distribution

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(name: str, extras: tuple[str, ...] = ()) -> dict[str, str]:
    """{canonical name: installed version} of `name[extras]` and everything it requires."""
    found: dict[str, str] = {}
    visited: set[tuple[str, tuple[str, ...]]] = set()
    pending = [(name, extras)]
    while pending:
        wanted, wanted_extras = pending.pop()
        if (canonicalize_name(wanted), wanted_extras) in visited:
            continue
        visited.add((canonicalize_name(wanted), wanted_extras))
        try:
            dist = distribution(wanted)
        except PackageNotFoundError:
            continue  # not needed on this platform, or not installed: nothing to follow
        found[canonicalize_name(dist.metadata["Name"])] = dist.version
        for line in dist.requires or ():
            requirement = Requirement(line)
            if any(_holds(requirement, extra) for extra in ("", *wanted_extras)):
                pending.append((requirement.name, tuple(sorted(requirement.extras))))
    return found


def _holds(requirement: Requirement, extra: str) -> bool:
    if requirement.marker is None:
        return extra == ""
    return requirement.marker.evaluate({"extra": extra})


def locked(lock_text: str) -> dict[str, str]:
    """{canonical name: version} of a requirements lock, for this environment's markers."""
    pins = {}
    for line in re.findall(r"^[A-Za-z0-9][^\\\n]*", lock_text, re.M):
        requirement = Requirement(line.strip())
        if requirement.marker is None or requirement.marker.evaluate():
            pins[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return pins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", help="a requirements lock: list only what differs from it")
    parser.add_argument("extras", nargs="*")
    args = parser.parse_args()
    installed = closure("bglint", tuple(args.extras))
    installed.pop("bglint")
    if args.against is None:
        print("\n".join(f"{name}=={version}" for name, version in sorted(installed.items())))
        return
    with open(args.against, encoding="utf-8") as lock:
        pins = locked(lock.read())
    changes = [
        f"{name}: {pins.get(name, 'not locked')} -> {version}"
        for name, version in sorted(installed.items())
        if pins.get(name) != version
    ]
    print("\n".join(changes) or "none: the lock is current")


if __name__ == "__main__":
    main()
