#!/usr/bin/env bash
# Install the test tools into $BGLINT_TOOLS (default: <repo>/.tools, git-ignored): the SARIF
# validator and schema below; the independent IAM simulator tests/test_differential.py compares
# with (@cloud-copilot/iam-simulate, AGPL-3.0: a test-time oracle only, never shipped or imported
# by bglint); and, through scripts/fetch_chromium.sh, a headless browser for the audit report.
#
# One npm package gives both things tests/test_sarif.py needs:
#   - the SARIF Multitool (Microsoft's validator, with the GitHub ingestion rules), and
#   - the official SARIF 2.1.0 JSON schema, sarif-2.1.0.json, which the Linux platform
#     package ships next to the binary (the copy from microsoft/sarif-sdk, src/Sarif/Schemata).
# Third-party files stay out of the repository: this fetches them at test/CI time, at the exact
# versions and integrity hashes of scripts/sarif-tools/package-lock.json (refreshed by
# scripts/lock.sh; the multitool's version is chosen in scripts/sarif-tools/package.json).
# Safe to run again: it does nothing when the locked version is already installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
locked="$root/scripts/sarif-tools"
tools="${BGLINT_TOOLS:-$root/.tools}"
platform="$tools/node_modules/@microsoft/sarif-multitool-linux"
simulator="$tools/node_modules/@cloud-copilot/iam-simulate"

version_in() {  # the version of the Linux platform package named by a package-lock.json or package.json
    node -p "const f = require('$1'); (f.packages ? f.packages['node_modules/@microsoft/sarif-multitool-linux'] : f).version" \
        2>/dev/null || true
}

simulator_version_in() {  # the simulator's version in a package-lock.json or package.json
    node -p "const f = require('$1'); (f.packages ? f.packages['node_modules/@cloud-copilot/iam-simulate'] : f).version" \
        2>/dev/null || true
}

if [[ "$(version_in "$platform/package.json")" != "$(version_in "$locked/package-lock.json")" ]] ||
    [[ "$(simulator_version_in "$simulator/package.json")" != "$(simulator_version_in "$locked/package-lock.json")" ]]; then
    mkdir -p "$tools"
    cp "$locked/package.json" "$locked/package-lock.json" "$tools/"
    # npm installs only the platform package that matches this OS (the others are optional).
    npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error
fi

# The package's postinstall does this, but not when npm runs with ignore-scripts.
chmod +x "$platform/Sarif.Multitool"
test -f "$platform/sarif-2.1.0.json"

echo "multitool: $platform/Sarif.Multitool"
echo "schema:    $platform/sarif-2.1.0.json"
echo "simulator: $simulator"

bash "$root/scripts/fetch_chromium.sh"
