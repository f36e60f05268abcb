"""The shipped rules are valid data, their ids are the documented contracts, and their docs are current."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from bglint.evaluate.registry import module_names, registered
from bglint.evaluate.rules import load_rules, parsed_rules, shipped_rules_dir
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


def test_predicate_modules_are_the_python_modules_pkgutil_lists(tmp_path: Path) -> None:
    for name in ("roles.py", "trust.py", "__init__.py", "notes.txt", "roles.py~", "roles.tmp.py"):
        (tmp_path / name).write_text("")
    (tmp_path / ".#roles.py").symlink_to("dev@host.4242:1700000000")  # Emacs's lock on an edited roles.py
    (tmp_path / "__pycache__").mkdir()
    assert module_names(str(tmp_path)) == ["roles", "trust"]
    assert module_names(str(tmp_path)) == sorted(m.name for m in pkgutil.iter_modules([str(tmp_path)]))


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


def _rules_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    for path in shipped_rules_dir().glob("*.yaml"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "_parsed.json").write_bytes((shipped_rules_dir() / "_parsed.json").read_bytes())
    return folder


def test_the_parsed_copy_is_what_the_yaml_files_say() -> None:
    paths = sorted(shipped_rules_dir().glob("*.y*ml"))
    # Installed or in a checkout, the copy is there and current, so runs take it.
    assert sorted(parsed_rules(shipped_rules_dir(), paths)) == [path.name for path in paths]
    from_yaml, _ = load_rules([shipped_rules_dir()], validate=True)  # validating never takes the copy
    from_copy, _ = load_rules([shipped_rules_dir()], validate=False)
    assert from_copy == from_yaml


def test_the_parsed_copy_is_read_while_its_checksums_match(tmp_path: Path) -> None:
    folder = _rules_copy(tmp_path)
    saved = json.loads((folder / "_parsed.json").read_text(encoding="utf-8"))
    saved["BG001.yaml"]["rule"]["title"] = "from the parsed copy"
    (folder / "_parsed.json").write_text(json.dumps(saved), encoding="utf-8")
    rules, _ = load_rules([folder], validate=False)
    assert next(r for r in rules if r.id == "BG001").title == "from the parsed copy"


@pytest.mark.parametrize("change", ["edited", "added", "removed", "copy unreadable"])
def test_an_edited_rule_file_is_never_read_from_a_stale_copy(tmp_path: Path, change: str) -> None:
    folder = _rules_copy(tmp_path)
    bg001 = folder / "BG001.yaml"
    if change == "edited":
        bg001.write_text(bg001.read_text().replace("title: ", "title: Edited, ", 1))
    elif change == "added":
        (folder / "BG900.yaml").write_text(bg001.read_text().replace("id: BG001", "id: BG900", 1))
    elif change == "removed":
        (folder / "BG002.yaml").unlink()
    else:
        (folder / "_parsed.json").write_text("{not json")
    rules = {r.id: r for r in load_rules([folder], validate=False)[0]}
    expected = {r.id: r for r in load_rules([folder], validate=True)[0]}
    assert {i: r._replace(source="") for i, r in rules.items()} == {
        i: r._replace(source="") for i, r in expected.items()
    }
    assert rules["BG001"].title.startswith("Edited, ") == (change == "edited")
    assert ("BG900" in rules) == (change == "added") and ("BG002" in rules) == (change != "removed")
