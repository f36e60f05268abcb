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
    for name in module_names(folder):
        importlib.import_module(f"{package.__name__}.{name}")
    return PREDICATES


def module_names(folder: str) -> list[str]:
    """The modules of a package folder's .py files, sorted, as pkgutil names them: a name with
    another dot is no module (an editor's `.#roles.py` lock, a `roles.tmp.py`), and importing it
    would fail every check."""
    names = (n.removesuffix(".py") for n in os.listdir(folder) if n.endswith(".py"))
    return sorted(n for n in names if n != "__init__" and "." not in n)
