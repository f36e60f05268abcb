"""Hostile and malformed input, through the real CLI as a user (or a CI job) runs it.

bglint runs on pull requests from people who should not get access, so every input is hostile.
Each bad file must end the same way: exactly one stderr line `path[:line[:col]]: error: message`,
exit code 2, no traceback, and every other file still checked and reported. Resources are
bounded per file, nothing outside the checked tree is read or fetched, and nothing a file holds
can inject terminal escapes or CI workflow commands into the output.

The tests named `test_regression_*` each hold the minimal input of a crash, hang or unbounded
run found while attacking bglint (by hand, with tests/test_fuzz.py and with fuzz/run.sh).
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bglint import limits
from bglint.errors import InputError, shown
from bglint.iam.catalog import load_catalog
from bglint.limits import Limits
from bglint.report.escape import for_github_annotation, for_html, for_json_text, for_markdown, for_terminal_line
from conftest import write_tree

GOOD_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  BreakglassOps:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: "sts:AssumeRole"}
      Policies:
        - PolicyName: ops
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: "s3:DeleteBucket", Resource: "*"}
"""
GOOD_FINDING = re.compile(r"^good\.yaml:\d+:\d+: BG\d{3} ", re.MULTILINE)
ERROR_LINE = re.compile(r"^(?P<path>.+?)(?::(?P<line>\d+)(?::(?P<col>\d+))?)?: error: \S.*$")
TRUST = 'AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: "sts:AssumeRole"}]}'
TRUST_JSON = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]}'

# Runs bglint in this interpreter and reports its peak memory. VmHWM, not ru_maxrss: on Linux
# ru_maxrss survives execve, so it would report the forked pytest process's peak.
_MEASURED = """\
import resource, sys
from bglint.cli.main import main
try:
    main(sys.argv[1:], prog_name="bglint")
finally:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    sys.stderr.write(f"\\nPEAK_KB={peak}\\n")
"""


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        self.returncode = result.returncode
        self.stdout = result.stdout
        peak = re.search(r"^PEAK_KB=(\d+)$", result.stderr, re.MULTILINE)
        self.peak_mb = int(peak.group(1)) / 1024 if peak else 0.0
        self.stderr = re.sub(r"\n?PEAK_KB=\d+\n", "", result.stderr)

    def errors_about(self, path: str) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(f"{path}:")]


def bglint(
    *args: str | os.PathLike[str], cwd: Path, preexec: Callable[[], None] | None = None, timeout: float = 120
) -> Run:
    """`bglint ARGS` in a subprocess, measured; one process (-j1) so its peak covers all the work."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONWARNINGS", "BGLINT_DEBUG")}
    command = [sys.executable, "-c", _MEASURED, *map(str, args)]
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
        preexec_fn=preexec,
    )
    return Run(result)


def check(tmp_path: Path, *paths: str, args: tuple[str, ...] = ()) -> Run:
    """`bglint check -j1 PATHS... good.yaml`: the good template is always checked alongside."""
    (tmp_path / "good.yaml").write_text(GOOD_TEMPLATE, encoding="utf-8")
    return bglint("check", "-j1", *args, *paths, "good.yaml", cwd=tmp_path)


def assert_one_error(run: Run, path: str, message: str | re.Pattern[str]) -> str:
    """Exit 2, one well-formed error line for `path` saying `message`, and the good file reported."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    lines = run.errors_about(path)
    assert len(lines) == 1, run.stderr
    match = ERROR_LINE.match(lines[0])
    assert match and match.group("path") == path, lines[0]
    assert message.search(lines[0]) if isinstance(message, re.Pattern) else message in lines[0], lines[0]
    assert GOOD_FINDING.search(run.stdout), run.stdout
    return lines[0]


def template(resources: str) -> str:
    return f'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n{resources}'


def role(properties: str) -> str:
    indented = "".join(f"      {line}\n" for line in properties.splitlines())
    return template(f"  BreakglassR:\n    Type: AWS::IAM::Role\n    Properties:\n      {TRUST}\n{indented}")


def app(root: Path, break_glass: str, **files: str | bytes) -> Path:
    return write_tree(root, {"metadata.toml": 'version = "v2"\n', "break_glass.toml": break_glass, **files})


def bg_role(contents: str = '"./p.json"', boundary: str = "") -> str:
    bound = f"permissions_boundary = {boundary}\n" if boundary else ""
    return f'[[role]]\nname = "ops"\ndescription = "d"\n{bound}[[role.policies]]\nname = "p"\ncontents = {contents}\n'


POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}\n'
SECRET = "SECRET-MARKER-7f3a"
# Which limit stops a big input first depends on the machine's speed: either is a bounded end.
TOO_MANY_VALUES = re.compile(
    r"more than 200000 values \(limit max-values\)|took longer than 2 s to (load|check)"
)  # in files outside the checked tree: it must never be echoed


