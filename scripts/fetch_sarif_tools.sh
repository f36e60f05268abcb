#!/usr/bin/env bash
# Install the test tools into $BGLINT_TOOLS (default: <repo>/.tools, git-ignored): the SARIF
# validator and schema below, and the IAM simulator tests/test_differential.py compares with.
#
# One npm package gives both things tests/test_sarif.py needs:
#   - the SARIF Multitool (Microsoft's validator, with the GitHub ingestion rules), and
#   - the official SARIF 2.1.0 JSON schema, sarif-2.1.0.json, which the Linux platform
#     package ships next to the binary (the copy from microsoft/sarif-sdk, src/Sarif/Schemata).
# Third-party files stay out of the repository: this fetches them at test/CI time.
# Safe to run again: it does nothing when the pinned version is already installed.
set -euo pipefail

MULTITOOL_VERSION=5.7.0
# An independent IAM policy simulator (AGPL-3.0): a test-time oracle only, never shipped or
# imported by bglint. Pinned: its answers are the expectations of the differential test.
IAM_SIMULATE_VERSION=0.1.173
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${BGLINT_TOOLS:-$root/.tools}"
platform="$tools/node_modules/@microsoft/sarif-multitool-linux"

installed_version() {
    node -p "require('$platform/package.json').version" 2>/dev/null || true
}

if [[ "$(installed_version)" != "$MULTITOOL_VERSION" ]]; then
    mkdir -p "$tools"
    # --prefix keeps package.json/lock and node_modules inside $tools; npm installs only the
    # platform package that matches this OS (the others are optional dependencies).
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
        "@microsoft/sarif-multitool@$MULTITOOL_VERSION"
fi

simulator="$tools/node_modules/@cloud-copilot/iam-simulate"
if [[ "$(node -p "require('$simulator/package.json').version" 2>/dev/null || true)" != "$IAM_SIMULATE_VERSION" ]]; then
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
        "@microsoft/sarif-multitool@$MULTITOOL_VERSION" "@cloud-copilot/iam-simulate@$IAM_SIMULATE_VERSION"
fi

# The package's postinstall does this, but not when npm runs with ignore-scripts.
chmod +x "$platform/Sarif.Multitool"
test -f "$platform/sarif-2.1.0.json"

echo "multitool: $platform/Sarif.Multitool"
echo "schema:    $platform/sarif-2.1.0.json"
echo "simulator: $simulator"

# The other test tool fetched at test/CI time: a headless browser for the audit report.
bash "$root/scripts/fetch_chromium.sh"
