#!/usr/bin/env bash
# Branch coverage of the test suite, the CLI subprocesses and their forked workers included.
#
#   bash scripts/coverage.sh [PYTEST ARGS]      e.g. bash scripts/coverage.sh -m "not slow"
#
# COVERAGE_PROCESS_START makes coverage start in every Python process of the run (through the .pth
# file coverage installs), configured by pyproject.toml's [tool.coverage.*]. Prints the report;
# `coverage html` afterwards writes htmlcov/. .ci/run does the same around the README's test command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export COVERAGE_PROCESS_START="$root/pyproject.toml" COVERAGE_FILE="$root/.coverage"
rm -f .coverage .coverage.*
status=0
python -m pytest -q "$@" || status=$?
coverage combine --quiet
rm -f .coverage.*  # what combine could not read: processes that tests kill on purpose
coverage report
exit "$status"
