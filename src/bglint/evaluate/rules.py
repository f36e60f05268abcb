"""Rules are data: one YAML file each, validated against schemas/rule.schema.json."""

from __future__ import annotations

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


def load_rules(dirs: list[Path], validate: bool) -> tuple[list[Rule], list[InputError]]:
    """Every `*.yaml` rule in `dirs`, in id order; a later dir's rule replaces an earlier one's."""
    rules: dict[str, Rule] = {}
    errors: list[InputError] = []
    for folder in dirs:
        for path in sorted(folder.glob("*.y*ml")):
            try:
                rule = _load_rule(path, validate)
            except InputError as exc:
                errors.append(exc)
                continue
            rules[rule.id] = rule
    return [rules[key] for key in sorted(rules)], errors


def _load_rule(path: Path, validate: bool) -> Rule:
    text = read_text(path, str(path))  # bounded, and only a regular file
    check_shape(text, str(path))  # deep nesting would crash libyaml's composer
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise InputError(str(path), f"invalid YAML: {getattr(exc, 'problem', exc)}", line) from None
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