# -- every bad input ends the same way ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.yaml", "Resources:\n  R: [\n", "invalid YAML"),
        ("t.json", '{"Resources": {,}}', "expected a string key"),
        ("t.yaml", template("  R: !!python/object/apply:os.system [touch pwned]\n"), "unknown YAML tag"),
        ("t.yaml", 'AWSTemplateFormatVersion: "2010-09-09"\nResources: [1, 2]\n', "'Resources' must be a mapping"),
        ("t.yaml", role("Policies: {a: 1}"), "Policies: must be a list"),
        ("t.yaml", role("Policies:"), "Policies: must be a list, got null"),
        ("t.yaml", role("Policies: [{PolicyName: p, PolicyDocument: null}]"), "PolicyDocument: missing"),
        (
            "t.yaml",
            role(
                "Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, Action: 5, Resource: '*'}]}}]"
            ),
            "Action must be text or a list of texts, got 5",
        ),
        (
            "t.yaml",
            role(
                "Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, Action: null, Resource: '*'}]}}]"
            ),
            "Action must be text or a list of texts, got None",
        ),
        (
            "t.yaml",
            role("Policies: [{PolicyName: p, PolicyDocument: {Statement: [7]}}]"),
            "a statement must be a mapping",
        ),
        ("t.yaml", b"Resources:\n  R: \xff\xfe\n", "invalid UTF-8 at byte 16"),
        ("t.yaml", b"Resources\x00\x01\x02\xff", "binary file"),
    ],
    ids=[
        "yaml",
        "json",
        "python-tag",
        "list-for-map",
        "map-for-list",
        "null-policies",
        "null-document",
        "number-action",
        "null-action",
        "number-statement",
        "utf8",
        "binary",
    ],
)
def test_a_bad_template_is_one_error_and_the_rest_is_checked(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    write_tree(tmp_path, {name: content})
    assert_one_error(check(tmp_path, name), name, message)
    assert not (tmp_path / "pwned").exists()  # nothing in a template is ever executed


@pytest.mark.slow
@pytest.mark.parametrize(
    ("files", "path", "message"),
    [
        ({"break_glass.toml": "[[role]\n"}, "app/break_glass.toml", "Expected ']]'"),
        ({"break_glass.toml": "role = 5\n"}, "app/break_glass.toml", "'role' must be an array, got integer"),
        (
            {"break_glass.toml": bg_role('"./p.json"'), "permissions/p.json": ""},
            "app/permissions/p.json",
            "policy document is empty",
        ),
        (
            {"break_glass.toml": bg_role('"""{"Statement": 5}"""')},
            "app/break_glass.toml",
            "a statement must be a mapping",
        ),
        ({"break_glass.toml": b'[[role]]\nname = "\xc3"\n'}, "app/break_glass.toml", "invalid UTF-8"),
        ({"break_glass.toml": "a = " + "1" * 5000 + "\n"}, "app/break_glass.toml", "a number has too many digits"),
    ],
    ids=["toml", "wrong-type", "empty-policy", "json-wrong-type", "utf8", "huge-int"],
)
def test_a_bad_app_file_is_one_error_and_the_rest_is_checked(
    tmp_path: Path, files: dict[str, str | bytes], path: str, message: str
) -> None:
    write_tree(tmp_path / "app", {"metadata.toml": 'version = "v2"\n', **files})
    run = check(tmp_path, "app")
    assert_one_error(run, path, message)


@pytest.mark.slow
def test_an_empty_template_given_alone_is_skipped_not_an_error(tmp_path: Path) -> None:
    # A pre-commit hook hands over every YAML file: an empty one is not a broken template.
    # An empty file that must hold something (a referenced policy, an app file with required
    # keys) is an input error: see the tests above.
    write_tree(tmp_path, {"empty.yaml": ""})
    run = check(tmp_path, "empty.yaml")
    assert run.returncode == 1 and run.stderr == "" and GOOD_FINDING.search(run.stdout)
    assert "skipped empty.yaml" in run.stdout


@pytest.mark.slow
def test_a_directory_where_a_file_is_expected(tmp_path: Path) -> None:
    app(tmp_path / "app", bg_role(), **{"permissions/p.json": POLICY})
    (tmp_path / "app" / "stack.toml").mkdir()
    assert_one_error(check(tmp_path, "app"), "app/stack.toml", "is a directory, expected a file")


def _drop_dac_override() -> None:
    """Run as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: file permissions then apply."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_an_unreadable_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"t.yaml": GOOD_TEMPLATE, "good.yaml": GOOD_TEMPLATE})
    (tmp_path / "t.yaml").chmod(0)
    preexec = None
    if os.geteuid() == 0:  # root reads anything: take the capabilities that let it away
        if sys.platform != "linux":
            pytest.skip("running as root outside Linux: no file is unreadable here")
        probe = subprocess.run(
            ["cat", "t.yaml"], cwd=tmp_path, capture_output=True, preexec_fn=_drop_dac_override, check=False
        )
        if probe.returncode == 0:
            pytest.skip("running as root and the capabilities cannot be dropped: no file is unreadable here")
        preexec = _drop_dac_override
    run = bglint("check", "-j1", "t.yaml", "good.yaml", cwd=tmp_path, preexec=preexec)
    assert_one_error(run, "t.yaml", "cannot read: Permission denied")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "t.yaml")  # opening it for reading would block for ever
    run = check(tmp_path, ".")
    assert_one_error(run, "t.yaml", "not a regular file")


@pytest.mark.slow
@pytest.mark.parametrize("given", ["loop.yaml", "."])
def test_a_symlink_loop(tmp_path: Path, given: str) -> None:
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    shown = "loop.yaml"
    assert_one_error(check(tmp_path, given), shown, "symlink loop")


@pytest.mark.slow
def test_a_symlink_loop_in_an_app(tmp_path: Path) -> None:
    app(tmp_path / "app", bg_role(), **{"permissions/p.json": POLICY})
    (tmp_path / "app" / "stack.toml").symlink_to("stack.toml")
    assert_one_error(check(tmp_path, "app"), "app/stack.toml", "symlink loop")


# -- resource limits --------------------------------------------------------------------------

BILLION_LAUGHS = "".join(
    [
        template("  R: {Type: AWS::SNS::Topic}\n"),
        "Metadata:\n",
        '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n',
    ]
    + [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)]
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bomb.yaml", BILLION_LAUGHS, "YAML alias bomb"),
        ("deep.yaml", template("  R: " + "[" * 10_000 + "]" * 10_000 + "\n"), "nesting deeper than 1000 levels"),
        (
            "deep-block.yaml",
            template("  R:\n    " + "- " * 10_000 + "x\n"),  # block style: 10,000 levels on one line
            "nesting deeper than 1000 levels",
        ),
        (
            "deep.json",
            '{"Resources": {"R": ' + '{"a": [' * 5_000 + "]}" * 5_000 + "}}",
            "nesting deeper than 1000 levels",
        ),
    ],
    ids=["alias-bomb", "deep-yaml-flow", "deep-yaml-block", "deep-json"],
)
def test_bombs_and_deep_nesting_are_refused_quickly(tmp_path: Path, name: str, content: str, message: str) -> None:
    write_tree(tmp_path, {name: content})
    run = check(tmp_path, name)
    assert_one_error(run, name, message)
    assert run.peak_mb < 300, run.peak_mb


@pytest.mark.slow
def test_deep_toml_is_refused_quickly(tmp_path: Path) -> None:
    app(tmp_path / "app", "a = " + "[" * 10_000 + "]" * 10_000 + "\n")
    run = check(tmp_path, "app")
    assert_one_error(run, "app/break_glass.toml", "nested too deeply")
    assert run.peak_mb < 300, run.peak_mb


@pytest.mark.slow
def test_a_50_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    with (tmp_path / "big.yaml").open("w", encoding="utf-8") as handle:
        handle.write(template("  R: {Type: AWS::SNS::Topic}\n"))
        line = "# " + "x" * 98 + "\n"
        for _ in range(500):
            handle.write(line * 1000)
    assert (tmp_path / "big.yaml").stat().st_size > 50_000_000
    run = check(tmp_path, "big.yaml")
    assert_one_error(run, "big.yaml", "file is larger than 10 MiB (limit max-file-bytes)")
    assert run.peak_mb < 100, run.peak_mb


@pytest.mark.slow
def test_a_policy_with_100000_statements(tmp_path: Path) -> None:
    statements = ", ".join(['{"Effect": "Allow", "Action": "*", "Resource": "*"}'] * 100_000)
    policy = '{"PolicyName": "p", "PolicyDocument": {"Statement": [' + statements + "]}}"
    body = '{"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ' + TRUST_JSON
    write_tree(tmp_path, {"many.json": '{"Resources": {"BreakglassR": ' + body + ', "Policies": [' + policy + "]}}}}"})
    run = check(tmp_path, "many.json")
    assert_one_error(run, "many.json", TOO_MANY_VALUES)
    assert run.peak_mb < 300, run.peak_mb


@pytest.mark.slow
def test_a_policy_over_the_statement_limit(tmp_path: Path) -> None:
    statements = ", ".join(
        f'{{Effect: Allow, Action: "s3:GetObject", Resource: "arn:aws:s3:::b{i}/*"}}' for i in range(1001)
    )
    write_tree(
        tmp_path, {"t.yaml": role(f"Policies: [{{PolicyName: p, PolicyDocument: {{Statement: [{statements}]}}}}]")}
    )
    assert_one_error(check(tmp_path, "t.yaml"), "t.yaml", "1001 statements, more than 1000 (limit max-statements)")


@pytest.mark.slow
def test_a_dense_file_under_the_size_limit_is_refused_by_its_values(tmp_path: Path) -> None:
    # 9 MB of tiny resources: 42 s and 1.3 GB before the values limit.
    write_tree(tmp_path, {"dense.yaml": template("".join(f"  R{i}: {{Type: X}}\n" for i in range(450_000)))})
    run = check(tmp_path, "dense.yaml")
    assert_one_error(run, "dense.yaml", TOO_MANY_VALUES)
    assert run.peak_mb < 300, run.peak_mb


@pytest.mark.slow
@pytest.mark.parametrize(
    "pattern",
    ["*" + "?*" * 12 + "#", "*" + "a*" * 400 + "b", "s3:" + "*?" * 200 + "x", "*" * 100_000 + "q"],
    ids=["question-marks", "many-stars", "service", "100k-stars"],
)
def test_pathological_wildcards_are_matched_in_linear_time(tmp_path: Path, pattern: str) -> None:
    statement = {"Effect": "Allow", "Action": [pattern], "Resource": [pattern]}
    deny = {"Effect": "Deny", "Action": pattern, "Resource": "arn:" + "*a" * 300}
    policy = json.dumps({"PolicyName": "p", "PolicyDocument": {"Statement": [statement, deny]}})
    body = '{"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ' + TRUST_JSON
    write_tree(tmp_path, {"wild.json": '{"Resources": {"BreakglassR": ' + body + ', "Policies": [' + policy + "]}}}}"})
    run = check(tmp_path, "wild.json")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert GOOD_FINDING.search(run.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(
    "pattern",
    ["(.*)*y|\\*", "(.|\\w)*y|\\*", ".*" * 8 + "y|\\*", "[*]|" + "a" * 5000],
    ids=["repeated-group", "repeated-alternation", "many-quantifiers", "long"],
)
def test_a_backtracking_allowed_pattern_is_never_run(tmp_path: Path, pattern: str) -> None:
    # Python's re backtracks exponentially on these (against an account root ARN) and cannot be
    # interrupted by the time budget. Each admits "*", so the trusted principal may be anyone.
    parameters = {"Who": {"Type": "String", "AllowedPattern": pattern}}
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Ref": "Who"}}, "Action": "sts:AssumeRole"}]}
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}}
    template = {"Parameters": parameters, "Resources": {"BreakglassR": role}}
    write_tree(tmp_path, {"trust.json": json.dumps(template)})
    run = check(tmp_path, "trust.json")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert re.search(r"^trust\.json:\d+:\d+: BG023 ", run.stdout, re.MULTILINE), run.stdout
    assert GOOD_FINDING.search(run.stdout)


@pytest.mark.slow
def test_the_time_budget_stops_a_slow_file_and_the_others_are_still_checked(tmp_path: Path) -> None:
    # 60,000 distinct unknown actions: each gets a "did you mean", far more than a second's work.
    actions = [f"s3:Unknown{i:05d}Thing" for i in range(60_000)]
    statements = ", ".join(
        json.dumps({"Effect": "Allow", "Action": actions[i : i + 60], "Resource": "*"}) for i in range(0, 60_000, 60)
    )
    body = '{"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ' + TRUST_JSON
    policy = '{"PolicyName": "p", "PolicyDocument": {"Statement": [' + statements + "]}}"
    write_tree(tmp_path, {"slow.json": '{"Resources": {"BreakglassR": ' + body + ', "Policies": [' + policy + "]}}}}"})
    write_tree(tmp_path, {".bglint.yaml": "limits:\n  max-seconds: 1\n"})
    run = check(tmp_path, "slow.json")
    line = assert_one_error(run, "slow.json", "took longer than 1 s to ")
    assert line.endswith("; not checked (limit max-seconds)")


@pytest.mark.slow
def test_limits_are_configurable(tmp_path: Path) -> None:
    write_tree(tmp_path, {"t.yaml": GOOD_TEMPLATE, ".bglint.yaml": "limits:\n  max-file-bytes: 100\n  max-depth: 3\n"})
    run = bglint("check", "-j1", "t.yaml", cwd=tmp_path)
    assert (
        run.returncode == 2
        and run.stderr.strip() == "t.yaml: error: file is larger than 100 bytes (limit max-file-bytes)"
    )
    write_tree(tmp_path, {".bglint.yaml": "limits:\n  max-depth: 3\n"})
    run = bglint("check", "-j1", "t.yaml", cwd=tmp_path)
    assert "nesting deeper than 3 levels" in run.stderr
    write_tree(tmp_path, {".bglint.yaml": "limits:\n  max-depth: 100000\n"})
    run = bglint("check", "-j1", "t.yaml", cwd=tmp_path)
    assert run.returncode == 2 and "limits.max-depth: 100000 is greater than the maximum of 5000" in run.stderr


# -- nothing outside the checked tree --------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the checked one, with a policy that names the secret if it is ever read."""
    folder = tmp_path / "outside"
    secret = json.dumps({"Statement": [{"Effect": SECRET, "Action": SECRET, "Resource": "*"}]})
    write_tree(folder, {"secret.json": secret, "secret.yaml": template(f"  {SECRET}: 1\n")})
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "fifo.json")  # reading it would block: a read is a hang, not a pass
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reference", "message"),
    [
        # Nuon follows ../ and symlinks (apps in one repository share folders); bglint never
        # reads outside the tree it checks: here the directory given, as it is not in git.
        ('"../../outside/secret.json"', "leads outside the checked directory; not read"),
        ('"./../../outside/fifo.json"', "leads outside the checked directory; not read"),
        # Nuon fetches only values starting with http, ./, ../, git or file: this one is literal JSON.
        ('"{root}/outside/secret.json"', "expected a JSON value"),
        ('"file://{root}/outside/secret.json"', "leads outside the checked directory; not read"),
        ('"./link.json"', "is a symlink to a file outside the checked directory; not read"),
    ],
    ids=["dotdot", "dotdot-fifo", "absolute", "file-url", "symlink"],
)
def test_references_that_leave_the_app_are_errors_and_not_read(
    tmp_path: Path, outside: Path, reference: str, message: str
) -> None:
    work = tmp_path / "work"
    app(work / "app", bg_role(reference.replace("{root}", str(tmp_path))))
    (work / "app" / "link.json").symlink_to(outside / "secret.json")
    run = check(work, "app")
    line = assert_one_error(run, "app/break_glass.toml", message)
    assert re.match(r"^app/break_glass\.toml:\d+:\d+: ", line)
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.slow
def test_a_symlinked_app_file_or_template_that_leads_out_is_an_error_and_not_read(
    tmp_path: Path, outside: Path
) -> None:
    work = tmp_path / "work"
    app(work / "app", bg_role(), **{"permissions/p.json": POLICY})
    (work / "app" / "stack.toml").symlink_to(outside / "secret.json")
    (work / "templates").mkdir()
    (work / "templates" / "t.yaml").symlink_to(outside / "secret.yaml")
    (work / "templates" / "dev.yaml").symlink_to("/dev/zero")
    run = check(work, "app", "templates")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    for path in ("app/stack.toml", "templates/t.yaml", "templates/dev.yaml"):
        (line,) = run.errors_about(path)
        assert line == f"{path}: error: is a symlink to a file outside the checked directory; not read"
    assert SECRET not in run.stdout + run.stderr and GOOD_FINDING.search(run.stdout)


