#!/usr/bin/env bash
# The long property-based fuzzing budget: tests/test_fuzz.py with BGLINT_FUZZ_PROFILE=long.
# usage: scripts/fuzz_long.sh [EXAMPLES_PER_TEST] [pytest args...]   (default 5000 per test)
# Hypothesis keeps failing examples in .hypothesis/ and replays them first on the next run;
# the statistics printed at the end give the number of examples each property ran.
set -euo pipefail
cd "$(dirname "$0")/.."
export BGLINT_FUZZ_PROFILE=long
export BGLINT_FUZZ_EXAMPLES="${1:-5000}"
shift || true
exec python -m pytest -q -p no:cacheprovider --hypothesis-show-statistics tests/test_fuzz.py "$@"
