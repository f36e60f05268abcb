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
npm install --prefix "$BGLINT_TOOLS" --no-audit --no-fund --loglevel=error \
    @microsoft/sarif-multitool@latest @cloud-copilot/iam-simulate@latest >/dev/null

echo "== newest releases that differ from the lock"
python "$root/scripts/deps.py" --against "$root/requirements-lock.txt" test
node -p "const [locked, newest] = process.argv.slice(1).map(f => require(f).packages['node_modules/@microsoft/sarif-multitool-linux'].version);
    locked === newest ? 'sarif-multitool: as locked' : 'sarif-multitool (npm): ' + locked + ' -> ' + newest" \
    "$root/scripts/sarif-tools/package-lock.json" "$BGLINT_TOOLS/package-lock.json"
node -p "const [locked, newest] = process.argv.slice(1).map(f => require(f).packages['node_modules/@cloud-copilot/iam-simulate'].version);
    locked === newest ? 'iam-simulate: as locked' : 'iam-simulate (npm): ' + locked + ' -> ' + newest" \
    "$root/scripts/sarif-tools/package-lock.json" "$BGLINT_TOOLS/package-lock.json"

echo "== the test suite on the newest releases"
cd "$root"
python -m pytest -q -p no:cacheprovider "$@"
