"""Nearest words by edit distance, for "did you mean" hints on names that do not exist."""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance (insert, delete, substitute one character), or limit + 1 if above limit.

    Only the band of width 2 * limit + 1 around the diagonal is computed: hints are asked for
    among hundreds of names, and most of them are far away.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    over = limit + 1
    previous = [j if j <= limit else over for j in range(len(b) + 1)]
    for i, char in enumerate(a, 1):
        low, high = max(1, i - limit), min(len(b), i + limit)
        current = [over] * (len(b) + 1)
        current[0] = i if i <= limit else over
        for j in range(low, high + 1):
            cost = 0 if char == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost, over)
        if min(current[low - 1 : high + 1]) > limit:
            return over
        previous = current
    return min(previous[len(b)], over)


def default_limit(word: str) -> int:
    """How many edits still read as a typo: 1 in short words, about one in three in longer ones."""
    return max(1, len(word) // 3)


def closest(word: str, candidates: Iterable[str], limit: int | None = None) -> str | None:
    """The candidate fewest edits away from `word` (within `limit`), the first such on a tie."""
    bound = default_limit(word) if limit is None else limit
    best, best_distance = None, bound + 1
    for candidate in candidates:
        distance = edit_distance(word, candidate, best_distance - 1)
        if distance < best_distance:
            best, best_distance = candidate, distance
            if distance == 0:
                break
    return best
