"""validate_config: schema errors at the offending line, unknown keys as warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from bglint.errors import InputError
from bglint.load.nuon.schema import KINDS, ConfigWarning, validate_config
from bglint.parse.toml_pos import load_toml
from bglint.paths import data_path

VALID_BREAK_GLASS = '''\
[[role]]
name                 = "{{.nuon.install.id}}-oncall"
description          = "On-call access to the install's buckets"
display_name         = "On-call"
permissions_boundary = ""
enabled_in_stack     = false

[[role.policies]]
managed_policy_name = "ReadOnlyAccess"

[[role.policies]]
name     = "{{.nuon.install.id}}-buckets"
contents = """
{"Version": "2012-10-17", "Statement": []}
"""

[[role.named_policies]]
name = "{{.nuon.install.id}}-logs"

[[role]]
name           = "observer"
description    = "GCP read access"
cloud_platform = "gcp"

[[role.policies]]
gcp_permissions = ["logging.logs.list"]
'''

# The smallest document each kind accepts; also proves every $ref resolves.
MINIMAL = {
    "action": 'name = "a"\n[[triggers]]\ntype = "manual"\n[[steps]]\nname = "s"\ncommand = "true"\n',
    "break_glass": "",
    "metadata": 'version = "v2"\n',
    "named_policy": 'name = "p"\ncontents = "./p.json"\n',
    "permission_role": 'type = "custom"\nname = "r"\ndescription = "d"\n',
    "permissions_legacy": '[provision_role]\nname = "r"\ndescription = "d"\n',
    "runner": 'runner_type = "aws"\n',
    "sandbox": 'terraform_version = "1.11.3"\n[public_repo]\nrepo = "o/r"\ndirectory = "."\nbranch = "main"\n',
    "stack": 'name = "s"\ndescription = "d"\n',
}


def check(text: str, kind: str = "break_glass") -> tuple[list[InputError], list[ConfigWarning]]:
    return validate_config(load_toml(text, "app/f.toml"), kind, "app/f.toml")


def only_error(text: str, kind: str = "break_glass") -> InputError:
    errors, _ = check(text, kind)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_valid_break_glass_has_no_problems() -> None:
    assert check(VALID_BREAK_GLASS) == ([], [])


@pytest.mark.parametrize("kind", KINDS)
def test_minimal_document_of_each_kind_is_valid(kind: str) -> None:
    assert check(MINIMAL[kind], kind) == ([], [])


def test_wrong_type_is_an_error_at_the_value() -> None:
    text = VALID_BREAK_GLASS.replace('contents = """\n{"Version": "2012-10-17", "Statement": []}\n"""', "contents = 5")
    errors, _ = check(text)
    assert [(e.path, e.line, e.col, e.message) for e in errors] == [
        ("app/f.toml", 13, 12, "role[0].policies[1]: 'contents' must be a string, got integer")
    ]


def test_missing_name_is_reported_at_the_role_header() -> None:
    error = only_error(
        '[[role]]\nname = "a"\ndescription = "d"\n\n[[role]]\nname = "b"\ndescription = "d"\n'
        '[[role]]\ndescription = "d"\n'
    )
    assert (error.line, error.col) == (8, 1)
    assert error.message == "role[2]: missing required key 'name'"


def test_each_missing_key_is_reported_once() -> None:
    errors, _ = check("[[role]]\n")
    assert [e.message for e in errors] == [
        "role[0]: missing required key 'description'",
        "role[0]: missing required key 'name'",
    ]


def test_unknown_key_is_a_warning_with_a_suggestion() -> None:
    errors, warnings = check('[[role]]\nname = "n"\ndescription = "d"\n[[role.policies]]\nmanaged_policy = "X"\n')
    assert len(warnings) == 1
    warning = warnings[0]
    assert (warning.path, warning.line, warning.col) == ("app/f.toml", 5, 1)
    assert warning.key == "role[0].policies[0].managed_policy"
    assert warning.message == (
        "role[0].policies[0]: unknown key 'managed_policy' (did you mean 'managed_policy_name'?)"
    )
    # Unknown keys are not errors; the policy that grants nothing is (no alternative set).
    assert [e.message for e in errors] == [
        "role[0].policies[0]: needs exactly one of 'managed_policy_name', 'name' + 'contents', "
        "'gcp_predefined_role', 'gcp_permissions', 'azure_actions', 'azure_built_in_roles'"
    ]


def test_unknown_top_level_key_is_only_a_warning() -> None:
    errors, warnings = check('version = "v2"\nnew_feature = true\n', "metadata")
    assert errors == []
    assert [(w.line, w.col, w.message, w.key) for w in warnings] == [(2, 1, "unknown key 'new_feature'", "new_feature")]


def test_managed_policy_and_inline_contents_together_are_an_error() -> None:
    error = only_error(
        '[[role]]\nname = "n"\ndescription = "d"\n\n[[role.policies]]\n'
        'managed_policy_name = "AdministratorAccess"\nname = "p"\ncontents = "{}"\n'
    )
    assert (error.line, error.col) == (5, 1)
    assert error.message == ("role[0].policies[0]: sets 'managed_policy_name' and 'name' + 'contents'; use only one")


def test_empty_policy_entry_is_tolerated() -> None:
    assert check('[[role]]\nname = "n"\ndescription = "d"\n[[role.policies]]\n') == ([], [])


def test_enum_violation_names_the_choices() -> None:
    error = only_error('[[role]]\nname = "n"\ndescription = "d"\ncloud_platform = "aws2"\n')
    assert (error.line, error.col) == (4, 18)
    assert error.message == ("role[0]: 'cloud_platform' must be one of 'aws', 'gcp', 'azure', got 'aws2'")


def test_array_item_of_wrong_type() -> None:
    error = only_error(
        '[[role]]\nname = "n"\ndescription = "d"\n[[role.policies]]\ngcp_permissions = [\n  "a.b.c",\n  7,\n]\n'
    )
    assert (error.line, error.col) == (7, 3)
    assert error.message == "role[0].policies[0].gcp_permissions[1] must be a string, got integer"


def test_role_must_be_an_array_of_tables() -> None:
    error = only_error('role = "admin"\n')
    assert (error.line, error.col) == (1, 8)
    assert error.message == "'role' must be an array, got string"


def test_empty_role_name_is_an_error() -> None:
    error = only_error('[[role]]\nname = ""\ndescription = "d"\n')
    assert error.message == "role[0]: 'name' must not be empty"


def test_permission_role_needs_a_known_type() -> None:
    missing = only_error('name = "r"\ndescription = "d"\n', "permission_role")
    assert (missing.line, missing.message) == (1, "missing required key 'type'")
    wrong = only_error('type = "breakglass"\nname = "r"\ndescription = "d"\n', "permission_role")
    assert (wrong.line, wrong.col) == (1, 8)
    assert wrong.message.startswith("'type' must be one of 'provision', 'maintenance'")


def test_legacy_permissions_check_each_role() -> None:
    error = only_error(
        '[maintenance_role]\nname = "m"\ndescription = "d"\n\n[[custom_roles]]\nname = 3\ndescription = "d"\n',
        "permissions_legacy",
    )
    assert (error.line, error.message) == (
        6,
        "custom_roles[0]: 'name' must be a string, got integer",
    )


def test_sandbox_needs_exactly_one_repo() -> None:
    error = only_error('terraform_version = "1.11.3"\n[vars]\nvpc_id = "vpc-1"\n', "sandbox")
    assert error.message == "needs exactly one of 'public_repo', 'connected_repo'"


def test_sandbox_var_must_be_a_string() -> None:
    text = MINIMAL["sandbox"] + "[vars]\nmin_size = 2\n"
    error = only_error(text, "sandbox")
    assert (error.line, error.col) == (7, 12)
    assert error.message == "vars: 'min_size' must be a string, got integer"


def test_action_break_glass_role_must_be_a_string() -> None:
    error = only_error("break_glass_role = 1\n" + MINIMAL["action"], "action")
    assert (error.line, error.col) == (1, 20)
    assert error.message == "'break_glass_role' must be a string, got integer"


def test_date_value_is_named_as_a_toml_type() -> None:
    error = only_error("version = 2024-01-01\n", "metadata")
    assert error.message == "'version' must be a string, got date"


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown config kind"):
        check("", "components")


def _schema_files() -> list[Path]:
    return [data_path("schemas", f"{name}.schema.json") for name in (*KINDS, "nuon_role")]


@pytest.mark.parametrize("path", _schema_files(), ids=lambda path: path.name)
def test_schema_file_is_a_valid_draft_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://bglint.dev/schemas/{path.name}"


@pytest.mark.parametrize("path", _schema_files(), ids=lambda path: path.name)
def test_every_object_in_a_schema_closes_its_keys(path: Path) -> None:
    def objects(node: object) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found.extend(objects(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(objects(value))
        return found

    for obj in objects(json.loads(path.read_text(encoding="utf-8"))):
        assert "additionalProperties" in obj, obj
