#!/usr/bin/env bash
# Install the peers the benchmark compares against, each where it cannot disturb bglint:
# cfn-lint is a bglint dependency already; checkov pins old boto3 and drags policy_sentry
# back, so it gets a virtualenv of its own under bench/.peers/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="$here/.peers"
if [[ ! -x "$peers/checkov/bin/checkov" ]]; then
    python3 -m venv "$peers/checkov"
    "$peers/checkov/bin/pip" install --quiet --upgrade pip
    "$peers/checkov/bin/pip" install --quiet "checkov==3.3.30"
fi
echo "checkov: $peers/checkov/bin/checkov"
