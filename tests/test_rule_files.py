"""The shipped rules are valid data, their ids are the documented contracts, and their docs are current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from bglint.evaluate.registry import registered
from bglint.evaluate.rules import load_rules, shipped_rules_dir
from bglint.paths import data_path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_IDS = {f"BG{n:03d}" for n in range(1, 16)} | {"BG020", "BG021", "BG022", "BG023"}


def test_every_shipped_rule_validates_against_the_rule_schema() -> None:
    schema = json.loads(data_path("schemas", "rule.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(shipped_rules_dir().glob("*.yaml"))
    assert len(files) >= len(CONTRACT_IDS)
    for path in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], f"{path.name}: {errors}"


def test_rule_ids_are_the_contract_and_match_file_names() -> None:
    rules, errors = load_rules([shipped_rules_dir()], validate=True)
    assert errors == []
    assert {r.id for r in rules} >= CONTRACT_IDS
    for rule in rules:
        assert Path(rule.source).stem == rule.id


def test_every_rule_names_a_registered_predicate_and_each_predicate_is_used() -> None:
    rules, _ = load_rules([shipped_rules_dir()], validate=False)
    predicates = set(registered())
    assert {r.predicate for r in rules} <= predicates
    assert predicates <= {r.predicate for r in rules}, "a predicate no rule uses is dead code"


def test_every_rule_message_uses_only_known_placeholders() -> None:
    rules, _ = load_rules([shipped_rules_dir()], validate=False)
    for rule in rules:
        rule.message.format_map({"role": "r", "detail": "d", "network": "n", "fix": "f"})


@pytest.mark.slow
def test_rule_docs_are_generated_from_the_rule_files() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_rule_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
