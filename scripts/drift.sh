#!/usr/bin/env bash
# Drift check: the test suite against the newest release of every dependency, in a throwaway
# virtualenv (and a throwaway SARIF validator at npm's newest), whatever the lock files say.
#
#   bash scripts/drift.sh [PYTEST ARGS]
#
# Prints each package whose newest release differs from requirements-lock.txt, then the suite's
# result. A failure here is news before it reaches users, who install from pyproject.toml's
# ranges; CI keeps installing the lock until `bash scripts/lock.sh` refreshes it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

python3 -m venv "$scratch/venv"
. "$scratch/venv/bin/activate"
unset PIP_CONSTRAINT
python -m pip install --quiet --upgrade pip
python -m pip install --quiet "$root[test]"

export BGLINT_TOOLS="$scratch/tools"
npm install --prefix "$BGLINT_TOOLS" --no-audit --no-fund --loglevel=error @microsoft/sarif-multitool@latest >/dev/null

echo "== newest releases that differ from the lock"
python - "$root/requirements-lock.txt" "$root/scripts/sarif-tools/package-lock.json" "$BGLINT_TOOLS/package-lock.json" <<'PY'
import json, re, sys
from importlib.metadata import distributions

def key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

locked = dict(re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", open(sys.argv[1]).read(), re.M))
locked = {key(name): version for name, version in locked.items()}
changes = []
for dist in distributions():
    name = key(dist.metadata["Name"])
    if name == "bglint":
        continue
    before = locked.get(name, "not locked")
    if before != dist.version:
        changes.append(f"{name}: {before} -> {dist.version}")
npm_locked, npm_newest = (json.load(open(path))["packages"] for path in sys.argv[2:4])
for name, entry in npm_newest.items():
    if name and name in npm_locked and npm_locked[name]["version"] != entry["version"]:
        changes.append(f"{name.removeprefix('node_modules/')} (npm): {npm_locked[name]['version']} -> {entry['version']}")
print("\n".join(sorted(changes)) or "none: the lock is current")
PY

echo "== the test suite on the newest releases"
cd "$root"
python -m pytest -q -p no:cacheprovider "$@"
