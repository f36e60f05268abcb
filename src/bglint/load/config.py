"""The user's bglint configuration: `.bglint.yaml` or `[tool.bglint]` in pyproject.toml.

Discovered from the first checked path upwards; `--config FILE` names one.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bglint.errors import InputError
from bglint.load.files import read_text
from bglint.load.suppressions import from_list
from bglint.model import Location, Suppression
from bglint.paths import data_path

CONFIG_NAMES = (".bglint.yaml", ".bglint.yml")


@dataclass(frozen=True)
class Config:
    path: str = ""  # where it came from; "" for defaults
    rules_dirs: tuple[Path, ...] = ()
    disable: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str = ""
    tag_keys: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    vpc_ids: tuple[str, ...] = ()
    network: str = ""  # customer-managed | vendor-managed | unknown, for every app
    apps: dict[str, str] = field(default_factory=dict)  # app path (relative to config) -> network kind
    break_glass_roles: tuple[str, ...] = ()
    levels: dict[str, str] = field(default_factory=dict)
    ignore: tuple[Suppression, ...] = ()
    written: frozenset[str] = frozenset()  # the keys the file sets (the rest are defaults)


def find_config(start: Path) -> Path | None:
    folder = start.resolve()
    folder = folder if folder.is_dir() else folder.parent
    for candidate in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            if (candidate / name).is_file():
                return candidate / name
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and b"[tool.bglint]" in pyproject.read_bytes():
            return pyproject
    return None


def load_config(path: Path) -> Config:
    shown = str(path)
    text = read_text(path, shown)
    try:
        if path.name == "pyproject.toml":
            raw = tomllib.loads(text).get("tool", {}).get("bglint", {})
        else:
            raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            shown, f"invalid config: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else 0
        ) from None
    raw = _dates_as_text(raw)
    _validate(raw, shown)
    base = path.parent
    errors: list[InputError] = []
    ignore = from_list(raw.get("ignore", []), Location(shown, 0, 0, "ignore"), "config", errors)
    if errors:
        raise errors[0]
    return Config(
        path=shown,
        rules_dirs=tuple(base / d for d in raw.get("rules", ())),
        disable=tuple(raw.get("disable", ())),
        severity=dict(raw.get("severity", {})),
        fail_on=raw.get("fail-on", ""),
        tag_keys=tuple(raw.get("tag-keys", ())),
        subnet_ids=tuple(raw.get("subnet-ids", ())),
        vpc_ids=tuple(raw.get("vpc-ids", ())),
        network=raw.get("network", ""),
        apps={str((base / k).resolve()): v.get("network", "") for k, v in raw.get("apps", {}).items()},
        break_glass_roles=tuple(raw.get("break-glass-roles", ())),
        levels=dict(raw.get("levels", {})),
        ignore=tuple(ignore),
        written=frozenset(raw),
    )


def _dates_as_text(value: Any) -> Any:
    """YAML reads `until: 2026-12-31` as a date; the schema and the model want its text."""
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _validate(raw: Any, shown: str) -> None:
    import jsonschema  # only paid when a config file exists

    schema = yaml.safe_load(data_path("schemas", "config.schema.json").read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(raw))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "config"
        raise InputError(shown, f"invalid config: {where}: {error.message}")
