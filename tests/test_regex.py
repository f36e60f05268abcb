"""bglint.regex: module-level patterns compiled on first use, behaving as `re.compile` would."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import bglint
from bglint.regex import Regex

PATTERNS = [
    (r"^arn:(?:aws[a-z-]*):iam::(\d{12}):role/(.+)$", 0),
    (r"role|polic(?:y|ies)", re.IGNORECASE),
    (r"\s*,\s*", 0),
    (r"(?P<key>[a-z]+)=(?P<value>\d+)", 0),
    (r"^x.*$", re.MULTILINE | re.DOTALL),
]
TEXT = st.text(alphabet="arn:aws-iam:0123456789/RoleroleXxPOLICY ,=\n.", max_size=60)


def _groups(found: re.Match[str] | None) -> object:
    return None if found is None else (found.span(), found.groups())


@given(TEXT, st.integers(0, 8))
def test_every_method_answers_as_the_compiled_pattern_does(text: str, pos: int) -> None:
    for source, flags in PATTERNS:
        lazy, eager = Regex(source, flags), re.compile(source, flags)
        assert _groups(lazy.match(text, pos)) == _groups(eager.match(text, pos))
        assert _groups(lazy.fullmatch(text)) == _groups(eager.fullmatch(text))
        assert _groups(lazy.search(text, pos, pos + 20)) == _groups(eager.search(text, pos, pos + 20))
        assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
        assert lazy.findall(text) == eager.findall(text)
        assert lazy.split(text, 2) == eager.split(text, 2)
        assert lazy.sub("<\\g<0>>", text, 3) == eager.sub("<\\g<0>>", text, 3)
        assert lazy.sub(lambda m: m.group(0).upper(), text) == eager.sub(lambda m: m.group(0).upper(), text)


def test_a_pattern_is_compiled_at_its_first_use_not_before() -> None:
    pattern = Regex(r"(unbalanced")
    # An invalid pattern is only found when used: the test below compiles every shipped one.
    try:
        pattern.search("x")
    except re.error:
        pass
    else:
        raise AssertionError("an invalid pattern compiled")


def test_every_module_level_pattern_in_bglint_compiles() -> None:
    """Compiling on first use hides a broken pattern until a run reaches it: compile them all here."""
    found = 0
    for module in pkgutil.walk_packages(bglint.__path__, "bglint."):
        if module.name == "bglint.__main__":  # importing it runs the command
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, Regex):
                assert isinstance(value.compiled, re.Pattern)
                found += 1
    assert found >= 80


def test_a_one_template_check_compiles_few_of_the_patterns(tmp_path: Path) -> None:
    """The point of the module: a run compiles the patterns it uses, not all it imports."""
    probe = (
        "import sys, bglint.regex as r\n"
        "made = []\n"
        "init = r.Regex.__init__\n"
        "def record(self, *a, **k):\n"
        "    init(self, *a, **k); made.append(self)\n"
        "r.Regex.__init__ = record\n"
        "from bglint.cli.main import main\n"
        "try:\n"
        "    main(['check', sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(len(made), sum(p._compiled is not None for p in made))\n"
    )
    template = tmp_path / "role.yaml"
    template.write_text(
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {AWS: '111122223333'},"
        " Action: 'sts:AssumeRole'}]}\n"
        "      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(template)], capture_output=True, text=True, check=True)
    defined, compiled = map(int, done.stdout.splitlines()[-1].split())
    assert defined >= 30
    assert compiled < defined / 2
