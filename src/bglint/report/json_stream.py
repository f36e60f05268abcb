"""JSON written piece by piece, byte for byte as `json.dumps(data, indent=2)` writes it whole.

An organisation's audit reports tens of thousands of findings. Built as one dict and dumped as
one string, its report took ~6 KB per finding at the peak (the dicts, the encoder's pieces,
the text, its UTF-8 copy): more than the audit itself. Here a long list is left as a `Lazy`
placeholder, and each of its items is made and dumped only when its turn comes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any


class Lazy:
    """A list whose items are made while the JSON is written (a generator is consumed once); its
    items are plain JSON values (no `Lazy` inside)."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def dump_chunks(data: Any) -> Iterator[str]:
    """`json.dumps(data, indent=2)` in pieces, `Lazy` lists dumped item by item."""
    token = os.urandom(8).hex()  # no text of the data can be taken for a placeholder
    lazies: list[Lazy] = []

    def placeholder(value: Any) -> str:
        if not isinstance(value, Lazy):
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        lazies.append(value)
        return f"\x00{token}{len(lazies) - 1}\x00"

    text = json.dumps(data, indent=2, default=placeholder)
    position = 0
    for found in re.finditer(rf'"\\u0000{token}(\d+)\\u0000"', text):
        yield text[position : found.start()]
        line = text[text.rfind("\n", 0, found.start()) + 1 : found.start()]
        yield from _items(lazies[int(found.group(1))].items, len(line) - len(line.lstrip(" ")))
        position = found.end()
    yield text[position:]


def _items(items: Iterable[Any], indent: int) -> Iterator[str]:
    """A list whose key sits `indent` spaces in, as `json.dumps(..., indent=2)` lays it out."""
    inner = "\n" + " " * (indent + 2)
    empty = True
    for item in items:
        yield ("[" if empty else ",") + inner + json.dumps(item, indent=2).replace("\n", inner)
        empty = False
    yield "[]" if empty else "\n" + " " * indent + "]"
