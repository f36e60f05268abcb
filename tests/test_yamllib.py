"""bglint.parse.yamllib: PyYAML imported with its reader's character class pre-compiled cheaply."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from bglint.parse.yamllib import NON_PRINTABLE, SAME_SET


def test_the_cheap_class_matches_exactly_the_code_points_pyyaml_calls_non_printable() -> None:
    every = "".join(map(chr, range(sys.maxunicode + 1)))  # lone surrogates included
    theirs, ours = re.compile(NON_PRINTABLE), re.compile(SAME_SET)
    assert theirs.findall(every) == ours.findall(every)
    assert len(ours.findall(every)) == 9 + 2 + 18 + 6 + 26 + 2048 + 2  # sanity: the ranges' sizes


def test_pyyaml_still_spells_the_class_bglint_primes() -> None:
    # If PyYAML rewrites its pattern, the shortcut silently stops working: this says so.
    import yaml.reader

    source = Path(yaml.reader.__file__).read_text(encoding="utf-8")
    literal = re.search(r"NON_PRINTABLE = re\.compile\(('[^']*')\)", source)
    assert (
        literal is not None and ast.literal_eval(literal.group(1)) == NON_PRINTABLE
    )  # a literal, from PyYAML's own file


def test_a_fresh_process_takes_the_shortcut_and_yaml_still_refuses_non_printable_text() -> None:
    probe = (
        "import bglint.parse.yamllib as lib, yaml, yaml.reader\n"
        "assert yaml.reader.Reader.NON_PRINTABLE.pattern == lib.SAME_SET\n"
        "try:\n"
        "    yaml.load('a: \\x07', Loader=yaml.SafeLoader)\n"
        "except yaml.reader.ReaderError as exc:\n"
        "    print('refused', exc.character)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused 7"  # the code point of BEL, which YAML 1.1 does not allow
