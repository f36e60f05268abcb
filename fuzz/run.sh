#!/usr/bin/env bash
# Coverage-guided fuzzing of bglint's loaders with atheris (libFuzzer for Python).
#
# usage: fuzz/run.sh [SECONDS] [libFuzzer options...]     (default: 300 seconds)
#   PYTHON=.venv/bin/python fuzz/run.sh 600 -jobs=2 -workers=2
#
# atheris is not a test dependency: it is installed from PyPI into fuzz/.atheris and put on
# PYTHONPATH for this run only, next to the interpreter where bglint is installed ($PYTHON,
# default: python3). atheris publishes binary wheels for Linux x86_64 (CPython 3.8-3.11 and
# later); elsewhere pip builds it from source, which needs clang with libFuzzer.
#
# The corpus grows in fuzz/corpus (seeded from examples/ and tests/ on first use); crashes
# are saved in fuzz/crashes/. Replay one with: $PYTHON fuzz/fuzz_loaders.py fuzz/crashes/<file>
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
python=${PYTHON:-python3}
seconds=${1:-300}
shift || true

deps="$here/.atheris"
export PYTHONPATH="$deps${PYTHONPATH:+:$PYTHONPATH}"
if ! "$python" -c "import atheris" 2>/dev/null; then
    "$python" -m pip install --quiet --target "$deps" atheris
fi
"$python" -c "import bglint" || { echo "bglint is not installed for $python (set PYTHON)" >&2; exit 2; }

corpus="$here/corpus"
mkdir -p "$here/crashes"
if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
    "$python" "$here/fuzz_loaders.py" --seed-from "$repo/examples" --seed-into "$corpus"
fi

exec "$python" "$here/fuzz_loaders.py" "$corpus" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$here/bglint.dict" -artifact_prefix="$here/crashes/" -print_final_stats=1 "$@"