@pytest.mark.slow
def test_a_symlinked_template_may_lead_anywhere_inside_its_repository(tmp_path: Path, outside: Path) -> None:
    # A monorepo's shared template is fine however the app is reached (walk, or a pre-commit
    # hook naming one file of the app); leaving the repository is not.
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write_tree(repo, {"shared/stack.yaml": GOOD_TEMPLATE.replace("BreakglassOps", "BreakglassShared")})
    app(repo / "apps" / "x", bg_role(), **{"permissions/p.json": POLICY})
    (repo / "apps" / "x" / "stack.yaml").symlink_to("../../shared/stack.yaml")
    (repo / "apps" / "x" / "leak.yaml").symlink_to(outside / "secret.yaml")
    for given in ("apps/x/break_glass.toml", "apps"):
        run = check(repo, given)
        assert "BreakglassShared" in run.stdout, (given, run.stdout)
        (line,) = run.errors_about("apps/x/leak.yaml")
        assert line.endswith("is a symlink to a file outside the repository; not read"), line
        assert SECRET not in run.stdout + run.stderr


@pytest.mark.slow
def test_an_explicit_symlink_out_of_the_current_directory_is_not_read(tmp_path: Path, outside: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "t.yaml").symlink_to(outside / "secret.yaml")
    run = check(work, "t.yaml")
    assert_one_error(run, "t.yaml", "is a symlink to a file outside the current directory; not read")
    assert SECRET not in run.stdout + run.stderr


