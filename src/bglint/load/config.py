"""The user's bglint configuration: `.bglint.yaml` or `[tool.bglint]` in pyproject.toml.

Discovered from the first checked path upwards; `--config FILE` names one.
"""

import datetime as dt
import os
import re
from collections.abc import Mapping as ReadOnly
from pathlib import Path
from typing import Any, NamedTuple

from bglint.errors import InputError
from bglint.findings import DEFAULT_BASELINE
from bglint.limits import Limits
from bglint.load.suppressions import from_list
from bglint.model import Location, Suppression, SuppressionSource
from bglint.parse.conforms import first_problem
from bglint.parse.files import read_text, resolved
from bglint.parse.nodes import Mapping, key_pos_in, pos_in, pos_of
from bglint.parse.yaml_pos import load_yaml
from bglint.paths import load_schema
from bglint.regex import Regex

CONFIG_NAMES = (".bglint.yaml", ".bglint.yml")


class Config(NamedTuple):
    # The dict defaults are shared by every Config: the read-only type keeps them unchanged.
    path: str = ""  # where it came from; "" for defaults
    rules_dirs: tuple[Path, ...] = ()
    disable: tuple[str, ...] = ()
    severity: ReadOnly[str, str] = {}
    fail_on: str = ""
    tag_keys: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    vpc_ids: tuple[str, ...] = ()
    network: str = ""  # customer-managed | vendor-managed | unknown, for every app
    apps: ReadOnly[str, str] = {}  # app path (relative to config) -> network kind
    break_glass_roles: tuple[str, ...] = ()
    levels: ReadOnly[str, str] = {}
    ignore: tuple[Suppression, ...] = ()
    written: frozenset[str] = frozenset()  # the keys the file sets (the rest are defaults)
    runbook: str = ""  # the break-glass runbook's path, relative to each app directory
    app_runbooks: ReadOnly[str, str] = {}  # resolved app path -> runbook path
    limits: Limits = Limits()  # per-file resource limits for untrusted input
    # bglint audit: test the glass every this many days (0: no drills), and when it may be broken.
    drill_interval_days: int = 0
    incident_windows: tuple[tuple[str, str], ...] = ()  # (start, end) ISO 8601 dates or times, UTC
    standing_days: int = 30  # a deployed break-glass role unused this long is standing access
    alarm_in_stack: bool = False  # `alerts: {in-stack: required}`: a break-glass stack ships its alarm (BG035)
    baseline: Path | None = None  # `baseline:`, or the default file next to the config when it exists


def find_config(start: Path) -> Path | None:
    try:
        return _search_config(start)
    except OSError:  # a name too long, a folder not to be entered: the check reports the path
        return None


def _search_config(start: Path) -> Path | None:
    folder = resolved(start) or Path(os.path.abspath(start))  # a symlink loop is reported later
    folder = folder if folder.is_dir() else folder.parent
    for candidate in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            if (candidate / name).is_file():
                return candidate / name
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_tool_bglint(pyproject):
            return pyproject
    return None


def _has_tool_bglint(pyproject: Path) -> bool:
    """Any spelling of a `tool.bglint` table (a header, dotted keys, an inline table)."""
    try:  # bounded: a pyproject.toml can be a FIFO, a link to /dev/zero or 10 MB of keys
        text = read_text(pyproject, str(pyproject))
        return may_name_tool_bglint(text) and "bglint" in _load_toml(text, str(pyproject)).get("tool", {})
    except InputError:
        return False  # not ours to report: the user never pointed bglint at it


# `bglint` written as a TOML key: after the start of a line, `[`, `{`, `,` or a dot, and before a
# dot, `]` or `=` (bare or quoted). A pyproject.toml without one, and without escapes that could
# spell it, cannot hold a `tool.bglint` table: most never reach the TOML parser (~30 M
# instructions, 6% of a one-template check run in a Python repository). `re` compiles it, once,
# only when a pyproject.toml is found.
_BGLINT_KEY = r"""(?:^|[\[{,.])[ \t]*["']?bglint["']?[ \t]*[.\]=]"""


def may_name_tool_bglint(text: str) -> bool:
    return "\\u" in text or "\\U" in text or re.search(_BGLINT_KEY, text, re.MULTILINE) is not None


