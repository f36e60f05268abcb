"""The role data files: their names, their two-member layout, and their provenance.

A file is two gzip members: a one-line header {"format", "provenance": {"source", "version",
"date", "built"}}, then the body (see `bglint.clouds.roles`). Reports and --version read the
header alone, with nothing else of the clouds imported.
"""

from __future__ import annotations

import functools
import json
import zlib
from typing import Any

from bglint.paths import data_path

FORMAT = 1
GCP_FILE = "gcp_roles.json.gz"
AZURE_FILE = "azure_roles.json.gz"


def pack(doc: dict[str, Any]) -> bytes:
    """The file for `doc` ({"format", "provenance", ...body}): header member, then body member."""
    import gzip  # building only

    header = {"format": doc["format"], "provenance": doc["provenance"]}
    body = {key: value for key, value in doc.items() if key not in header}
    return b"".join(
        gzip.compress(json.dumps(part, separators=(",", ":")).encode(), 9, mtime=0) for part in (header, body)
    )


def _header(blob: bytes, name: str) -> tuple[dict[str, Any], bytes]:
    """The header of a role file, and the bytes of its body (still compressed)."""
    inflater = zlib.decompressobj(wbits=31)
    header: dict[str, Any] = json.loads(inflater.decompress(blob))
    if header.get("format") != FORMAT:
        raise ValueError(f"{name} has an unexpected format; rebuild it with scripts/build_cloud_roles.py")
    return header, inflater.unused_data


def unpack(blob: bytes, name: str) -> dict[str, Any]:
    header, body = _header(blob, name)
    doc: dict[str, Any] = json.loads(zlib.decompress(body, wbits=31))
    return {**header, **doc}


@functools.cache
def provenance() -> dict[str, dict[str, str]]:
    """For --version and reports: the source, version and dates of each cloud's role data (headers only)."""
    return {
        key: _header(data_path("data", name).read_bytes(), name)[0]["provenance"]
        for key, name in (("gcp_roles", GCP_FILE), ("azure_roles", AZURE_FILE))
    }
