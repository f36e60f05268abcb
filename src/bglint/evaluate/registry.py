"""The one registry of predicates rules may name.

Predicates live in the modules of `bglint.evaluate.predicates`, one per topic; each
registers itself here with `@predicate`. Every module of that package is imported: none is
listed by hand.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

from bglint.evaluate.subject import Subject
from bglint.findings import Hit

Predicate = Callable[[Subject, dict[str, Any]], Iterator[Hit]]
PREDICATES: dict[str, Predicate] = {}


def predicate(func: Predicate) -> Predicate:
    if func.__name__ in PREDICATES:
        raise ValueError(f"predicate {func.__name__} registered twice")
    PREDICATES[func.__name__] = func
    return func


@functools.cache
def registered() -> dict[str, Predicate]:
    """The registry with every predicate module loaded."""
    # By name: the predicates import this module, not the other way round.
    package = importlib.import_module(f"{__package__}.predicates")
    for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
    return PREDICATES