@pytest.mark.slow
def test_remote_references_are_never_fetched(tmp_path: Path) -> None:
    # A listening socket counts connections: a fetch of any of these would connect to it.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    port = server.getsockname()[1]
    remotes = [
        f"http://127.0.0.1:{port}/p.json",
        f"https://127.0.0.1:{port}/p.json",
        f"git::http://127.0.0.1:{port}/r.git//p.json",
        # (s3:// is not among the prefixes Nuon fetches: it is literal JSON there, and an input error)
    ]
    policies = "".join(f'[[role.policies]]\nname = "r{i}"\ncontents = "{url}"\n' for i, url in enumerate(remotes))
    app(
        tmp_path / "app",
        f'[[role]]\nname = "ops"\ndescription = "d"\npermissions_boundary = "http://127.0.0.1:{port}/b.json"\n{policies}',
    )
    # A template's remote parts: an AWS::Include transform, an import, a remote boundary.
    include = f'{{"Name": "AWS::Include", "Parameters": {{"Location": "http://127.0.0.1:{port}/x"}}}}'
    body = (
        f'{{"Transform": ["AWS::Serverless-2016-10-31", {include}], "Resources": {{"BreakglassT": '
        f'{{"Type": "AWS::IAM::Role", "Properties": {{"AssumeRolePolicyDocument": {TRUST_JSON}, '
        f'"ManagedPolicyArns": [{{"Fn::ImportValue": "http://127.0.0.1:{port}/arn"}}], '
        f'"PermissionsBoundary": "http://127.0.0.1:{port}/b"}}}}}}}}'
    )
    write_tree(tmp_path, {"remote.json": body})
    env_proxy = {"http_proxy": f"http://127.0.0.1:{port}", "https_proxy": f"http://127.0.0.1:{port}"}
    os.environ.update(env_proxy)
    try:
        run = check(tmp_path, "app", "remote.json")
    finally:
        for key in env_proxy:
            os.environ.pop(key, None)
    try:
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
    assert "Traceback" not in run.stderr and run.stderr == "", run.stderr
    assert run.stdout.count("BG009") >= len(remotes), run.stdout  # document unknown, never assumed harmless


