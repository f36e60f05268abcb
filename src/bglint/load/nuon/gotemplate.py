"""Render the Go templates in Nuon config values for an example install, where lengths matter.

Nuon renders a value with Go's html/template and the sprig functions when it mentions
`.nuon`. bglint renders names the same way with sample values for what it knows the
length of (ids are 26 characters) and the string functions that change a length; anything
else (another input, a function bglint does not model) renders as nothing and makes the
result a lower bound, never a guess.
"""

import re
import zlib
from base64 import b64encode
from collections.abc import Callable
from typing import NamedTuple

from bglint.regex import Regex

# An example of each 26-character id Nuon fills in.
_SAMPLES = {
    ".nuon.install.id": "inl0123456789abcdefghijklm",
    ".nuon.app.id": "app0123456789abcdefghijklm",
    ".nuon.org.id": "org0123456789abcdefghijklm",
}
_ACTION = Regex(r"\{\{-?(.*?)-?\}\}", re.S)


class Rendered(NamedTuple):
    text: str
    exact: bool  # False: parts bglint cannot know rendered as nothing; the real text is longer


class _Unknown(Exception):
    pass


def _trunc(count: str, text: str) -> str:
    n = int(count)
    return text[:n] if n >= 0 else text[n:]


def _substr(start: str, end: str, text: str) -> str:
    return text[int(start) : int(end)]


def _digest(algorithm: str, text: str) -> str:
    import hashlib  # OpenSSL costs ~11 M instructions to load; few templates hash anything

    return hashlib.new(algorithm, text.encode(), usedforsecurity=False).hexdigest()


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", text))


_FUNCTIONS: dict[str, Callable[..., str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "trim": str.strip,
    "nospace": lambda text: re.sub(r"\s", "", text),
    "trunc": _trunc,
    "substr": _substr,
    "replace": lambda old, new, text: text.replace(old, new),
    "trimPrefix": lambda prefix, text: text.removeprefix(prefix),
    "trimSuffix": lambda suffix, text: text.removesuffix(suffix),
    "repeat": lambda count, text: text * int(count),
    "quote": lambda text: f'"{text}"',
    "squote": lambda text: f"'{text}'",
    "kebabcase": lambda text: re.sub(r"[_\s]+", "-", text).lower(),
    "snakecase": lambda text: re.sub(r"[-\s]+", "_", text).lower(),
    "camelcase": _camel,
    "sha256sum": lambda text: _digest("sha256", text),
    "sha1sum": lambda text: _digest("sha1", text),
    "adler32sum": lambda text: str(zlib.adler32(text.encode())),
    "b64enc": lambda text: b64encode(text.encode()).decode(),
    "printf": lambda fmt, *args: re.sub(r"%[-+ #0-9.]*[svdq]", lambda _m: str(args[0]) if args else "", fmt, count=1),
}


def render(value: str) -> Rendered:
    """`value` rendered for an example install (only when it mentions `.nuon`, as Nuon does)."""
    if ".nuon" not in value:
        return Rendered(value, True)
    exact = True

    def action(match: re.Match[str]) -> str:
        nonlocal exact
        try:
            return _pipeline(match.group(1))
        except (_Unknown, ValueError, IndexError, TypeError):
            exact = False
            return ""

    return Rendered(_ACTION.sub(action, value), exact)


def _pipeline(source: str) -> str:
    import shlex  # only values that mention .nuon get here

    result: str | None = None
    for command in source.split("|"):
        words = shlex.split(command.strip())
        if not words:
            raise _Unknown(source)
        name, args = words[0], [_value(word) for word in words[1:]]
        if name.startswith("."):
            result = _value(name)
            continue
        function = _FUNCTIONS.get(name)
        if function is None:
            raise _Unknown(name)
        result = function(*args, *(() if result is None else (result,)))
    if result is None:
        raise _Unknown(source)
    return result


def _value(word: str) -> str:
    if word.startswith("."):
        if word not in _SAMPLES:
            raise _Unknown(word)
        return _SAMPLES[word]
    return word
