"""Read a file as text, turning every way it can fail into one InputError.

Input is untrusted, so only a regular file is opened (a FIFO would block forever, a device
such as /dev/zero never ends, and opening some devices has side effects), at most
`max_file_bytes` of it is read, and when a root is given the file must really lie inside it:
a symlink cannot lead bglint out of the tree it was asked to check.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from bglint import limits
from bglint.errors import InputError

# O_NONBLOCK: should a FIFO appear between the check and the open, the open does not block.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 20


def read_text(path: Path, display: str, root: Path | None = None) -> str:
    """The file's text (UTF-8, a leading BOM dropped); InputError for anything else."""
    raw = read_bytes(path, display, root)
    if b"\x00" in raw:
        raise InputError(display, "binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(display, f"invalid UTF-8 at byte {exc.start}", line) from None
    return text.removeprefix("\ufeff")


def read_bytes(path: Path, display: str, root: Path | None = None) -> bytes:
    """At most `max_file_bytes` of a regular file (inside `root`, when given)."""
    limits.reading(display)
    if root is not None:
        problem = outside(path, root)
        if problem:
            raise InputError(display, problem)
    max_bytes = limits.current().max_file_bytes
    try:
        _check_kind(os.stat(path).st_mode, display)
        fd = os.open(path, _OPEN_FLAGS)
        try:
            info = os.fstat(fd)
            _check_kind(info.st_mode, display)  # the file may have changed since the stat
            if info.st_size > max_bytes:
                raise _too_large(display, max_bytes)
            raw = _read_up_to(fd, max_bytes + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise InputError(display, f"cannot read: {_reason(path, exc)}") from None
    except ValueError:  # a NUL character in the name
        raise InputError(display, "cannot read: invalid file name") from None
    if len(raw) > max_bytes:  # it grew while being read
        raise _too_large(display, max_bytes)
    return raw


def outside(path: Path, root: Path, name: str = "the checked directory") -> str:
    """Why `path` may not be read as part of `root` ("" when it may): it must resolve inside it."""
    real = resolved(path)
    if real is None:
        return "symlink loop; not read"
    real_root = resolved(root)
    if real_root is None or not real.is_relative_to(real_root):
        return f"is a symlink to a file outside {name}; not read"
    return ""


def tree_of(path: Path, fallback: Path) -> tuple[Path, str]:
    """What a template at `path` must stay inside: its git work tree, else `fallback`; and its name."""
    for folder in Path(os.path.abspath(path)).parents:
        if (folder / ".git").exists():
            return folder, "the repository"
    return fallback, "the checked directory"


def resolved(path: Path) -> Path | None:
    """`path.resolve()`, or None for a symlink loop (Python 3.11 raises RuntimeError there)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def _check_kind(mode: int, display: str) -> None:
    if stat.S_ISDIR(mode):
        raise InputError(display, "is a directory, expected a file")
    if not stat.S_ISREG(mode):
        raise InputError(display, "not a regular file (a pipe, device or socket); not read")


def _read_up_to(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _too_large(display: str, max_bytes: int) -> InputError:
    size = f"{max_bytes // (1024 * 1024)} MiB" if max_bytes % (1024 * 1024) == 0 else f"{max_bytes} bytes"
    return InputError(display, f"file is larger than {size} (limit max-file-bytes)")


def _reason(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return "broken symlink"
    return exc.strerror or str(exc)
