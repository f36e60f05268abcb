"""Parsed documents whose containers remember where each child came from.

Scalars stay plain Python values (str, int, bool, None); a container records the
position of itself, of each of its keys and of each of its values, so a rule can
point at the exact line of an offending `Action` without every scalar being wrapped.
"""

from __future__ import annotations

from typing import Any

Pos = tuple[int, int]
"""1-based (line, column)."""

UNKNOWN: Pos = (0, 0)


class Mapping(dict[str, Any]):
    """A dict with the position of itself, each key and each value."""

    __slots__ = ("key_pos", "pos", "value_pos")

    def __init__(self, pos: Pos = UNKNOWN) -> None:
        # No dict.__init__: __new__ made it empty already, and a parse makes tens of thousands.
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}
        self.value_pos: dict[str, Pos] = {}

    def put(self, key: str, value: Any, key_pos: Pos, value_pos: Pos) -> None:
        self[key] = value
        self.key_pos[key] = key_pos
        self.value_pos[key] = value_pos

    def pos_of(self, key: str) -> Pos:
        """Where the value of `key` starts, else the key, else this mapping."""
        return self.value_pos.get(key) or self.key_pos.get(key) or self.pos


class Sequence(list[Any]):
    """A list with the position of itself and of each item."""

    __slots__ = ("item_pos", "pos")

    def __init__(self, pos: Pos = UNKNOWN) -> None:
        # No list.__init__: __new__ made it empty already.
        self.pos = pos
        self.item_pos: list[Pos] = []

    def push(self, value: Any, pos: Pos) -> None:
        self.append(value)
        self.item_pos.append(pos)

    def pos_of(self, index: int) -> Pos:
        if 0 <= index < len(self.item_pos):
            return self.item_pos[index]
        return self.pos


def pos_in(container: Any, key: str | int) -> Pos:
    """Position of a child of any container; UNKNOWN for plain containers."""
    if isinstance(container, Mapping) and isinstance(key, str):
        return container.pos_of(key)
    if isinstance(container, Sequence) and isinstance(key, int):
        return container.pos_of(key)
    return pos_of(container)


def key_pos_in(container: Any, key: str) -> Pos:
    """Where `key` itself is written (a mapping value's position is its first child's)."""
    if isinstance(container, Mapping):
        return container.key_pos.get(key) or container.pos
    return pos_of(container)


def pos_of(value: Any) -> Pos:
    """Position of a located container; UNKNOWN for anything else."""
    return getattr(value, "pos", UNKNOWN)


def text_in(container: Any, key: str, default: str = "") -> str:
    """`container[key]` when it is a string, else `default` (wrong types are the schema's job)."""
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, str) else default


def table_in(container: Any, key: str) -> dict[str, Any]:
    """`container[key]` when it is a mapping, else an empty one."""
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, dict) else Mapping()
