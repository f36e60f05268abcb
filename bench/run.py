"""Benchmark bglint against cfn-lint and checkov on the same inputs, in the same run.

    bash bench/setup_peers.sh            # once: checkov in its own virtualenv
    python bench/run.py [--templates 1000] [--runs 5] [--large 5000]

Generates the inputs (bench/generate.py, fixed seed), then times, alternating the tools
run by run: one template, one app config, and the whole set of templates; plus the bare
PyYAML CSafeLoader parse of the same files as the floor. With --large N, also N templates
for bglint and the floor alone (the peers would take many minutes). Prints medians, min/max,
peak memory and the ratios peer/bglint from this run. Compare ratios, not absolute times:
the machine is shared and noisy.

cfn-lint is the one installed in the environment running this script (next to
sys.executable), never whatever `cfn-lint` comes first on PATH; its version is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOV = HERE / ".peers" / "checkov" / "bin" / "checkov"
PARSE_ONLY = (
    "import sys, yaml\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, encoding='utf-8') as handle:\n"
    "        yaml.compose(handle.read(), Loader=yaml.CSafeLoader)\n"
)


# Every tool runs as users run it: with bytecode caches (pip writes the peers' at install; an
# editable bglint gets its own on the warm-up run). PYTHONDONTWRITEBYTECODE would make each
# run recompile bglint's modules from source.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB of the command and the children it waited for)."""
    wrapped = ["/usr/bin/time", "-f", "%M", *command] if Path("/usr/bin/time").exists() else command
    start = time.perf_counter()
    done = subprocess.run(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, env=ENV)
    wall = time.perf_counter() - start
    last = done.stderr.strip().splitlines()[-1:] if wrapped is not command else []
    peak = int(last[0]) // 1024 if last and last[0].isdigit() else 0
    return wall, peak


def measure(tools: dict[str, list[str]], runs: int, warm: bool = True) -> dict[str, tuple[list[float], int]]:
    samples: dict[str, list[float]] = {name: [] for name in tools}
    peaks: dict[str, int] = dict.fromkeys(tools, 0)
    for command in tools.values() if warm else ():
        timed(command)  # warm the page cache and bytecode caches
    for run in range(runs):
        order = list(tools.items())
        for name, command in order if run % 2 == 0 else reversed(order):  # alternate who goes first
            wall, peak = timed(command)
            samples[name].append(wall)
            peaks[name] = max(peaks[name], peak)
    return {name: (samples[name], peaks[name]) for name in tools}


def report(title: str, results: dict[str, tuple[list[float], int]], per: int = 1) -> None:
    print(f"\n{title}")
    base = statistics.median(results["bglint"][0]) if "bglint" in results else None
    for name, (values, peak) in results.items():
        median = statistics.median(values)
        line = f"  {name:16} median {median:8.3f} s  (min {min(values):.3f}, max {max(values):.3f})"
        if per > 1:
            line += f"  {median / per * 1000:7.2f} ms/file"
        line += f"  peak {peak:4d} MB"
        if base and name != "bglint":
            line += f"  ratio {name}/bglint {median / base:6.1f}x"
        print(line)


def environment_cfn_lint() -> tuple[list[str], str] | None:
    """cfn-lint's command and version in the environment this script runs in, if installed there."""
    script = Path(sys.executable).parent / "cfn-lint"
    if not script.exists():
        return None
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False, env=ENV)
    return [str(script)], version.stdout.strip() or version.stderr.strip()


def identical_output(bglint: list[str], path: Path) -> bool:
    """The parallel run prints exactly what a single process prints, ordering included."""
    one = subprocess.run([*bglint, "--jobs", "1", str(path)], capture_output=True, text=True, check=False).stdout
    many = subprocess.run([*bglint, str(path)], capture_output=True, text=True, check=False).stdout
    return one == many


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--templates", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-runs", type=int, default=1, help="runs of the slow peers on the whole set")
    parser.add_argument("--large", type=int, default=0, help="also N templates, bglint and the floor only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bglint-bench-"))
    try:
        generate(work, args.templates)
        run_all(work, args)
        if args.large:
            generate(work / "large", args.large)
            run_large(work / "large", args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def generate(work: Path, templates: int) -> None:
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(work), "--templates", str(templates)], check=True)


def floor_and_bglint(templates: list[Path], directory: Path) -> dict[str, list[str]]:
    bglint = [sys.executable, "-m", "bglint", "check"]
    return {
        "bglint": [*bglint, str(directory)],
        "bglint --jobs 1": [*bglint, "--jobs", "1", str(directory)],
        "CSafeLoader parse": [sys.executable, "-c", PARSE_ONLY, *(str(t) for t in templates)],
    }


def report_ratio(results: dict[str, tuple[list[float], int]]) -> None:
    bare = statistics.median(results["CSafeLoader parse"][0])
    for name in ("bglint", "bglint --jobs 1"):
        print(f"  {name} / bare parse: {statistics.median(results[name][0]) / bare:.2f}x")


def run_large(work: Path, args: argparse.Namespace) -> None:
    templates = sorted((work / "templates").glob("*.yaml"))
    results = measure(floor_and_bglint(templates, work / "templates"), args.runs)
    report(f"all {len(templates)} templates (bglint and the floor only)", results, per=len(templates))
    report_ratio(results)


def run_all(work: Path, args: argparse.Namespace) -> None:
    templates = sorted((work / "templates").glob("*.yaml"))
    one_template, one_app = templates[0], sorted((work / "apps").iterdir())[0]
    bglint = [sys.executable, "-m", "bglint", "check"]
    cfn_lint = environment_cfn_lint()
    # name -> (command for one file, command for the whole directory of templates)
    peers: dict[str, tuple[Callable[[str], list[str]], list[str]]] = {}
    if cfn_lint:
        command = cfn_lint[0]
        peers["cfn-lint"] = (lambda f: [*command, f], [*command, *(str(t) for t in templates)])
    if CHECKOV.exists():
        checkov = [str(CHECKOV), "--quiet", "--compact", "--framework", "cloudformation"]
        peers["checkov"] = (lambda f: [*checkov, "-f", f], [*checkov, "-d", str(work / "templates")])
    print(f"{os.cpu_count()} cores; {len(templates)} templates; python {sys.version.split()[0]}")
    print(f"peers: {', '.join(peers) or 'none installed (bash bench/setup_peers.sh)'}")
    print(f"cfn-lint: {cfn_lint[1] if cfn_lint else f'not installed in {sys.prefix}'}")

    single = {"bglint": [*bglint, str(one_template)]} | {n: one(str(one_template)) for n, (one, _) in peers.items()}
    report("one template (the pre-commit case)", measure(single, args.runs))
    report("one app config", measure({"bglint": [*bglint, str(one_app)]}, args.runs))

    results = measure(floor_and_bglint(templates, work / "templates"), args.runs)
    if args.peer_runs:  # 0: the peers on the single files only (they take minutes on the set)
        # Not warmed again: the files and the peers' bytecode are cached by the runs above, and
        # a warm-up would double minutes of cfn-lint.
        results |= measure({n: many for n, (_, many) in peers.items()}, args.peer_runs, warm=False)
    report(f"all {len(templates)} templates", results, per=len(templates))
    report_ratio(results)
    print(f"  output identical with --jobs 1: {identical_output(bglint, work / 'templates')}")


if __name__ == "__main__":
    sys.exit(main())
