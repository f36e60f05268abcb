"""Write a baseline: the current findings, keyed by line-independent fingerprints."""

from __future__ import annotations

import json

from bglint.findings import BASELINE_FORMAT
from bglint.report import Report, visible


def render_baseline(report: Report) -> str:
    entries = [
        {"fingerprint": f.fingerprint, "rule": f.rule.id, "path": f.loc.path, "role": f.role, "message": f.message}
        for f in visible(report)
    ]
    return json.dumps({"format": BASELINE_FORMAT, "tool_version": report.version, "findings": entries}, indent=2) + "\n"
