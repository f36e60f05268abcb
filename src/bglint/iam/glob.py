"""IAM wildcard patterns (`*` any run, `?` one character) as regexes that match in linear time.

The obvious translation, `*` -> `.*`, backtracks: `*?*?*?*?*?*?*?*?*?*?*?*?#` against an
action name that does not end in `#` tries every way of splitting the name, and a pattern of
25 characters already runs for minutes. Python's `re` cannot be interrupted by a signal, so
no time budget can stop it: the matching itself must be bounded.

Split the pattern at its stars: `head * s1 * s2 * ... * tail`. The head must match at the
start and the tail at the end; each middle segment is matched at its leftmost position after
the previous one, inside an atomic group that is never re-entered. Leftmost is exact for
globs: a match further right only leaves less room for the segments after it. Each segment
is then tried at most once per position: O(len(text) * len(pattern)), with no backtracking
between segments. `[` and every other character are literal (IAM has no character classes).
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)  # patterns come from files: keep the cache bounded
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex whose `fullmatch` says whether `pattern` matches a whole string."""
    return _stars([_segment(segment) for segment in pattern.split("*")])


def _stars(segments: list[str]) -> re.Pattern[str]:
    """The regex of regex `segments` joined by stars (see the module's docstring)."""
    head, *rest = segments
    parts = [head]
    if rest:
        *middle, tail = rest
        parts += [f"(?>.*?{segment})" for segment in middle if segment]
        parts.append(f".*{tail}")
    return re.compile("".join(parts), re.DOTALL)


def glob_match(pattern: str, text: str) -> bool:
    return glob_regex(pattern).fullmatch(text) is not None


@functools.lru_cache(maxsize=1024)
def star_regex(pattern: str) -> re.Pattern[str]:
    """The same for a pattern whose only wildcard is `*` (EventBridge's `wildcard` filter, CloudWatch
    Logs filter values): `?` is literal, and `\\*` / `\\\\` stand for a literal star / backslash."""
    segments: list[str] = []
    current: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            current.append(re.escape(next(chars, "\\")))
        elif char == "*":
            segments.append("".join(current))
            current = []
        else:
            current.append(re.escape(char))
    segments.append("".join(current))
    return _stars(segments)


def _segment(segment: str) -> str:
    return ".".join(re.escape(piece) for piece in segment.split("?"))
