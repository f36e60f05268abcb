"""PyYAML, imported for a third less: bglint's modules take `yaml` from here.

Importing PyYAML compiles the pure-Python reader's non-printable-character class, whose BMP
ranges `re` expands one code point at a time: 57 M of the 124 M instructions the import costs,
about 8 ms of every `bglint check`, for a reader bglint never runs (libyaml reads the text).
Before the import, `re`'s cache is given the same class written as its small complement, so the
expansion never happens. If `re` or PyYAML change, the import simply pays the full cost again;
tests/test_yamllib.py proves the two classes match the same code points and that the shortcut is
taken on the Python and PyYAML that CI installs.
"""

from __future__ import annotations

import re
import sys

# PyYAML's Reader.NON_PRINTABLE, and the same set of code points written as what it excludes.
NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
SAME_SET = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"

_cache = getattr(re, "_cache", None)
if "yaml" not in sys.modules and isinstance(_cache, dict):
    _cache[str, NON_PRINTABLE, 0] = re.compile(SAME_SET)

import yaml  # noqa: E402  (after the cache is primed)
from yaml.constructor import SafeConstructor  # noqa: E402
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode  # noqa: E402

__all__ = ["MappingNode", "Node", "SafeConstructor", "ScalarNode", "SequenceNode", "yaml"]
