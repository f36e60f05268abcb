"""The differential test's longer profile: many seeds, bglint against the IAM simulator.

    python scripts/differential_long.py [--seeds 20] [--roles 100] [--per-role 50]

Needs the simulator (bash scripts/fetch_sarif_tools.sh). Prints the number of requests, the
disagreements explained by tests/differential/EXCEPTIONS.md and the unexplained ones (exit 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from differential_roles import compare, documented_exception


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--roles", type=int, default=100)
    parser.add_argument("--per-role", type=int, default=50)
    args = parser.parse_args()
    total = explained = 0
    wrong = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory() as work:
            workdir = Path(work)
            for outcome in compare(workdir, seed, args.roles, args.per_role):
                total += 1
                unsound = outcome.simulator == "Allowed" and not outcome.some_request
                for failed, without_context in ((not outcome.agrees, False), (unsound, True)):
                    if not failed:
                        continue
                    if documented_exception(outcome, workdir, without_context):
                        explained += 1
                    else:
                        wrong.append((seed, outcome))
        print(
            f"seed {seed}: {total} requests so far, {explained} documented exceptions, {len(wrong)} unexplained",
            flush=True,
        )
    for seed, o in wrong[:20]:
        print(
            f"seed {seed} {o.request.role} {o.request.action} {o.request.resource}: simulator {o.simulator}, "
            f"bglint {o.exact} (some request: {o.some_request})"
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
