"""The audit report as its readers see it: `bglint audit --report audit.html` against a moto
server, opened in a real headless Chromium (Debian's package, installed by
scripts/fetch_chromium.sh). The page renders, the executive summary and the role x risk matrix
are on the first screen, the most dangerous role comes first, and the browser fetches nothing:
every request it could make goes to a local proxy that records it."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from aws_support import ADMIN, DEFAULT_ACCOUNT, RUNNER, MotoServer, audit, client, document, session, trust

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
)
# Chromium's own services (time, accounts, updates) call home whatever the page is: not the page.
CHROMIUM_OWN = (".google.com", ".googleapis.com", ".gstatic.com", ".gvt1.com")
SCREEN = (1280, 1100)
MATRIX_RED = (0xCF, 0x22, 0x2E)  # an error cell of the matrix (_FILL["error"])
DANGER_ROW = (0xFF, 0xEB, 0xE9)  # a highlighted row: the summary's most dangerous roles


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is missing: run scripts/fetch_chromium.sh (Debian's chromium package)")
    return found


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer().start(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        iam = client(session(server.endpoint), "iam", server.endpoint)
        # Alphabetically the harmless role comes first; by risk, the one trusting everyone with
        # full IAM write does.
        iam.create_role(RoleName="aaa-empty-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
        iam.create_role(RoleName="demo-break-glass", AssumeRolePolicyDocument=trust(RUNNER))
        iam.attach_role_policy(RoleName="demo-break-glass", PolicyArn=ADMIN)
        iam.create_role(RoleName="zzz-open-break-glass", AssumeRolePolicyDocument=trust("*"), MaxSessionDuration=43200)
        iam_write = {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}
        iam.put_role_policy(RoleName="zzz-open-break-glass", PolicyName="iam", PolicyDocument=document(iam_write))
        yield server
    finally:
        server.stop()


class _Recorder:
    """A TCP listener standing in for every proxy: it records each connection and its first line."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(200).decode("latin-1").split("\r\n", 1)[0] or "(connection)")
                except OSError:
                    self.seen.append("(connection)")

    def close(self) -> None:
        self.sock.close()


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        header = data if kind == b"IHDR" else header
        if kind == b"IDAT":
            chunks.append(data)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                near = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + near) & 0xFF
        previous = line
        rows.append(bytes(line[c] for i in range(0, stride, step) for c in range(i, i + 3)))
    return width, height, rows


def _rows_with(rows: list[bytes], colour: tuple[int, int, int]) -> list[int]:
    needle = bytes(colour)
    return [y for y, row in enumerate(rows) if any(row[i : i + 3] == needle for i in range(0, len(row), 3))]


@pytest.mark.slow
def test_audit_html_shows_summary_and_matrix_first_and_fetches_nothing(moto: MotoServer, tmp_path: Path) -> None:
    proc = audit(moto.endpoint, "--format", "json", "-o", "audit.json", "--report", "audit.html", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    page = (tmp_path / "audit.html").read_text(encoding="utf-8")
    # Ranked by risk: the role trusting everyone comes before the admin one, the empty one last.
    order = [
        page.index(f'id="role-{DEFAULT_ACCOUNT}-{name}-break-glass"') for name in ("zzz-open", "demo", "aaa-empty")
    ]
    assert order == sorted(order), order
    assert page.index('id="summary"') < page.index('<svg class="matrix"') < page.index('id="contents"')
    assert f'href="#role-{DEFAULT_ACCOUNT}-zzz-open-break-glass"' in page
    # Per role, what it reaches: a picture for the two roles that hold actions, none for the empty one.
    assert page.count('<svg class="reach"') == 2

    # The harness sees a page's fetch: one image from elsewhere is recorded.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="http://report-assets.example/x.png">', encoding="utf-8")
    assert any("report-assets.example" in seen for seen in _open(control, tmp_path / "control")[1])

    shot, seen = _open(tmp_path / "audit.html", tmp_path / "audit")
    assert _page_fetches(seen) == [], seen  # no fetch: the page is self-contained
    width, height, rows = _pixels(shot.read_bytes())
    assert (width, height) == SCREEN
    # On the first screen: the summary's highlighted rows, and the matrix's error cells below them.
    danger, red = _rows_with(rows, DANGER_ROW), _rows_with(rows, MATRIX_RED)
    assert danger and red, (len(danger), len(red))
    assert min(danger) < max(red) < height


def _open(page: Path, work: Path) -> tuple[Path, list[str]]:
    """Screenshot `page` in headless Chromium with an empty profile; what it tried to fetch."""
    recorder = _Recorder()
    profile = work / "profile"
    profile.mkdir(parents=True)
    shot = work / "shot.png"
    try:
        run = subprocess.run(
            [
                _chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--proxy-server=http://127.0.0.1:{recorder.port}",
                "--proxy-bypass-list=<-loopback>",  # loopback too goes through the recorder
                f"--window-size={SCREEN[0]},{SCREEN[1]}",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        recorder.close()
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    return shot, recorder.seen


def _page_fetches(seen: list[str]) -> list[str]:
    def host(line: str) -> str:
        target = line.split(" ")[1] if " " in line else ""
        return target.split("://")[-1].split("/")[0].split(":")[0]

    return [line for line in seen if not host(line).endswith(CHROMIUM_OWN)]


@pytest.mark.slow
def test_audit_markdown_has_the_summary_matrix_and_contents(moto: MotoServer, tmp_path: Path) -> None:
    proc = audit(moto.endpoint, "--format", "markdown", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    text = proc.stdout
    assert text.index("## Summary") < text.index("## Roles by risk") < text.index("## Contents")
    matrix = [line for line in text.splitlines() if line.startswith("| [")]
    assert matrix[0].startswith("| [zzz-open-break-glass") and "🔴" in matrix[0]
    assert matrix[-1].startswith("| [aaa-empty-break-glass")
    # Each link names a heading GitHub makes (lower case, dashes).
    assert "](#zzz-open-break-glass)" in matrix[0] and "### zzz-open-break-glass" in text
