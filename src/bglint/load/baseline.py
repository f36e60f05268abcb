"""Read a baseline file written by `bglint baseline create`."""

from __future__ import annotations

import json
from pathlib import Path

from bglint.errors import InputError
from bglint.findings import BASELINE_FORMAT, BaselineEntry
from bglint.parse.files import read_text


def load_baseline(path: Path) -> list[BaselineEntry]:
    shown = str(path)
    text = read_text(path, shown)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(shown, f"baseline is not JSON: {exc}") from None
    except RecursionError:
        raise InputError(shown, "baseline is nested too deeply") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != BASELINE_FORMAT
        or not isinstance(data.get("findings"), list)
    ):
        raise InputError(shown, f"not a bglint baseline (expected format {BASELINE_FORMAT!r})")
    entries = []
    for index, item in enumerate(data["findings"]):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("fingerprint", "rule", "path")):
            raise InputError(shown, f"findings[{index}]: needs string fingerprint, rule and path")
        entries.append(BaselineEntry(item["fingerprint"], item["rule"], item["path"], str(item.get("role", ""))))
    return entries
