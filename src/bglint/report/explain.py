"""`bglint explain`: a rule's wrong example next to its fixed one."""

from __future__ import annotations

from itertools import zip_longest

from bglint.report.escape import for_terminal

WIDTH = 120
_GAP = "  │ "


def wrong_and_fixed(example: str, fixed: str) -> str:
    """Side by side when both fit in 120 columns, else the fixed one under the wrong one."""
    wrong = [for_terminal(line) for line in example.splitlines()]
    if not fixed:
        return "Example:\n" + "\n".join(wrong) + "\n"
    right = [for_terminal(line) for line in fixed.splitlines()]
    left = max(len(line) for line in [*wrong, "Wrong:"])
    if left + len(_GAP) + max(len(line) for line in right) <= WIDTH:
        rows = zip_longest(["Wrong:", *wrong], ["Fixed:", *right], fillvalue="")
        return "\n".join(f"{a:<{left}}{_GAP}{b}".rstrip() for a, b in rows) + "\n"
    return "Wrong:\n" + "\n".join(wrong) + "\n\nFixed:\n" + "\n".join(right) + "\n"
