"""Runbook fixtures shared by the tests: a complete break-glass runbook, one section per BG020 topic.

`runbook(roles, drop=...)` leaves topics out, so each topic can be shown missing on its own.
Sections only use words of their own topic, so dropping one never leaves it covered elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BG020_TOPICS: list[str] = [
    t["id"] for t in yaml.safe_load((ROOT / "rules" / "BG020.yaml").read_text())["check"]["params"]["topics"]
]

SECTIONS = {
    "when-to-break-glass": """\
## When to break glass

Only when the install is down, a redeploy has failed and the on-call lead approves.
""",
    "contact-customer": """\
## Contacting the customer

Page the customer's on-call contact from the account record and open a support ticket.
""",
    "quick-create-link": """\
## The Quick-create link

Generate it with `bglint quickcreate` and send it in the support ticket.
""",
    "customer-install": """\
## Installing the stack (customer)

Open the link, tick the IAM acknowledgement and choose Create stack.
""",
    "debug-and-resolve": """\
## Debugging and resolving

Assume the role with `aws sts assume-role`, inspect the nodes, fix, verify.
""",
    "customer-uninstall": """\
## Uninstalling the stack (customer)

Run `aws cloudformation delete-stack --stack-name acme-break-glass` and confirm DELETE_COMPLETE.
""",
}


def roles_section(roles: dict[str, str]) -> str:
    rows = "".join(f"| `{name}` | {level} | when the {level} is broken |\n" for name, level in roles.items())
    return f"## Break-glass roles\n\n| Role | Access level | Use it |\n|---|---|---|\n{rows}"


def runbook(roles: dict[str, str], drop: tuple[str, ...] = (), extra: str = "") -> str:
    """A complete runbook naming `roles` ({name: level}), without the topics in `drop`."""
    parts = ["# Break-glass runbook\n"]
    parts += [text for topic, text in SECTIONS.items() if topic not in drop]
    if "access-levels" not in drop:
        parts.append(roles_section(roles))
    return "\n".join(parts) + extra
