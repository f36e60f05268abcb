"""What only app configs add to the model: GCP and Azure grants, references to roles by name,
loader notes, the runbook and the Quick-create links it shares.

Apart from the core (`bglint.model`) so that checking a template alone never defines them (start-up).
"""

from typing import NamedTuple

from bglint.model import Location, Parameter


class CloudGrant(NamedTuple):
    """A GCP or Azure policy entry: the roles or permissions it binds. Nuon binds them to the
    role's identity on the whole project (GCP) or resource group (Azure), with no condition."""

    kind: str  # gcp_predefined_role | gcp_permissions | azure_built_in_roles | azure_actions (the Nuon key)
    names: tuple[str, ...]  # role names, permissions or actions, as written
    locs: tuple[Location, ...]  # where each name is written

    def loc_of(self, index: int) -> Location:
        return self.locs[index] if index < len(self.locs) else self.locs[-1]


class RoleReference(NamedTuple):
    """A place that names a role by name: an action's `role` or `break_glass_role`."""

    name: str
    loc: Location
    key: str = "break_glass_role"  # role | break_glass_role
    triggers: tuple[tuple[str, Location], ...] = ()  # the action's trigger types, where written


class ConfigNote(NamedTuple):
    """Something the loader noticed but that is not an error, e.g. an unknown key."""

    message: str
    loc: Location
    kind: str  # unknown-key | ambiguous-reference


class RunbookLink(NamedTuple):
    url: str
    text: str  # the link text; "" for a bare URL
    loc: Location


class RunbookSection(NamedTuple):
    """A heading and the lines under it, up to the next heading of the same or a higher level."""

    title: str  # "" for the text before the first heading
    level: int  # 1-6; 0 for the text before the first heading
    loc: Location
    lines: tuple[tuple[int, str], ...] = ()  # (line number, text), subsections included


class Runbook(NamedTuple):
    """A Markdown runbook, reduced to what rules read: headings with their lines, and links."""

    path: str
    lines: tuple[str, ...]  # the text, comments and front matter blanked; lines[0] is line 1
    sections: tuple[RunbookSection, ...] = ()
    links: tuple[RunbookLink, ...] = ()


class QuickCreateLink(NamedTuple):
    """A CloudFormation console Quick-create link found in a runbook or app config."""

    url: str
    loc: Location
    template: str = ""  # the local template whose file name the link's templateURL ends with
    parameters: tuple[Parameter, ...] | None = None  # that template's parameters; None when unknown
