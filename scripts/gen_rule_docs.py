"""Write docs/rules/<ID>.md and rules/_parsed.json from rules/*.yaml. `--check` exits 1 when one is stale."""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

from bglint.evaluate.rules import PARSED, load_rules, parse_rule_file
from bglint.findings import Rule

ROOT = Path(__file__).resolve().parents[1]


def page(rule: Rule) -> str:
    when = []
    if rule.when.network:
        when.append(f"network: {', '.join(rule.when.network)}")
    if rule.when.level:
        when.append(f"declared level: {', '.join(rule.when.level)}")
    overrides = "".join(f" ({sev} when network is {', '.join(w.network)}" + ")" for w, sev in rule.overrides)
    facts = [
        f"- Severity: {rule.severity}{overrides}",
        f"- Security severity: {rule.security_severity}",
        f"- Applies to: {rule.applies_to}" + (f" ({'; '.join(when)})" if when else ""),
        f"- Check: `{rule.predicate}`",
    ]
    parts = [
        f"# {rule.id} {rule.name}: {rule.title}",
        "\n".join(facts),
        f"## Why\n\n{rule.rationale}",
        f"## Fix\n\n{rule.remediation}",
    ]
    if rule.example:
        parts.append(f"## Example\n\n```\n{rule.example}\n```")
    if rule.fixed:
        parts.append(f"## Fixed\n\n```\n{rule.fixed}\n```")
    parts.append(f"Suppress or re-level it by id (`{rule.id}`) in `.bglint.yaml`.")
    return "\n\n".join(parts) + "\n"


def main(check: bool) -> int:
    rules, errors = load_rules([ROOT / "rules"], validate=True)
    if errors:
        print("\n".join(str(e) for e in errors), file=sys.stderr)
        return 2
    stale = [] if _parsed_is_current(check) else [f"rules/{PARSED}"]
    for rule in rules:
        target = ROOT / rule.help
        text = page(rule)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(rule.help)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    if check and stale:
        print(f"stale rule docs (run python scripts/gen_rule_docs.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


def _parsed_is_current(check: bool) -> bool:
    """rules/_parsed.json: every rule file parsed, with the CRC-32 of the bytes it was parsed from."""
    saved = {}
    for path in sorted((ROOT / "rules").glob("*.y*ml")):
        raw = parse_rule_file(path)
        if json.loads(json.dumps(raw)) != raw:  # e.g. a YAML date: JSON would change it
            raise SystemExit(f"{path}: holds values JSON cannot carry unchanged")
        saved[path.name] = {"crc32": zlib.crc32(path.read_bytes()), "rule": raw}
    text = json.dumps(saved, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    target = ROOT / "rules" / PARSED
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return True
    if not check:
        target.write_text(text, encoding="utf-8")
    return False


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
