#!/usr/bin/env bash
# Refresh the lock files CI installs from (users install from pyproject.toml's ranges):
#   requirements-lock.txt: the exact version and hashes of every Python package CI installs (pip,
#     the build backend, bglint's dependencies and its test and cfn-lint extras), each at its newest
#     release within pyproject.toml's ranges, for Python 3.11+ on every platform; made by uv, from
#     PyPI, pinned, in a throwaway virtualenv;
#   scripts/sarif-tools/package-lock.json: the SARIF validator from npm, at the version its
#     package.json names.
set -euo pipefail

UV_VERSION=0.13.9
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tool="$(mktemp -d)"
trap 'rm -rf "$tool"' EXIT

python3 -m venv "$tool/venv"
"$tool/venv/bin/python" -m pip install --quiet "uv==$UV_VERSION"

cd "$root"
# pip and the build-system requirements are locked too: CI builds bglint without fetching anything.
{
    echo pip
    python3 -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
} | "$tool/venv/bin/uv" pip compile --quiet --upgrade --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash scripts/lock.sh" --extra test pyproject.toml - -o requirements-lock.txt
echo "wrote requirements-lock.txt ($(grep -c '==' requirements-lock.txt) pins)"

npm update --prefix scripts/sarif-tools --package-lock-only --no-audit --no-fund --loglevel=error
echo "wrote scripts/sarif-tools/package-lock.json"