def _load_toml(text: str, shown: str) -> Mapping:
    from bglint.parse.toml_pos import load_toml  # tomllib and the scanner: only for a pyproject.toml

    return load_toml(text, shown)


def load_config(path: Path) -> Config:
    shown = _shown(path)
    text = read_text(path, shown)
    # The line-numbered loaders, so findings about config suppressions point at their line.
    if path.name == "pyproject.toml":
        raw = _load_toml(text, shown).get("tool", {}).get("bglint", Mapping())
    else:
        raw = load_yaml(text, shown) or Mapping()
    if not isinstance(raw, dict):
        raise InputError(shown, "invalid config: expected a mapping of settings")
    try:
        raw = _dates_as_text(raw)
        _validate(raw, shown)
    except RecursionError:
        raise InputError(shown, "invalid config: nested too deeply") from None
    base = path.parent
    errors: list[InputError] = []
    line, col = pos_in(raw, "ignore")
    ignore = from_list(raw.get("ignore", []), Location(shown, line, col, "ignore"), SuppressionSource.CONFIG, errors)
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
        runbook=raw.get("runbook", ""),
        app_runbooks={
            str((base / k).resolve()): v["runbook"] for k, v in raw.get("apps", {}).items() if "runbook" in v
        },
        limits=Limits.from_config(raw.get("limits", {})),
        drill_interval_days=int(raw.get("drills", {}).get("interval-days", 0)),
        incident_windows=tuple((w["start"], w["end"]) for w in raw.get("drills", {}).get("incidents", ())),
        standing_days=int(raw.get("standing-access-days", 30)),
        alarm_in_stack=raw.get("alerts", {}).get("in-stack") == "required",
        baseline=_baseline(base, raw.get("baseline")),
    )


def _baseline(base: Path, written: str | None) -> Path | None:
    """A `baseline:` is read even if missing (then an input error says so); the default only
    when it is there."""
    if written:
        return base / written
    default = base / DEFAULT_BASELINE
    return default if default.is_file() else None


def _dates_as_text(value: Any) -> Any:
    """TOML reads `until = 2026-12-31` as a date; the schema and the model want its text."""
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _dates_as_text(item)
    elif isinstance(value, list):
        value[:] = [_dates_as_text(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _shown(path: Path) -> str:
    """The config's path as findings name it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


_UNEXPECTED = Regex(r"\('([^']*)' (?:was|were) unexpected")
_NOT_ONE_OF = Regex(r"^('(?:[^'\\]|\\.)*'|\S+) is not one of ")


def _validate(raw: Any, shown: str) -> None:
    """The first problem, at its line and column, in words, with a "did you mean" when a key
    or a value is a near miss of one the schema allows."""
    problem = first_problem(raw, "config.schema.json")
    if problem is None:
        return
    path, message = problem
    root = load_schema("config.schema.json")
    node, schema = raw, root
    line, col = pos_of(raw)
    for step in path:
        line, col = pos_in(node, step)
        node = node[step]
        schema = _subschema(schema, step, root)
    where = ".".join(str(p) for p in path) or "config"
    unexpected = _UNEXPECTED.search(message)
    if unexpected and isinstance(node, dict):
        key = unexpected.group(1)
        line, col = key_pos_in(node, key)
        hint = _near(key, list(schema.get("properties", {})))
        message = f"unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else "")
        where = where if path else "config"
    elif _NOT_ONE_OF.match(message) and isinstance(node, str):
        hint = _near(node, [str(v) for v in schema.get("enum", [])])
        message += f" (did you mean {hint!r}?)" if hint else ""
    raise InputError(shown, f"invalid config: {where}: {message}", line, col)


def _subschema(schema: dict[str, Any], step: str | int, root: dict[str, Any]) -> dict[str, Any]:
    if isinstance(step, int):
        found = schema.get("items", {})
    else:
        found = schema.get("properties", {}).get(step) or schema.get("additionalProperties") or {}
    ref = found.get("$ref", "") if isinstance(found, dict) else ""
    if ref.startswith("#/$defs/"):  # the config schema's own definitions only
        found = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    return found if isinstance(found, dict) else {}


def _near(word: str, choices: list[str]) -> str:
    import difflib

    spelled = word.replace("_", "-").lower()
    if spelled in choices and spelled != word:
        return spelled
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else ""
