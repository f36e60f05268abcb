"""`bglint check PATH...` without options runs without click (bglint.cli.run): it must answer
exactly as the same call parsed by click does (`bglint check -- PATH...`), in every case."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bglint.cli import _plain_check_paths
from bglint.cli.check import check
from bglint.cli.check_run import check_and_report
from conftest import write_tree

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WILDCARD_ROLE = """\
Resources:
  BreakGlass:
    Type: AWS::IAM::Role
    Metadata: {bglint: {break_glass: true}}
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: all
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: "*", Resource: "*"}
"""


def _bglint(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The console script's code path (`python -m bglint` calls the same `run`); bytes, as written."""
    environment = {k: v for k, v in (env or os.environ).items() if k != "PYTHONWARNINGS"}
    return subprocess.run(
        [sys.executable, "-m", "bglint", *args], cwd=cwd, env=environment, capture_output=True, timeout=120, check=False
    )


def _same_through_click(paths: list[str], cwd: Path, env: dict[str, str] | None = None) -> int:
    """Runs `check PATHS` both ways; asserts equal stdout, stderr and exit code; returns the code."""
    plain = _bglint(["check", *paths], cwd, env)
    parsed = _bglint(["check", "--", *paths], cwd, env)  # `--`: click parses this one
    assert (plain.stdout, plain.stderr, plain.returncode) == (parsed.stdout, parsed.stderr, parsed.returncode)
    assert b"Traceback" not in plain.stderr
    return plain.returncode


@pytest.mark.parametrize(
    "paths",
    [
        ["templates/bad-break-glass.yaml"],
        ["bad-customer-network-app", "good-app"],
        ["."],
    ],
)
def test_the_examples_get_the_same_report_with_or_without_click(paths: list[str]) -> None:
    assert _same_through_click(paths, EXAMPLES) == 1  # the examples hold errors


def test_input_errors_are_the_same_and_the_other_files_still_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"broken.yaml": "Resources: [unclosed\n", "role.yaml": WILDCARD_ROLE})
    assert _same_through_click(["broken.yaml", "role.yaml", "missing.yaml"], tmp_path) == 2
    report = _bglint(["check", "broken.yaml", "role.yaml", "missing.yaml"], tmp_path)
    assert b"BG001" in report.stdout  # role.yaml is still checked
    errors = report.stderr.decode().splitlines()
    assert [line.split(":")[0] for line in errors] == ["broken.yaml", "missing.yaml"]


def test_the_config_beside_the_files_applies_the_same(tmp_path: Path) -> None:
    # fail-on never: the findings are reported, the exit code is 0, both ways
    write_tree(tmp_path, {".bglint.yaml": "fail-on: never\n", "role.yaml": WILDCARD_ROLE})
    assert _same_through_click(["role.yaml"], tmp_path) == 0


def test_colour_and_an_ascii_only_terminal_are_handled_the_same(tmp_path: Path) -> None:
    write_tree(tmp_path, {"rôle ##[add-mask]x.yaml": WILDCARD_ROLE})
    coloured = {**os.environ, "FORCE_COLOR": "1"}
    assert _same_through_click(["rôle ##[add-mask]x.yaml"], tmp_path, coloured) == 1
    assert b"\x1b[" in _bglint(["check", "rôle ##[add-mask]x.yaml"], tmp_path, coloured).stdout
    ascii_only = {**os.environ, "PYTHONIOENCODING": "ascii"}
    assert _same_through_click(["rôle ##[add-mask]x.yaml"], tmp_path, ascii_only) == 1
    shown = _bglint(["check", "rôle ##[add-mask]x.yaml"], tmp_path, ascii_only).stdout.decode("utf-8")
    assert shown.startswith("rôle ##\\x5badd-mask]x.yaml:")  # UTF-8, as click writes it, not a crash


