"""Which roles count as break-glass, and at which access level.

Signals, strongest first: an explicit `Metadata: {bglint: {break_glass: ...}}` on the
resource, the user's selectors (config), `--all-roles`, then naming conventions
(Nuon's generated `Breakglass...` logical ids, a name or tag that says break glass).
"""

import re
from collections.abc import Mapping
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import NamedTuple

from bglint.regex import Regex

_BREAK_GLASS_WORDS = Regex(r"break[-_ ]?glass", re.IGNORECASE)


class Selection(NamedTuple):
    all_roles: bool = False
    # fnmatch patterns on a role's logical id or name
    patterns: tuple[str, ...] = ()
    # declared access level per role pattern
    levels: Mapping[str, str] = MappingProxyType({})  # read only: one empty default for all

    def classify(self, names: list[str], tags: dict[str, str]) -> tuple[bool, str]:
        """(is break-glass, why) from the role's names and tags."""
        for pattern in self.patterns:
            if any(fnmatchcase(name, pattern) for name in names if name):
                return True, f"matches selector '{pattern}'"
        if self.all_roles:
            return True, "--all-roles"
        for name in names:
            if name and _BREAK_GLASS_WORDS.search(name):
                return True, f"name '{name}' says break glass"
        for key, value in tags.items():
            if _BREAK_GLASS_WORDS.search(key) or _BREAK_GLASS_WORDS.search(value):
                return True, f"tag {key}={value}"
        return False, ""

    def level_for(self, names: list[str]) -> str:
        for pattern, level in self.levels.items():
            if any(fnmatchcase(name, pattern) for name in names if name):
                return level
        return ""
