"""Time the pre-commit case: bglint vs cfn-lint on the same single file, alternately, in one run.

    python bench/one_file.py [--runs 7] [FILE_OR_APP_DIR ...]

Defaults to the shipped examples. cfn-lint is the one in this environment (see run.py). Prints medians, min/max and the ratio cfn-lint/bglint
(the machine is shared and noisy: compare ratios from the same run, not absolute times).
cfn-lint only reads templates, so app directories are timed for bglint alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import ENV, environment_cfn_lint  # ENV: with bytecode caches, as users run it

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = [ROOT / "examples" / "templates" / "bad-break-glass.yaml", ROOT / "examples" / "bad-customer-network-app"]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    return time.perf_counter() - start


def describe(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:7.1f} ms  (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, default=DEFAULTS)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    bglint = [sys.executable, "-m", "bglint", "check"]
    cfn_lint = environment_cfn_lint()
    print(f"cfn-lint: {cfn_lint[1] if cfn_lint else f'not installed in {sys.prefix}'}")
    for path in args.paths:
        is_template = path.is_file()
        tools = {"bglint": [*bglint, str(path)]}
        if is_template and cfn_lint:
            tools["cfn-lint"] = [*cfn_lint[0], str(path)]
        for command in tools.values():  # warm the page cache and the bytecode cache
            timed(command)
        samples: dict[str, list[float]] = {name: [] for name in tools}
        for _ in range(args.runs):
            for name, command in tools.items():  # alternate, so noise hits both alike
                samples[name].append(timed(command))
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:")
        for name, values in samples.items():
            print(f"  {name:9} {describe(values)}")
        if "cfn-lint" in samples:
            ratio = statistics.median(samples["cfn-lint"]) / statistics.median(samples["bglint"])
            print(f"  bglint is {ratio:.1f}x faster than cfn-lint on this file (same run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
