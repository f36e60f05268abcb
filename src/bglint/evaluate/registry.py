"""The one registry of predicates rules may name.

Predicates live in modules grouped by topic (`predicates.py` for roles and app configs);
each registers itself here with `@predicate` and is listed in `_MODULES`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from typing import Any

from bglint.evaluate.subject import Hit, Subject

Predicate = Callable[[Subject, dict[str, Any]], Iterator[Hit]]
PREDICATES: dict[str, Predicate] = {}


def predicate(func: Predicate) -> Predicate:
    if func.__name__ in PREDICATES:
        raise ValueError(f"predicate {func.__name__} registered twice")
    PREDICATES[func.__name__] = func
    return func


# Every module that defines predicates; a new topic adds its module here.
_MODULES = (
    "bglint.evaluate.predicates",
    "bglint.evaluate.predicates_suppressions",
    "bglint.evaluate.predicates_workflow",
    "bglint.evaluate.predicates_audit",
)


@functools.cache
def registered() -> dict[str, Predicate]:
    """The registry with every predicate module loaded."""
    for module in _MODULES:
        importlib.import_module(module)
    return PREDICATES