def _interrupted_both_ways(script: str, cwd: Path) -> list[tuple[int, bytes, bytes]]:
    """Exit code, stdout and stderr of `script` (which runs bglint, a Ctrl-C arranged) plain and parsed."""
    ends = []
    for args in (["check", "role.yaml"], ["check", "--", "role.yaml"]):
        proc = subprocess.run(
            [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, timeout=120, check=False
        )
        ends.append((proc.returncode, proc.stdout, proc.stderr))
    return ends


def test_ctrl_c_and_a_closed_stderr_end_the_same(tmp_path: Path) -> None:
    write_tree(tmp_path, {"broken.yaml": "Resources: [unclosed\n", "role.yaml": WILDCARD_ROLE})
    # Ctrl-C while the check runs: the interrupt raised where the check starts, in the real command.
    interrupted = (
        "import runpy, sys, bglint.pipeline.check as c\n"
        "def interrupt(*args, **kwargs):\n    raise KeyboardInterrupt\n"
        "c.checked = interrupt\n"
        "sys.argv = ['bglint', *sys.argv[1:]]\n"
        "runpy.run_module('bglint', run_name='__main__')\n"
    )
    assert _interrupted_both_ways(interrupted, tmp_path) == [(1, b"", b"\nAborted!\n")] * 2
    # stderr a pipe nobody reads: the input error cannot be written.
    codes = []
    for args in (["check", "broken.yaml", "role.yaml"], ["check", "--", "broken.yaml", "role.yaml"]):
        read, write = os.pipe()
        os.close(read)
        proc = subprocess.run(
            [sys.executable, "-m", "bglint", *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=write, timeout=120
        )
        os.close(write)
        codes.append((proc.returncode, proc.stdout))
    assert codes[0] == codes[1]
    assert codes[0][0] == 1 and b"BG001" in codes[0][1]


def test_ctrl_c_while_the_check_command_is_imported_ends_the_same(tmp_path: Path) -> None:
    # click imports the command inside its handler: a Ctrl-C there is "Aborted!", not a traceback.
    write_tree(tmp_path, {"role.yaml": WILDCARD_ROLE})
    interrupted = (
        "import importlib.abc, runpy, sys\n"
        "class Interrupt(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'bglint.cli.check_run':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "sys.argv = ['bglint', *sys.argv[1:]]\n"
        "runpy.run_module('bglint', run_name='__main__')\n"
    )
    assert _interrupted_both_ways(interrupted, tmp_path) == [(1, b"", b"\nAborted!\n")] * 2


def test_a_shell_completion_request_is_answered_as_click_answers_it(tmp_path: Path) -> None:
    """With _BGLINT_COMPLETE set, click prints completions (or the shell's script), not a report."""
    write_tree(tmp_path, {"role.yaml": WILDCARD_ROLE})
    script = Path(sys.executable).with_name("bglint")  # click names the variable after the program
    env = {**os.environ, "_BGLINT_COMPLETE": "bash_source"}
    runs = [
        subprocess.run([script, *args], cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False)
        for args in (["check", "role.yaml"], ["check", "--", "role.yaml"])
    ]
    assert [(r.returncode, r.stdout, r.stderr) for r in runs[:1]] == [
        (r.returncode, r.stdout, r.stderr) for r in runs[1:]
    ]
    assert runs[0].returncode == 0 and b"_bglint_completion()" in runs[0].stdout and b"BG001" not in runs[0].stdout


def test_on_windows_click_parses_every_call_as_it_expands_globs(monkeypatch: pytest.MonkeyPatch) -> None:
    # click expands `*.yaml`, `~` and %VARS% in the arguments on Windows, whose shells do not.
    with monkeypatch.context() as patched:  # undone before the assertion: pytest's reporting reads os.name
        patched.setattr(os, "name", "nt")
        on_windows = _plain_check_paths(["check", "*.yaml"])
    assert on_windows is None


def test_the_plain_call_does_not_import_click_and_an_option_does(tmp_path: Path) -> None:
    write_tree(tmp_path, {"role.yaml": WILDCARD_ROLE})
    # Not under coverage measurement, which imports modules of its own into every process.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}

    def modules(*args: str) -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "bglint", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr  # BG001 is an error
        return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}

    assert "click" not in modules("check", "role.yaml")
    assert "click" in modules("check", "--quiet", "role.yaml")


def test_the_plain_call_gets_what_click_parses_when_no_option_is_given() -> None:
    parsed = check.make_context("check", ["role.yaml"]).params
    parsed["formats"] = tuple(parsed["formats"])  # output_spec returns a list
    assert parsed.pop("paths") == (Path("role.yaml"),)
    assert parsed.pop("output") is None  # --output is folded into the formats before the call
    defaults = {
        name: p.default for name, p in inspect.signature(check_and_report).parameters.items() if name != "paths"
    }
    assert parsed == defaults


@pytest.mark.parametrize(
    ("args", "paths"),
    [
        (["check", "a.yaml", "app"], ["a.yaml", "app"]),
        (["check"], None),  # click says a path is missing
        (["check", "-q", "a.yaml"], None),
        (["check", "a.yaml", "--format=json"], None),
        (["check", "--", "a.yaml"], None),
        (["check", "-"], None),
        (["check", ""], None),
        (["rules"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_only_check_and_paths_that_cannot_be_options_skip_click(args: list[str], paths: list[str] | None) -> None:
    assert _plain_check_paths(args) == paths


# Run in the process a plain check ran in, at its exit: every NamedTuple class of bglint loaded.
_NAMED_TUPLES_AT_EXIT = """
import os, runpy, sys, typing
def named_tuples(code, exit=os._exit):
    found = {  # class -> whether an annotation stayed a string (typing makes it a ForwardRef)
        f"{cls.__module__}.{cls.__name__}": any(isinstance(a, typing.ForwardRef) for a in cls.__annotations__.values())
        for name, module in list(sys.modules.items()) if name.startswith("bglint")
        for cls in list(vars(module).values())
        if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields") and cls.__module__ == name
    }
    print(found, file=sys.stderr)
    exit(code)
os._exit = named_tuples
sys.argv[0] = "bglint"
runpy.run_module("bglint", run_name="__main__", alter_sys=True)
"""


def test_the_named_tuples_a_plain_check_defines_have_evaluated_annotations() -> None:
    """typing.NamedTuple compiles each string annotation (~0.1 M instructions a field): a module
    defining NamedTuples on the check path does not use `from __future__ import annotations`."""
    proc = subprocess.run(
        [sys.executable, "-c", _NAMED_TUPLES_AT_EXIT, "check", "templates", "good-app", "bad-customer-network-app"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    found = ast.literal_eval(proc.stderr.splitlines()[-1])
    assert {"bglint.findings.Finding", "bglint.model.Statement", "bglint.model.nuon.RoleReference"} <= set(found)
    assert [name for name, strings in found.items() if strings] == []
