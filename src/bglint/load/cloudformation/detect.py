"""Is this text a CloudFormation template? Parse it as CloudFormation does (JSON or YAML)."""

from __future__ import annotations

from typing import Any

from bglint.errors import InputError
from bglint.parse.yaml_pos import load_yaml


def load_template_text(text: str, path: str) -> Any:
    """Parse a template: JSON when it looks like JSON, else YAML.

    JSON-looking text that is not strict JSON is retried as YAML, as CloudFormation
    accepts it; if that fails too, the JSON error is the one that makes sense.
    """
    text = text.removeprefix("\ufeff")
    if text.lstrip()[:1] != "{":
        return load_yaml(text, path)
    from bglint.parse.json_pos import load_json  # YAML templates are the common case

    try:
        return load_json(text, path)
    except InputError as json_error:
        try:
            return load_yaml(text, path)
        except InputError:
            raise json_error from None


def is_template(data: Any) -> bool:
    """Whether parsed data looks like a CloudFormation template."""
    return isinstance(data, dict) and ("AWSTemplateFormatVersion" in data or isinstance(data.get("Resources"), dict))
