"""A generated stack as CloudFormation YAML, intrinsics in their short form (`!Ref X`)."""

from __future__ import annotations

from typing import Any

_SHORT = {"Ref": "!Ref", "Fn::GetAtt": "!GetAtt", "Fn::Equals": "!Equals", "Fn::Sub": "!Sub", "Fn::If": "!If"}


def render_stack(stack: dict[str, Any], title: str) -> str:
    from bglint.parse.yamllib import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def mapping(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
        if len(data) == 1:
            ((key, value),) = data.items()
            if key in _SHORT:
                if isinstance(value, list):
                    flow = key == "Fn::GetAtt"
                    return dumper.represent_sequence(_SHORT[key], value, flow_style=flow or None)
                return dumper.represent_scalar(_SHORT[key], str(value))
        return dumper.represent_dict(data)

    Dumper.add_representer(dict, mapping)
    body = yaml.dump(
        _plain(stack), Dumper=Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120
    )
    return f"# {title}\n{body}"


def _plain(value: Any) -> Any:
    """Located mappings and sequences (subclasses, with positions) as plain dicts and lists."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