# -- output is safe ---------------------------------------------------------------------------

ESC = "\x1b"


@pytest.mark.slow
def test_ansi_and_bidi_in_a_file_name_are_escaped(tmp_path: Path) -> None:
    name = f"{ESC}[31mred{ESC}]0;title\a\u202egnp.yaml"
    write_tree(tmp_path, {name: "Resources: [\n"})
    run = check(tmp_path, name)
    assert run.returncode == 2 and ESC not in run.stdout + run.stderr and "\u202e" not in run.stderr
    (line,) = [ln for ln in run.stderr.splitlines() if "red" in ln]
    assert line.startswith("\\x1b[31mred\\x1b]0;title\\x07\\u202egnp.yaml:") and ": error: invalid YAML" in line


@pytest.mark.slow
def test_ansi_in_a_policy_action_is_escaped_in_every_format(tmp_path: Path) -> None:
    action = f"s3:Get{ESC}[2J{ESC}[31mObject\u202e"
    write_tree(
        tmp_path,
        {
            "t.yaml": role(
                f"Policies: [{{PolicyName: p, PolicyDocument: {{Statement: [{{Effect: Allow, Action: {json.dumps(action)}, Resource: '*'}}]}}}}]"
            )
        },
    )
    for fmt in ("text", "json", "sarif", "markdown", "junit"):
        run = check(tmp_path, "t.yaml", args=("--format", fmt))
        assert run.returncode == 1, run.stderr
        assert ESC not in run.stdout + run.stderr and "\u202e" not in run.stdout, fmt
    text = check(tmp_path, "t.yaml").stdout
    assert "s3:Get\\x1b[2J\\x1b[31mObject\\u202e" in text
    data = json.loads(check(tmp_path, "t.yaml", args=("--format", "json")).stdout)
    assert any(action in f["message"] for f in data["findings"])  # JSON keeps the exact text


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    ["::error file=README.md,line=1::Approved by security.yaml", "x##[stop-commands]tok.yaml", " ::add-mask::x.yaml"],
    ids=["workflow-command", "legacy-command", "indented"],
)
def test_a_crafted_file_name_cannot_issue_workflow_commands(tmp_path: Path, name: str) -> None:
    write_tree(tmp_path, {name: GOOD_TEMPLATE, "broken " + name: "Resources: [\n"})
    for fmt in ("text", "json", "sarif", "github", "markdown"):
        run = check(tmp_path, name, "broken " + name, args=("--format", fmt))
        assert run.returncode == 2, (fmt, run.stderr)
        for line in (run.stdout + run.stderr).splitlines():
            if fmt == "github" and re.match(r"^::(error|warning|notice) file=[^:]*::", line):
                continue  # our own annotation: the runner parses it as that, whatever its data holds
            assert not line.lstrip().startswith("::"), (fmt, line)
            assert "##[" not in line, (fmt, line)


