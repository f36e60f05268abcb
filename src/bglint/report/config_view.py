"""`bglint config show`: the effective configuration, each value with where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bglint.findings import DEFAULT_BASELINE
from bglint.model import DEFAULT_TAG_KEYS, RUNBOOK_NAMES, Suppression
from bglint.report.escape import for_terminal

if TYPE_CHECKING:  # the data it shows; loading the config is the command's job
    from bglint.load.config import Config

# What bglint does when the key is unset.
_CONVENTIONAL_RUNBOOK = f"(found in each app: {', '.join(RUNBOOK_NAMES)})"
_BASELINE_IN_CWD = f"({DEFAULT_BASELINE} in the working directory, when it exists)"


def render_config(config: Config) -> str:
    values: list[tuple[str, object]] = [
        ("network", config.network or "(inferred per app: stack.toml, sandbox.toml)"),
        ("apps", {k: {"network": v, **_runbook_of(config, k)} for k, v in config.apps.items()}),
        ("tag-keys", list(config.tag_keys or DEFAULT_TAG_KEYS)),
        ("subnet-ids", list(config.subnet_ids)),
        ("vpc-ids", list(config.vpc_ids)),
        ("break-glass-roles", list(config.break_glass_roles)),
        ("levels", config.levels),
        ("rules", [str(d) for d in config.rules_dirs]),
        ("disable", list(config.disable)),
        ("severity", config.severity),
        ("fail-on", config.fail_on or "error"),
        ("ignore", [_suppression(s) for s in config.ignore]),
        ("runbook", config.runbook or _CONVENTIONAL_RUNBOOK),
        ("baseline", str(config.baseline) if config.baseline else _BASELINE_IN_CWD),
        ("alerts", {"in-stack": "required" if config.alarm_in_stack else "optional"}),
        ("drills", _drills(config)),
        ("standing-access-days", config.standing_days),
        ("limits", {name.replace("_", "-"): value for name, value in config.limits._asdict().items()}),
    ]
    origin = config.path or "no config file found"
    lines = [f"# config file: {for_terminal(origin)}"]
    for key, value in values:
        source = config.path if key in config.written else "default"
        lines.append(for_terminal(f"{key}: {value}    # from {source}"))  # values are the file's text
    return "\n".join(lines) + "\n"


def _suppression(suppression: Suppression) -> str:
    """One suppression with its scope: without `role`/`path` it covers every role and file."""
    scope = [f"{key} {value}" for key, value in (("role", suppression.role), ("path", suppression.path)) if value]
    extra = [f"{key} {value}" for key, value in (("owner", suppression.owner), ("until", suppression.until)) if value]
    details = "; ".join(scope + extra)
    return f"{suppression.rule}: {suppression.reason}" + (f" ({details})" if details else "")


def _runbook_of(config: Config, app: str) -> dict[str, str]:
    return {"runbook": config.app_runbooks[app]} if app in config.app_runbooks else {}


def _drills(config: Config) -> dict[str, object] | str:
    if not config.drill_interval_days and not config.incident_windows:
        return "(none: drills are not judged)"
    windows = [{"start": start, "end": end} for start, end in config.incident_windows]
    return {"interval-days": config.drill_interval_days or "(none)", "incidents": windows}
