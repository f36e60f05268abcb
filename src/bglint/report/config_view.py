"""`bglint config show`: the effective configuration, each value with where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bglint.model import DEFAULT_TAG_KEYS, Suppression
from bglint.report.escape import for_terminal

if TYPE_CHECKING:  # the data it shows; loading the config is the command's job
    from bglint.load.config import Config


def render_config(config: Config) -> str:
    values: list[tuple[str, object]] = [
        ("network", config.network or "(inferred per app: stack.toml, sandbox.toml)"),
        ("apps", {k: {"network": v} for k, v in config.apps.items()}),
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
