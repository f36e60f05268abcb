"""`AWS::LanguageExtensions`' `Fn::ForEach` in `Resources`, expanded as CloudFormation does.

`Fn::ForEach::Name: [Identifier, Collection, {OutputKey: Body}]` makes one copy of each
body per element, with `${Identifier}` and `&{Identifier}` replaced in keys and strings. A
collection bglint cannot resolve yields one copy that keeps `${Identifier}` as a placeholder:
the resources are still judged, for whatever the element may be.
"""

from __future__ import annotations

from typing import Any

from bglint.load.intrinsics import Renderer
from bglint.parse.nodes import Mapping, Sequence, key_pos_in, pos_in, pos_of

_PREFIX = "Fn::ForEach::"
_MAX_NESTED = 8  # loops inside loops; CloudFormation allows five levels


def expand_for_each(resources: dict[str, Any], renderer: Renderer, depth: int = 0) -> dict[str, Any]:
    """`resources` with every `Fn::ForEach::` entry replaced by the resources it makes."""
    if not any(isinstance(key, str) and key.startswith(_PREFIX) for key in resources):
        return resources
    result = Mapping(pos_of(resources))
    for key, body in resources.items():
        loop = body if isinstance(key, str) and key.startswith(_PREFIX) else None
        if not (isinstance(loop, list) and len(loop) == 3 and isinstance(loop[0], str) and isinstance(loop[2], dict)):
            result.put(key, body, key_pos_in(resources, key), pos_in(resources, key))
            continue
        name, collection, outputs = loop
        values = [r.text for r in renderer.items(collection, pos_in(loop, 1)) if not r.unresolved] or [
            "${" + name + "}"
        ]
        for value in values:
            made = _substituted(outputs, {"${" + name + "}": value, "&{" + name + "}": _alphanumeric(value)})
            if depth < _MAX_NESTED:
                made = expand_for_each(made, renderer, depth + 1)
            for out_key, out_body in made.items():
                result.put(out_key, out_body, key_pos_in(made, out_key), pos_in(made, out_key))
    return result


def _alphanumeric(value: str) -> str:
    return "".join(c for c in value if c.isalnum())


def _substituted(value: Any, table: dict[str, str]) -> Any:
    """A copy of `value` with the loop variables filled in, positions kept (iterative)."""

    def text(item: str) -> str:
        for old, new in table.items():
            item = item.replace(old, new)
        return item

    def copy(item: Any) -> Any:
        if isinstance(item, str):
            return text(item)
        if isinstance(item, dict):
            return Mapping(pos_of(item))
        if isinstance(item, list):
            return Sequence(pos_of(item))
        return item

    root = copy(value)
    todo = [(value, root)]
    while todo:
        source, target = todo.pop()
        if isinstance(source, dict):
            for key, item in source.items():
                made = copy(item)
                target.put(text(key), made, key_pos_in(source, key), pos_in(source, key))
                todo.append((item, made))
        elif isinstance(source, list):
            for index, item in enumerate(source):
                made = copy(item)
                target.push(made, pos_in(source, index))
                todo.append((item, made))
    return root
