"""Rules are data: one YAML file each, validated against schemas/rule.schema.json.

The shipped rules are also kept parsed in `rules/_parsed.json` (written by
scripts/gen_rule_docs.py with each file's CRC-32): reading it instead of parsing 30 YAML files
takes ~6 ms off every run. It is used only when every rule file on disk still has the checksum
it was made from, so an edited rule is never read stale.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from bglint.errors import InputError
from bglint.evaluate.registry import registered
from bglint.findings import AppliesTo, Rule, When
from bglint.parse.conforms import first_problem
from bglint.parse.files import read_text
from bglint.parse.yaml_pos import check_shape
from bglint.parse.yamllib import yaml
from bglint.paths import data_path


def shipped_rules_dir() -> Path:
    return data_path("rules")


PARSED = "_parsed.json"


def load_rules(dirs: list[Path], validate: bool) -> tuple[list[Rule], list[InputError]]:
    """Every `*.yaml` rule in `dirs`, in id order; a later dir's rule replaces an earlier one's."""
    rules: dict[str, Rule] = {}
    errors: list[InputError] = []
    for folder in dirs:
        paths = sorted(folder.glob("*.y*ml"))
        parsed = {} if validate else parsed_rules(folder, paths)
        for path in paths:
            try:
                rule = _load_rule(path, validate, parsed.get(path.name))
            except InputError as exc:
                errors.append(exc)
                continue
            rules[rule.id] = rule
    return [rules[key] for key in sorted(rules)], errors


def parsed_rules(folder: Path, paths: list[Path]) -> dict[str, Any]:
    """File name -> parsed rule, from `folder`'s _parsed.json if it was made from exactly `paths`."""
    try:
        saved = json.loads((folder / PARSED).read_text(encoding="utf-8"))
        if sorted(saved) != [path.name for path in paths]:
            return {}
        for path in paths:
            if zlib.crc32(path.read_bytes()) != saved[path.name]["crc32"]:
                return {}
    except (OSError, ValueError, TypeError, KeyError):
        return {}  # missing or unreadable: the YAML files are read as they are
    return {name: entry["rule"] for name, entry in saved.items()}


def parse_rule_file(path: Path) -> Any:
    text = read_text(path, str(path))  # bounded, and only a regular file
    check_shape(text, str(path))  # deep nesting would crash libyaml's composer
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise InputError(str(path), f"invalid YAML: {getattr(exc, 'problem', exc)}", line) from None


def _load_rule(path: Path, validate: bool, parsed: Any = None) -> Rule:
    raw = parse_rule_file(path) if parsed is None else parsed
    if validate:
        try:
            _validate(raw, path)
        except RecursionError:
            raise InputError(str(path), "invalid rule: nested too deeply") from None
    rule = _rule(raw, str(path))
    predicates = registered()
    if rule.predicate not in predicates:
        known = ", ".join(sorted(predicates))
        raise InputError(str(path), f"unknown predicate '{rule.predicate}' (known: {known})")
    return rule


def _validate(raw: Any, path: Path) -> None:
    problem = first_problem(raw, "rule.schema.json")
    if problem is not None:
        where = "/".join(str(p) for p in problem[0]) or "rule"
        raise InputError(str(path), f"invalid rule: {where}: {problem[1]}")


def _when(raw: dict[str, Any] | None) -> When:
    raw = raw or {}
    return When(tuple(raw.get("network", ())), tuple(raw.get("level", ())), tuple(raw.get("platform", ("aws",))))


def _rule(raw: dict[str, Any], source: str) -> Rule:
    check = raw["check"]
    return Rule(
        id=raw["id"],
        name=raw["name"],
        title=raw["title"],
        severity=raw["severity"],
        security_severity=float(raw["security-severity"]),
        message=raw["message"],
        rationale=raw["rationale"].strip(),
        remediation=raw["remediation"].strip(),
        help=raw["help"],
        predicate=check["predicate"],
        params=dict(check.get("params") or {}),
        applies_to=AppliesTo(raw.get("applies-to", AppliesTo.BREAK_GLASS_ROLES)),
        when=_when(raw.get("when")),
        overrides=tuple((_when(o["when"]), o["severity"]) for o in raw.get("severity-overrides", ())),
        example=raw.get("example", "").strip(),
        fixed=raw.get("fixed", "").strip(),
        source=source,
        tags=tuple(raw.get("tags", ())),
    )
