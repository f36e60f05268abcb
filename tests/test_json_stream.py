"""Reports written in pieces are byte for byte what `json.dumps(data, indent=2)` writes whole."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bglint.report.json_stream import Lazy, dump_chunks

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def with_lazy_lists(draw: st.DrawFn) -> tuple[Any, Any]:
    """(data with some lists made `Lazy`, the same data with plain lists); a `Lazy` list's items
    are plain (the reports' lists of findings, results and documents do not nest)."""
    plain = draw(values)

    def lazify(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: lazify(item) for key, item in value.items()}
        if isinstance(value, list):
            return Lazy(iter(value)) if draw(st.booleans()) else [lazify(item) for item in value]
        return value

    return lazify(plain), plain


@pytest.mark.slow
@given(with_lazy_lists())
def test_pieces_join_to_what_json_dumps_writes(case: tuple[Any, Any]) -> None:
    import json

    lazy, plain = case
    assert "".join(dump_chunks(lazy)) == json.dumps(plain, indent=2)


def test_a_text_that_looks_like_a_placeholder_stays_text() -> None:
    import json

    data = {"a": "\x000\x00", "b": Lazy(iter([{"c": "\x000\x00"}])), "d": []}
    assert "".join(dump_chunks(data)) == json.dumps({**data, "b": [{"c": "\x000\x00"}]}, indent=2)
