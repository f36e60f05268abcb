"""Where bglint's data files (rules, schemas) live, installed or in a source checkout."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

# src/bglint/paths.py -> the repository root, which holds rules/ and schemas/.
_REPO_ROOT = Path(__file__).resolve().parents[2]


def data_path(*parts: str) -> Path:
    """Path of a data file: inside the installed package, else at the repository root.

    The wheel build copies the repository's rules/ and schemas/ into the package; a
    source checkout keeps them at the top level.
    """
    packaged = importlib.resources.files("bglint")
    for part in parts:
        packaged = packaged / part
    # Only a real file-system path can be handed out as a Path (not a zip member).
    if isinstance(packaged, Path) and packaged.exists():
        return packaged
    return _REPO_ROOT.joinpath(*parts)
