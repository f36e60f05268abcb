"""Rules are data: one YAML file each, validated against schemas/rule.schema.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bglint.errors import InputError
from bglint.evaluate.registry import registered
from bglint.load.cfn_yaml import check_shape
from bglint.load.conforms import first_problem
from bglint.load.files import read_text
from bglint.paths import data_path

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class When:
    network: tuple[str, ...] = ()  # empty: any
    level: tuple[str, ...] = ()
    platform: tuple[str, ...] = ("aws",)

    def matches(self, network: str, level: str, platform: str) -> bool:
        return (
            (not self.network or network in self.network)
            and (not self.level or level in self.level)
            and (not self.platform or platform in self.platform)
        )


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    severity: str
    security_severity: float
    message: str
    rationale: str
    remediation: str
    help: str
    predicate: str
    params: dict[str, Any]
    applies_to: str  # break-glass-roles | all-roles | document
    when: When
    overrides: tuple[tuple[When, str], ...] = ()
    example: str = ""
    source: str = ""
    tags: tuple[str, ...] = field(default=())

    def severity_for(self, network: str, level: str, platform: str) -> str:
        for when, severity in self.overrides:
            if when.matches(network, level, platform):
                return severity
        return self.severity


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
        applies_to=raw.get("applies-to", "break-glass-roles"),
        when=_when(raw.get("when")),
        overrides=tuple((_when(o["when"]), o["severity"]) for o in raw.get("severity-overrides", ())),
        example=raw.get("example", "").strip(),
        source=source,
        tags=tuple(raw.get("tags", ())),
    )
