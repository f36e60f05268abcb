"""A one-line progress display on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

_WIDTH = 24
_EVERY = 0.1  # seconds between redraws


class Progress:
    def __init__(self, accounts: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.accounts = accounts
        self.done = 0
        self.failed = 0
        self.roles_found = 0
        self.roles_read = 0
        self._lock = threading.Lock()
        self._drawn = 0.0

    def found(self, roles: int) -> None:
        self._update(roles_found=roles)

    def read(self) -> None:
        self._update(roles_read=1)

    def account_done(self, ok: bool) -> None:
        self._update(done=1, failed=0 if ok else 1, force=True)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _update(
        self, done: int = 0, failed: int = 0, roles_found: int = 0, roles_read: int = 0, force: bool = False
    ) -> None:
        with self._lock:
            self.done += done
            self.failed += failed
            self.roles_found += roles_found
            self.roles_read += roles_read
            now = time.monotonic()
            if not self.enabled or (not force and now - self._drawn < _EVERY):
                return
            self._drawn = now
            filled = int(_WIDTH * self.done / self.accounts) if self.accounts else _WIDTH
            failures = f", {self.failed} failed" if self.failed else ""
            self.stream.write(
                f"\r\033[K[{'#' * filled}{'.' * (_WIDTH - filled)}] {self.done}/{self.accounts} accounts{failures}, "
                f"{self.roles_read}/{self.roles_found} roles read"
            )
            self.stream.flush()
