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
    head, *rest = pattern.split("*")
    parts = [_segment(head)]
    if rest:
        *middle, tail = rest
        parts += [f"(?>.*?{_segment(segment)})" for segment in middle if segment]
        parts.append(f".*{_segment(tail)}")
    return re.compile("".join(parts), re.DOTALL)


def _segment(segment: str) -> str:
    return ".".join(re.escape(piece) for piece in segment.split("?"))