@pytest.mark.slow
def test_a_newline_in_a_file_name_keeps_the_error_on_one_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bad\nline.yaml": "Resources: [\n"})
    run = check(tmp_path, "bad\nline.yaml")
    assert run.returncode == 2
    assert [ln for ln in run.stderr.splitlines() if ln] == [
        "bad\\nline.yaml:2:1: error: invalid YAML: did not find expected node content"
    ]


def test_escape_helpers_for_the_other_formats() -> None:
    line = for_github_annotation("error", "a%b\r\nc" + ESC, file="a,b:c\n.yaml", line=3, col=0, title="BG001 x: y")
    # The file keeps its newline (encoded, decoded back by the runner) so the annotation still
    # attaches to that file; in the message, control characters are shown escaped.
    assert line == "::error file=a%2Cb%3Ac%0A.yaml,line=3,title=BG001 x%3A y::a%25b\\r\\nc\\x1b"
    with pytest.raises(ValueError):
        for_github_annotation("stop-commands", "x")
    with pytest.raises(ValueError):
        for_github_annotation("error", "x", **{"file=x,line": "1"})
    assert for_markdown("@octocat <img src=x onerror=alert(1)> | `x` [l](u)") == (
        "@\u200boctocat \\<img src=x onerror=alert(1)\\> \\| \\`x\\` \\[l\\](u)"
    )
    assert (
        for_html("<script>\"x\" & 'y'</script>" + ESC)
        == "&lt;script&gt;&quot;x&quot; &amp; &#x27;y&#x27;&lt;/script&gt;\\x1b"
    )
    assert for_terminal_line("::error::x") == "\\x3a:error::x" and for_terminal_line("  ::x") == "  \\x3a:x"
    assert json.loads(for_json_text(json.dumps({"a": "##[x"}))) == {"a": "##[x"}


# -- the guard itself -------------------------------------------------------------------------


def _forever() -> None:
    while True:
        pass


@pytest.fixture
def someone_elses_alarm() -> Iterator[None]:
    """The default SIGALRM handler and a 30 s alarm already running, as a test timeout would be."""
    previous = signal.signal(signal.SIGALRM, signal.SIG_DFL)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("someone_elses_alarm")
def test_an_expired_budget_is_an_input_error_and_leaves_no_state_behind() -> None:
    with pytest.raises(InputError, match=r"took longer than 2 s to check; not checked \(limit max-seconds\)"):
        limits.within_budget("t.yaml", _forever, seconds=0.2)
    assert gc.isenabled()
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert 25 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30  # someone else's alarm survives
    assert limits.within_budget("t.yaml", lambda: 42) == 42


@pytest.mark.usefixtures("someone_elses_alarm")
def test_budgets_sharing_one_handler_still_expire_and_give_everything_back() -> None:
    """Inside shared_alarm (a whole run) the handler is installed once, not per document."""
    with limits.shared_alarm():
        installed = signal.getsignal(signal.SIGALRM)
        assert installed not in (signal.SIG_DFL, None)
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0  # held: it cannot ring mid-run
        with pytest.raises(InputError, match=r"took longer than 2 s to check"):
            limits.within_budget("slow.yaml", _forever, seconds=0.2)
        assert limits.within_budget("next.yaml", lambda: 42) == 42
        assert signal.getsignal(signal.SIGALRM) is installed  # still ours, not reinstalled
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0  # no alarm left running
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert 25 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30  # given back


def test_an_unexpected_exception_becomes_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BGLINT_DEBUG", raising=False)

    def broken() -> None:
        raise RecursionError("maximum recursion depth exceeded")

    with pytest.raises(InputError, match=r"^t\.yaml: error: bglint failed on this file \(RecursionError: maximum"):
        limits.within_budget("t.yaml", broken)


def test_limits_from_the_config() -> None:
    assert Limits.from_config({"max-seconds": 5, "max-values": 10}) == Limits(max_seconds=5, max_values=10)


# -- regressions: the minimal input of each crash found ---------------------------------------


@pytest.mark.slow
def test_regression_json_string_policy_nested_deeply(tmp_path: Path) -> None:
    # json.loads raised RecursionError out of PolicyReader (a traceback, the run lost).
    write_tree(tmp_path, {"t.yaml": role("Policies: [{PolicyName: p, PolicyDocument: '" + "[" * 100_000 + "'}]")})
    assert_one_error(check(tmp_path, "t.yaml"), "t.yaml", "policy document")


@pytest.mark.slow
def test_regression_symlink_loop_given_on_the_command_line(tmp_path: Path) -> None:
    # Path.resolve() raised RuntimeError("Symlink loop") in config discovery: a traceback.
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    assert_one_error(check(tmp_path, "a.yaml"), "a.yaml", "symlink loop")


def test_regression_a_file_name_too_long(tmp_path: Path) -> None:
    # pathlib's is_dir/exists raise for ENAMETOOLONG (Python 3.11-3.13): a traceback, the run lost.
    long = "x" * 300
    assert_one_error(check(tmp_path, f"{long}.yaml"), f"{long}.yaml", "cannot read: File name too long")
    assert_one_error(check(tmp_path, f"{long}/a.yaml"), f"{long}/a.yaml", "cannot read: File name too long")


def _as_nobody(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`bglint ARGS` in a user namespace: not root there, so file permissions hold (CI runs as root)."""
    return subprocess.run(
        ["unshare", "--user", sys.executable, "-m", "bglint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.skipif(
    subprocess.run(["unshare", "--user", "true"], capture_output=True, check=False).returncode != 0,
    reason="needs user namespaces (unshare --user)",
)
def test_regression_a_folder_bglint_may_not_enter(tmp_path: Path) -> None:
    """Given or met while walking, an unreadable folder is one error line: its files go unchecked."""
    write_tree(tmp_path, {"locked/role.yaml": GOOD_TEMPLATE, "good.yaml": GOOD_TEMPLATE})
    (tmp_path / "locked").chmod(0)
    try:
        for args, shown_path in (
            (["locked/role.yaml"], "locked/role.yaml"),
            (["locked"], "locked"),
            (["."], "./locked"),
        ):
            run = _as_nobody("check", *args, "good.yaml", cwd=tmp_path)
            assert "Traceback" not in run.stderr, run.stderr
            assert run.returncode == 2, (args, run.stdout, run.stderr)
            assert run.stderr.splitlines()[0] == f"{shown_path}: error: cannot read: Permission denied", run.stderr
            assert GOOD_FINDING.search(run.stdout), run.stdout
    finally:
        (tmp_path / "locked").chmod(0o755)


@pytest.mark.slow
def test_regression_a_file_name_that_is_not_utf8_with_a_strict_output(tmp_path: Path) -> None:
    # A name's undecodable bytes reach Python as lone surrogates, which a strict UTF-8 stream
    # (an en_US.UTF-8 terminal) and the fingerprint's encoding refused: a traceback, no report.
    name = os.fsdecode(b"bad\xff.yaml")
    (tmp_path / name).write_text(GOOD_TEMPLATE, encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    for fmt in ("text", "json", "sarif", "github", "markdown", "junit"):
        run = subprocess.run(
            [sys.executable, "-m", "bglint", "check", "--format", fmt, "."],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 1 and not run.stderr, (fmt, run.stderr)  # GOOD_TEMPLATE has an error
        shown = run.stdout.replace(b"\\\\", b"\\")  # Markdown escapes the backslash itself
        assert b"bad\\udcff.yaml" in shown, (fmt, run.stdout)  # escaped, as a control character
        if fmt == "json":  # the escape is JSON's own: the document holds the name as Python read it
            findings = json.loads(run.stdout)["findings"]
            assert {f["path"] for f in findings} == {name} and all(len(f["fingerprint"]) == 32 for f in findings)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="FIFOs and /dev/zero")
def test_regression_fifo_and_dev_zero_as_app_files(tmp_path: Path) -> None:
    # A FIFO blocked the run for ever; /dev/zero was read without end.
    app(tmp_path / "app", bg_role(), **{"permissions/p.json": POLICY})
    os.mkfifo(tmp_path / "app" / "stack.toml")
    run = check(tmp_path, "app")
    assert_one_error(run, "app/stack.toml", "not a regular file")
    (tmp_path / "app" / "stack.toml").unlink()
    (tmp_path / "app" / "stack.toml").symlink_to("/dev/zero")
    assert_one_error(check(tmp_path, "app"), "app/stack.toml", "outside the checked directory")


@pytest.mark.slow
def test_regression_huge_pyproject_toml(tmp_path: Path) -> None:
    # Config discovery read every pyproject.toml upwards whole, then parsed it: a 4 GB one
    # (sparse here) took the memory of the machine.
    with (tmp_path / "pyproject.toml").open("wb") as handle:
        handle.truncate(4 << 30)
    run = check(tmp_path, "good.yaml")
    assert run.returncode == 1 and run.stderr == "" and GOOD_FINDING.search(run.stdout)
    assert run.peak_mb < 300, run.peak_mb


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("tag-keys: " + "[" * 200_000, "nesting deeper than 1000 levels"),
        ("tag-keys: " + "[" * 990 + "]" * 990, "invalid config: nested too deeply"),
    ],
    ids=["200k-deep", "990-deep"],
)
def test_regression_deep_config(tmp_path: Path, config: str, message: str) -> None:
    # 200k levels crashed the interpreter in libyaml's composer (exit 139); 990 levels raised
    # RecursionError in the config's date conversion.
    write_tree(tmp_path, {".bglint.yaml": config})
    run = check(tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith(".bglint.yaml") and message in run.stderr


@pytest.mark.slow
def test_regression_deep_rule_file(tmp_path: Path) -> None:
    # A user rule file nested 200k deep crashed the interpreter (exit 139, no output at all).
    write_tree(tmp_path, {"rules/x.yaml": "id: " + "[" * 200_000})
    run = check(tmp_path, args=("--rules", "rules"))
    assert_one_error(run, "rules/x.yaml", "nesting deeper than 1000 levels")


@pytest.mark.slow
def test_regression_deep_baseline(tmp_path: Path) -> None:
    # json.loads raised RecursionError on a baseline file.
    write_tree(tmp_path, {"base.json": "[" * 100_000})
    run = check(tmp_path, args=("--baseline", "base.json"))
    assert run.returncode == 2 and run.stderr.strip() == "base.json: error: baseline is nested too deeply"


@pytest.mark.slow
def test_regression_input_errors_travel_back_from_worker_processes(tmp_path: Path) -> None:
    # InputError could not be unpickled: with -j > 1 a run with any input error hung for ever.
    write_tree(tmp_path, {f"t{i}.yaml": "Resources: [\n" for i in range(4)})
    write_tree(tmp_path, {f"g{i}.yaml": GOOD_TEMPLATE for i in range(4)})
    run = bglint(
        "check", "-j2", *[f"t{i}.yaml" for i in range(4)], *[f"g{i}.yaml" for i in range(4)], cwd=tmp_path, timeout=60
    )
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 4
    assert all(f"g{i}.yaml:" in run.stdout for i in range(4))


@pytest.mark.slow
@pytest.mark.parametrize(
    "properties",
    [
        "Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, Resource: '*', Action: "
        + "[" * 990
        + '"s3:GetObject"'
        + "]" * 990
        + "}]}}]",
        "Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, Resource: '*', Action: "
        + '{"Fn::If": [C, ' * 490
        + '"s3:GetObject"'
        + ', "x"]}' * 490
        + "}]}}]",
        "RoleName: " + '{"Fn::Join": ["", [' * 330 + '"a"' + "]]}" * 330,
        "RoleName: {Ref: " + "[" * 990 + "]" * 990 + "}",
    ],
    ids=["nested-lists", "nested-if", "nested-join", "deep-ref"],
)
def test_regression_deep_intrinsics_are_rendered_without_recursion(tmp_path: Path, properties: str) -> None:
    # Renderer.items/texts recursed once or more per level: RecursionError at ~330-990 levels.
    write_tree(tmp_path, {"t.yaml": role(properties)})
    run = check(tmp_path, "t.yaml")
    assert run.returncode == 1 and run.stderr == "", run.stderr
    assert GOOD_FINDING.search(run.stdout)


@pytest.mark.slow
def test_regression_deep_values_quoted_in_messages(tmp_path: Path) -> None:
    # `got {value!r}` of a 990-deep list: RecursionError, and a huge value made a huge line.
    deep = "[" * 990 + "]" * 990
    write_tree(
        tmp_path,
        {
            "t.yaml": role(
                f"Policies: [{{PolicyName: p, PolicyDocument: {{Statement: [{{Effect: {deep}, Action: '*', Resource: '*'}}]}}}}]"
            )
        },
    )
    line = assert_one_error(check(tmp_path, "t.yaml"), "t.yaml", "Effect must be Allow or Deny, got [[[...]]]")
    assert len(line) < 300
    assert len(shown("A" * 5_000_000)) < 100


def test_regression_catastrophic_action_pattern() -> None:
    # `*?*?*?*?*?*?*?*?*?*?*?*?#` ran for minutes (regex backtracking, which no signal stops).
    catalog = load_catalog()
    assert catalog.expand("*" + "?*" * 12 + "#") == frozenset()
    assert catalog.expand_bits("*" + "a*" * 300 + "b") == 0


@pytest.mark.slow
def test_regression_permissions_of_many_notaction_statements(tmp_path: Path) -> None:
    # `bglint permissions` summarised 1,000 NotAction statements for 10 s, with no budget.
    statements = ", ".join(
        json.dumps({"Effect": "Allow", "NotAction": [f"s3:x{i}"], "Resource": "*"}) for i in range(1000)
    )
    body = '{"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ' + TRUST_JSON
    policy = '{"PolicyName": "p", "PolicyDocument": {"Statement": [' + statements + "]}}"
    write_tree(
        tmp_path,
        {
            "n.json": '{"Resources": {"BreakglassR": ' + body + ', "Policies": [' + policy + "]}}}}",
            "good.yaml": GOOD_TEMPLATE,
        },
    )
    run = bglint("permissions", "n.json", "good.yaml", cwd=tmp_path)
    assert run.returncode in (0, 2) and "Traceback" not in run.stderr
    assert "good.yaml:" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize("value", [".inf", "1e999", "-.inf"])
def test_regression_infinite_max_session_duration(tmp_path: Path, value: str) -> None:
    # int(float("inf")) raised OverflowError out of the template loader (found by test_fuzz.py).
    write_tree(tmp_path, {"t.yaml": role(f"MaxSessionDuration: {value}")})
    run = check(tmp_path, "t.yaml")
    assert run.returncode == 1 and run.stderr == "", run.stderr
    assert GOOD_FINDING.search(run.stdout) and "t.yaml:" in run.stdout
