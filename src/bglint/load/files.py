"""Read a file as text, turning every way it can fail into one InputError."""

from __future__ import annotations

from pathlib import Path

from bglint.errors import InputError

MAX_BYTES = 10 * 1024 * 1024


def read_text(path: Path, display: str) -> str:
    try:
        if path.is_dir():
            raise InputError(display, "is a directory, expected a file")
        raw = path.read_bytes()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(display, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise InputError(display, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in raw:
        raise InputError(display, "binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(display, f"invalid UTF-8 at byte {exc.start}", line) from None
    return text.removeprefix("\ufeff")
