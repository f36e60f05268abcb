"""Render CloudFormation intrinsic functions to the text a policy would hold.

bglint never evaluates a template; it only needs each value as text an IAM pattern
can be matched against. `Fn::If` yields both branches (either may be deployed), each
marked conditional; `AWS::NoValue` yields nothing; parameters yield their Default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from bglint.parse.nodes import Pos, Sequence, pos_in, pos_of

_SUB_VAR = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_MAX_NESTING = 64  # intrinsic functions inside each other; real templates nest a handful


class Rendered(NamedTuple):  # a tuple: one is made per action and resource of every policy
    text: str
    pos: Pos
    conditional: bool = False


class Renderer:
    """Renders values of one template; knows its parameter defaults."""

    def __init__(self, parameters: dict[str, Any] | None = None) -> None:
        self.defaults = {
            name: spec["Default"]
            for name, spec in (parameters or {}).items()
            if isinstance(spec, dict) and isinstance(spec.get("Default"), str | int | float)
        }

    def items(self, value: Any, pos: Pos | None = None) -> Iterable[Rendered]:
        """Every text a list-or-scalar field can hold (e.g. `Action`, `Resource`)."""
        here = pos or pos_of(value)
        if type(value) is str:  # the common case, without the general walk
            return (Rendered(value, here),)
        return self._items(value, here, 0)

    def texts(self, value: Any, pos: Pos | None = None) -> Iterator[Rendered]:
        """Every text a scalar field can hold."""
        return self._texts(value, pos or pos_of(value), 0)

    def _items(self, value: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        # Lists and Fn::If branches are walked with a stack: however deep a hostile file
        # nests them, that costs no Python frames.
        stack: list[tuple[Any, Pos, bool]] = [(value, here, False)]
        while stack:
            value, here, conditional = stack.pop()
            if (
                isinstance(value, Sequence)
                and len(value.item_pos) == len(value)
                and all(type(item) is str for item in value)
            ):
                # The common case, a list of plain texts (e.g. actions), without the stack.
                yield from map(Rendered, value, value.item_pos, [conditional] * len(value))
            elif isinstance(value, list):
                stack.extend((value[i], pos_in(value, i), conditional) for i in reversed(range(len(value))))
            elif isinstance(value, dict) and "Fn::If" in value:
                arg = value.get("Fn::If")
                if isinstance(arg, list) and len(arg) == 3:
                    stack += [(arg[2], pos_in(arg, 2), True), (arg[1], pos_in(arg, 1), True)]
            else:
                for rendered in self._texts(value, here, depth):
                    yield Rendered(rendered.text, rendered.pos, True) if conditional else rendered

    def _texts(self, value: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if isinstance(value, str):
            yield Rendered(value, here)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            yield Rendered(str(value), here)
        elif isinstance(value, dict) and len(value) == 1:
            yield from self._function(next(iter(value)), next(iter(value.values())), value, here, depth)

    def _function(self, name: str, arg: Any, node: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if depth >= _MAX_NESTING:  # unknown, as an unsupported function is
            yield Rendered("${" + name + "}", here)
        elif name == "Ref":
            if arg == "AWS::NoValue":
                return
            default = self.defaults.get(arg) if isinstance(arg, str) else None
            yield Rendered(str(default) if default is not None else f"${{{_scalar(arg)}}}", here)
        elif name == "Fn::If":
            arg = node.get("Fn::If")
            if isinstance(arg, list) and len(arg) == 3:
                for index in (1, 2):
                    for item in self._items(arg[index], pos_in(arg, index), depth + 1):
                        yield Rendered(item.text, item.pos, conditional=True)
        elif name == "Fn::Sub":
            template = arg[0] if isinstance(arg, list) and arg else arg
            if isinstance(template, str):
                yield Rendered(_SUB_VAR.sub(lambda m: str(self.defaults.get(m.group(1), m.group(0))), template), here)
        elif name == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if isinstance(parts, list):
                yield Rendered("${" + ".".join(_scalar(p) for p in parts) + "}", here)
        elif name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            yield from self._join(arg[0], arg[1], here, depth)
        else:
            yield Rendered("${" + name + "}", here)

    def absent_when(self, value: Any, _depth: int = 0) -> str:
        """The condition under which `value` (e.g. a boundary) may be absent or empty, else ""."""
        if not (isinstance(value, dict) and isinstance(value.get("Fn::If"), list) and len(value["Fn::If"]) == 3):
            return ""
        condition, *branches = value["Fn::If"]
        if _depth >= _MAX_NESTING:  # too deep to follow: it may be absent
            return _scalar(condition)
        for branch in branches:
            if not any(r.text.strip() for r in self.items(branch)) or self.absent_when(branch, _depth + 1):
                return _scalar(condition)
        return ""

    def _join(self, delimiter: Any, parts: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if not isinstance(delimiter, str) or not isinstance(parts, list):
            yield Rendered("${Fn::Join}", here)
            return
        texts: list[str] = []
        conditional = False
        for part in parts:
            first = next(self._texts(part, pos_of(part), depth + 1), None)
            texts.append(first.text if first else "")
            conditional = conditional or bool(first and first.conditional)
        yield Rendered(delimiter.join(texts), here, conditional)


def _scalar(value: Any) -> str:
    """A scalar's text; a container stands as `?` (str() of a deep one would recurse)."""
    return str(value) if isinstance(value, str | int | float | bool) else "?"


def is_intrinsic(value: Any) -> bool:
    """A one-key mapping whose key is Ref, Condition or Fn::*: how CloudFormation declares a
    function. A mapping with other keys beside is data, even if one of them is `Fn::...`."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")
