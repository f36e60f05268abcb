"""`bglint merge`: the shards of a sharded audit (`--shard I/N`) as the one report an unsharded run writes.

Works on the reports as written (JSON or SARIF), so shards can run on different machines.
Each shard records every account of the run, its own and which of them failed; the merge
orders findings, errors and accounts as a single run orders them, keeps a finding about the
configuration itself (an expired or unused suppression) only when every shard reports it,
and says which accounts have no result: those of shards not given, and those a shard could
not audit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bglint.errors import InputError

_LIVE = ("arn:", "aws://")


@dataclass(frozen=True)
class Merged:
    text: str
    missing: list[str]  # accounts without a result, in order
    errors: list[InputError]  # shards that cannot be merged, missing shards
    has_errors: bool = False  # an error-level finding that is not suppressed


def merge_reports(shards: list[tuple[Path, dict[str, Any]]]) -> Merged:
    """JSON reports or SARIF logs of the shards of one run (all of one kind)."""
    from bglint.audit.targets import Shard
    from bglint.report.escape import for_json_text

    errors: list[InputError] = []
    parts = [(path, data, _shard_of(data)) for path, data in shards]
    for path, _data, part in parts:
        if part is None:
            errors.append(InputError(str(path), "not the report of a shard (run `bglint audit --shard I/N`)"))
    parts = [p for p in parts if p[2] is not None]
    if not parts:
        return Merged("", [], errors or [InputError("merge", "no shard reports given")])
    first = parts[0][2]
    assert first is not None
    count, accounts = int(first["shard"].split("/")[1]), list(first["accounts"])
    given: dict[int, Path] = {}
    for path, _data, part in parts:
        assert part is not None
        index, of = (int(x) for x in part["shard"].split("/"))
        if of != count or list(part["accounts"]) != accounts:
            errors.append(InputError(str(path), f"shard {part['shard']} is of another run than {parts[0][0]}"))
        elif index in given:
            errors.append(InputError(str(path), f"shard {part['shard']} is also {given[index]}"))
        else:
            given[index] = path
    kept = [(path, data) for path, data, _ in parts if given.get(_index(data)) == path]
    absent = [index for index in range(1, count + 1) if index not in given]
    for index in absent:
        errors.append(InputError("merge", f"shard {index}/{count} is missing"))
    failed = {a for _, data in kept for a in _shard_of(data)["failed"]}  # type: ignore[index]
    missing = [a for a in accounts if a in failed or any(Shard(i, count).takes(a) for i in absent)]
    datas = [data for _, data in kept]
    if "runs" in datas[0]:
        merged = _merge_sarif(datas)
        results = merged["runs"][0]["results"]
        has_errors = any(r["level"] == "error" and not r.get("suppressions") for r in results)
    else:
        merged = _merge_json(datas)
        has_errors = merged["summary"]["error"] > 0
    return Merged(for_json_text(json.dumps(merged, indent=2) + "\n"), missing, errors, has_errors)


def _shard_of(data: dict[str, Any]) -> dict[str, Any] | None:
    shard = data.get("shard") if "runs" not in data else data["runs"][0].get("properties", {}).get("shard")
    return shard if isinstance(shard, dict) and "shard" in shard else None


def _index(data: dict[str, Any]) -> int:
    shard = _shard_of(data)
    return int(shard["shard"].split("/")[0]) if shard else 0


def _is_live(path: str) -> bool:
    return path.startswith(_LIVE) or path == "aws"


def _union(lists: list[list[dict[str, Any]]], live: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Every shard's live items; a non-live one (about the configuration) only if every shard has it."""
    seen: set[str] = set()
    found = []
    everywhere = [{json.dumps(item, sort_keys=True) for item in items} for items in lists]
    for items in lists:
        for item in items:
            key = json.dumps(item, sort_keys=True)
            if key in seen or (not live(item) and not all(key in other for other in everywhere)):
                continue
            seen.add(key)
            found.append(item)
    return found


def _ordered_errors(errors: Iterable[dict[str, Any]], path_of: Callable[[dict[str, Any]], str]) -> list[dict[str, Any]]:
    """As one run lists them: problems with inputs first, as met; then the accounts' errors, in account order."""
    return sorted(errors, key=lambda e: (_is_live(path_of(e)), path_of(e) if _is_live(path_of(e)) else ""))


def _merge_json(reports: list[dict[str, Any]]) -> dict[str, Any]:
    findings = _union([r["findings"] for r in reports], lambda f: _is_live(f["path"]))
    findings.sort(key=lambda f: (f["path"], f["line"], f["column"], f["rule"], f["message"]))
    errors = _ordered_errors(_union([r["errors"] for r in reports], lambda _: True), lambda e: str(e["path"]))
    documents = sorted((d for r in reports for d in r["documents"]), key=lambda d: str(d["path"]))
    counts = dict.fromkeys(("note", "warning", "error"), 0)
    for finding in findings:
        if finding["suppression"] is None:
            counts[finding["severity"]] += 1
    merged = {key: value for key, value in reports[0].items() if key != "shard"}  # the layout, in its order
    merged.update(
        summary={
            "findings": sum(counts.values()),
            **counts,
            "input_errors": len(errors),
            "documents": len(documents),
            "suppressed": sum(1 for f in findings if f["suppression"] is not None),
            "baselined": sum(r["summary"]["baselined"] for r in reports),
        },
        findings=findings,
        errors=errors,
        documents=documents,
    )
    return merged


def _merge_sarif(logs: list[dict[str, Any]]) -> dict[str, Any]:
    runs = [log["runs"][0] for log in logs]
    results = _union([run["results"] for run in runs], lambda r: bool(_resource(r)))
    results.sort(key=_result_key)
    notes = _union([run["invocations"][0]["toolExecutionNotifications"] for run in runs], lambda _: True)
    notes = _ordered_errors(notes, _note_path)
    run = dict(runs[0])
    run["results"] = results
    run["invocations"] = [{"executionSuccessful": not notes, "toolExecutionNotifications": notes}]
    run["properties"] = {k: v for k, v in run["properties"].items() if k != "shard"}
    return {**logs[0], "runs": [run]}


def _resource(result: dict[str, Any]) -> str:
    """The ARN (or aws://<account>) of an audit result, "" for one about a file."""
    for location in result.get("locations", ()):
        for logical in location.get("logicalLocations", ()):
            if logical.get("kind") == "resource":
                return str(logical["fullyQualifiedName"])
    return ""


def _result_key(result: dict[str, Any]) -> tuple[str, int, int, str, str]:
    """The order one run gives its findings: (path, line, column, rule, message); a live result's path
    is its ARN, and its line 0."""
    resource = _resource(result)
    if resource:
        return (resource, 0, 0, result["ruleId"], result["message"]["text"])
    physical = result["locations"][0]["physicalLocation"]
    region = physical.get("region", {})
    path = str(PurePosixPath(physical["artifactLocation"]["uri"]))
    return (path, region.get("startLine", 0), region.get("startColumn", 0), result["ruleId"], result["message"]["text"])


def _note_path(note: dict[str, Any]) -> str:
    locations = note.get("locations")
    if locations:
        return str(locations[0]["physicalLocation"]["artifactLocation"]["uri"])
    return str(note["message"]["text"]).split(": ", 1)[0]  # a live error: "aws://<account>: message"
