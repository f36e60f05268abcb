"""Go-template rendering of Nuon values: the digest functions give sprig's hex digests."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from bglint.load.nuon.gotemplate import render

INSTALL_ID = "inl0123456789abcdefghijklm"  # the example install id bglint renders with


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("sha256sum", hashlib.sha256(INSTALL_ID.encode()).hexdigest()),
        ("sha1sum", hashlib.sha1(INSTALL_ID.encode()).hexdigest()),
        ("adler32sum", str(zlib.adler32(INSTALL_ID.encode()))),
    ],
)
def test_a_digest_of_the_install_id_renders_exactly(function: str, expected: str) -> None:
    rendered = render(f"bg-{{{{ .nuon.install.id | {function} }}}}")
    assert rendered.exact
    assert rendered.text == f"bg-{expected}"


def test_a_function_bglint_does_not_model_renders_as_a_lower_bound() -> None:
    rendered = render("bg-{{ .nuon.install.id | sha512sum }}")
    assert not rendered.exact
    assert rendered.text == "bg-"
