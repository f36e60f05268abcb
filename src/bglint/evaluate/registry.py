"""The one registry of predicates rules may name.

Predicates live in the modules of `bglint.evaluate.predicates`, one per topic; each
registers itself here with `@predicate`. Every module of that package is imported: none is
listed by hand.
"""

from __future__ import annotations

import functools
import importlib
import os
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
    # By name: the predicates import this module, not the other way round. The folder is listed
    # directly: pkgutil's machinery costs a one-file check more than the listing.
    package = importlib.import_module(f"{__package__}.predicates")
    (folder,) = package.__path__
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py") and name != "__init__.py":
            importlib.import_module(f"{package.__name__}.{name.removesuffix('.py')}")
    return PREDICATES
