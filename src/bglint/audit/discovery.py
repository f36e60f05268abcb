"""Which roles of an account count as break-glass.

A role is chosen when any selector matches: an explicit ARN (`--role-arn`, which then lists
nothing else), a name glob (`--name`), a tag (`--tag KEY` or `KEY=VALUE`), the config's
`break-glass-roles` patterns, or, as for templates, a name or tag that says break glass.
`--path` limits the listing to an IAM path; `--all-roles` takes every role under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from bglint.load.selection import Selection


@dataclass(frozen=True)
class Discovery:
    tags: tuple[str, ...] = ()  # KEY or KEY=VALUE
    names: tuple[str, ...] = ()  # fnmatch globs on the RoleName
    path_prefix: str = "/"
    role_arns: tuple[str, ...] = ()
    all_roles: bool = False
    selection: Selection = field(default_factory=Selection)

    def by_name(self, name: str) -> str:
        """Why the role is break-glass from its name alone, else ""."""
        if self.all_roles:
            return "--all-roles"
        for pattern in self.names:
            if fnmatchcase(name, pattern):
                return f"name matches --name '{pattern}'"
        is_bg, why = self.selection.classify([name], {})
        return why if is_bg else ""

    def by_tags(self, tags: dict[str, str]) -> str:
        """Why the role is break-glass from its tags, else ""."""
        for wanted in self.tags:
            key, sep, value = wanted.partition("=")
            if key in tags and (not sep or tags[key] == value):
                return f"tag {key}={tags[key]}"
        is_bg, why = Selection().classify([], tags)
        return why if is_bg else ""

    def choose(self, role: dict[str, Any]) -> str:
        """Why a role (as GetAccountAuthorizationDetails describes it, tags included) is break-glass, else ""."""
        if self.role_arns:
            return "listed by --role-arn" if role.get("Arn") in self.role_arns else ""
        tags = {str(t.get("Key", "")): str(t.get("Value", "")) for t in role.get("Tags") or ()}
        return self.by_name(str(role.get("RoleName", ""))) or self.by_tags(tags)

    def role_names_by_account(self) -> dict[str, list[str]]:
        """`--role-arn` values grouped by account: (account -> role names with their path)."""
        found: dict[str, list[str]] = {}
        for arn in self.role_arns:
            account, name = parse_role_arn(arn)
            found.setdefault(account, []).append(name)
        return found


def parse_role_arn(arn: str) -> tuple[str, str]:
    """(account, role name) of `arn:<partition>:iam::<account>:role/<path/>name`; ValueError if not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise ValueError(f"not an IAM role ARN: {arn!r}")
    account = parts[4]
    if not (account.isdigit() and len(account) == 12):
        raise ValueError(f"not an IAM role ARN (account id): {arn!r}")
    return account, parts[5].rsplit("/", 1)[-1]
