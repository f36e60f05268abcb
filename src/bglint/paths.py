"""Where bglint's data files live, installed or in a source checkout.

Plain `Path(__file__)` arithmetic rather than importlib.resources: bglint is never run
from a zip, and importing importlib.resources costs ~9 ms of the interactive budget.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent
# src/bglint/paths.py -> the repository root, which holds rules/ and schemas/.
_REPO_ROOT = _PACKAGE.parents[1]


def data_path(*parts: str) -> Path:
    """Path of a data file: inside the installed package, else at the repository root.

    The wheel build copies the repository's rules/ and schemas/ into the package; a
    source checkout keeps them at the top level. Package data proper (the IAM catalog)
    always lives in the package.
    """
    packaged = _PACKAGE.joinpath(*parts)
    return packaged if packaged.exists() else _REPO_ROOT.joinpath(*parts)


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema of `schemas/` (e.g. `config.schema.json`), parsed once; not to be changed."""
    with data_path("schemas", name).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema
