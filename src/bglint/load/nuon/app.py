"""Build the roles of a Nuon app config directory.

Reads break_glass.toml, permissions/ (or legacy permissions.toml), named policies,
stack.toml and sandbox.toml (for the network kind) and actions/ (for role references).
Every file is validated against its schema; problems are collected, not raised, so the
rest of the app is still checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bglint.errors import InputError
from bglint.load.nuon.network import decide_network
from bglint.load.nuon.references import is_reference, resolve
from bglint.load.nuon.schema import validate_config
from bglint.load.policy import Locate, PolicyReader, aws_managed_statements
from bglint.load.selection import Selection
from bglint.load.suppressions import from_comments
from bglint.model import (
    Boundary,
    BoundaryState,
    ConfigNote,
    Document,
    DocumentKind,
    Location,
    NetworkContext,
    Policy,
    PolicyOrigin,
    Role,
    RoleReference,
    SourceKind,
    Statement,
)
from bglint.parse.files import read_text
from bglint.parse.json_pos import load_json
from bglint.parse.nodes import Mapping, Pos, pos_in, pos_of, text_in
from bglint.parse.toml_pos import load_toml, string_body_pos

_LEGACY_ROLES = ("provision_role", "maintenance_role", "deprovision_role")


@dataclass
class _App:
    root: Path
    display_root: str
    selection: Selection
    doc: Document
    errors: list[InputError] = field(default_factory=list)
    named: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)  # name -> (entry, file)
    platform: str = "aws"  # the app's cloud, the default for its roles
    texts: dict[str, str] = field(default_factory=dict)  # file shown -> text, for suppression comments

    def display(self, path: Path) -> str:
        return str(Path(self.display_root) / path.relative_to(self.root))

    def read(self, path: Path, kind: str) -> Mapping | None:
        """A TOML file of the app, schema-checked; None when absent or unreadable."""
        if not path.exists() and not path.is_symlink():  # a broken or looping symlink is an error
            return None
        shown = self.display(path)
        try:
            text = read_text(path, shown, root=self.root)  # a symlink may not lead out of the app
            data = load_toml(text, shown)
        except InputError as exc:
            self.errors.append(exc)
            return None
        self.texts[shown] = text
        problems, warnings = validate_config(data, kind, shown)
        self.errors.extend(problems)
        for warning in warnings:
            self.doc.notes.append(
                ConfigNote(warning.message, Location(shown, warning.line, warning.col, warning.key), "unknown-key")
            )
        return data


def load_app(
    root: Path, display_root: str, selection: Selection, network: NetworkContext | None
) -> tuple[Document, list[InputError]]:
    app = _App(root, display_root, selection, Document(path=display_root, kind=DocumentKind.APP))
    app.read(root / "metadata.toml", "metadata")
    stack = app.read(root / "stack.toml", "stack")
    sandbox = app.read(root / "sandbox.toml", "sandbox")
    runner = app.read(root / "runner.toml", "runner")
    app.platform = _app_platform(stack, runner)
    app.doc.network = network or decide_network(
        stack, app.display(root / "stack.toml"), sandbox, app.display(root / "sandbox.toml")
    )
    _load_named_policies(app)
    break_glass = app.read(root / "break_glass.toml", "break_glass")
    if break_glass is not None:
        roles = break_glass.get("role")
        for index, entry in enumerate(roles if isinstance(roles, list) else []):
            if isinstance(entry, dict):
                app.doc.roles.append(_role(app, entry, app.display(root / "break_glass.toml"), f"role[{index}]", True))
    _load_permission_roles(app)
    _load_role_references(app)
    _attach_comment_suppressions(app)
    return app.doc, app.errors


def _attach_comment_suppressions(app: _App) -> None:
    """`# bglint: ignore ...` comments go to the role whose table they sit in (or right above)."""
    for shown, text in app.texts.items():
        roles = sorted((r for r in app.doc.roles if r.loc.path == shown), key=lambda r: r.loc.line)
        if not roles or "bglint:" not in text:
            continue
        found = from_comments(text, shown, [(r.loc.line, r.name) for r in roles], app.errors)
        for role in roles:
            role.suppressions += tuple(found.get(role.name, ()))


def _app_platform(stack: Mapping | None, runner: Mapping | None) -> str:
    """aws, gcp or azure, from stack.toml `type` (e.g. azure-bicep) or runner.toml `runner_type`."""
    for value in (text_in(stack, "type"), text_in(runner, "runner_type")):
        for platform in ("aws", "gcp", "azure"):
            if value.startswith(platform):
                return platform
    return "aws"


def _load_permission_roles(app: _App) -> None:
    legacy = app.root / "permissions.toml"
    folder = app.root / "permissions"
    role_files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if legacy.is_file() and role_files:
        app.errors.append(
            InputError(app.display(legacy), "permissions.toml and permissions/*.toml both exist; Nuon accepts one")
        )
    for path in role_files:
        data = app.read(path, "permission_role")
        if data is not None:
            app.doc.roles.append(_role(app, data, app.display(path), "", False))
    data = app.read(legacy, "permissions_legacy") if legacy.is_file() else None
    if data is None:
        return
    shown = app.display(legacy)
    for key in _LEGACY_ROLES:
        if isinstance(data.get(key), dict):
            app.doc.roles.append(_role(app, data[key], shown, key, False))
    customs = data.get("custom_roles")
    for index, entry in enumerate(customs if isinstance(customs, list) else []):
        if isinstance(entry, dict):
            app.doc.roles.append(_role(app, entry, shown, f"custom_roles[{index}]", False))


def _load_named_policies(app: _App) -> None:
    folder = app.root / "permissions" / "policies"
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        data = app.read(path, "named_policy")
        if data is not None and isinstance(data.get("name"), str):
            app.named[data["name"]] = (data, app.display(path))


def _load_role_references(app: _App) -> None:
    folder = app.root / "actions"
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        data = app.read(path, "action")
        if data is not None and isinstance(data.get("break_glass_role"), str):
            line, col = pos_in(data, "break_glass_role")
            app.doc.role_references.append(
                RoleReference(data["break_glass_role"], Location(app.display(path), line, col, "break_glass_role"))
            )


def _role(app: _App, entry: dict[str, Any], shown: str, logical: str, from_break_glass: bool) -> Role:
    name = text_in(entry, "name", logical)
    prefix = f"{logical}." if logical else ""
    if from_break_glass:
        is_bg, why = True, "declared in break_glass.toml"
    else:
        is_bg, why = app.selection.classify([name], {})
    level = app.selection.level_for([name])
    role = Role(
        name=name,
        loc=Location(shown, *pos_of(entry), logical or "role"),
        source_kind=SourceKind.NUON_BREAK_GLASS if from_break_glass else SourceKind.NUON_PERMISSIONS,
        platform=text_in(entry, "cloud_platform", app.platform),
        break_glass=is_bg,
        break_glass_reason=why,
        level=level,
        level_source="config" if level else "",
        role_name=name,
    )
    policies = entry.get("policies")
    for index, item in enumerate(policies if isinstance(policies, list) else []):
        if isinstance(item, dict):
            role.policies.extend(_policy(app, item, shown, f"{prefix}policies[{index}]"))
    named = entry.get("named_policies")
    for index, item in enumerate(named if isinstance(named, list) else []):
        if isinstance(item, dict):
            role.policies.extend(_named_policy(app, item, shown, f"{prefix}named_policies[{index}]"))
    if "permissions_boundary" in entry:
        role.boundary = _boundary(app, entry, shown, f"{prefix}permissions_boundary")
    return role


def _policy(app: _App, item: dict[str, Any], shown: str, logical: str) -> Iterator[Policy]:
    loc = Location(shown, *pos_of(item), logical)
    managed = item.get("managed_policy_name")
    if isinstance(managed, str):
        statements = aws_managed_statements(
            managed if managed.startswith("arn:") else f"arn:aws:iam::aws:policy/{managed}"
        )
        yield Policy(
            name=managed,
            origin=PolicyOrigin.AWS_MANAGED,
            loc=Location(shown, *pos_in(item, "managed_policy_name"), f"{logical}.managed_policy_name"),
            statements=statements or (),
            document_known=statements is not None,
            arn=f"arn:aws:iam::aws:policy/{managed}",
            managed_policy_name=managed,
            has_contents="contents" in item,
        )
        return
    name = text_in(item, "name", logical)
    if isinstance(item.get("contents"), str):
        yield _document_policy(app, item, "contents", shown, logical, name, PolicyOrigin.INLINE)
    else:
        # Non-AWS entries (gcp_*/azure_*) carry no IAM document; they are kept so a
        # role that grants only those is not mistaken for a role with no grants.
        yield Policy(name=name, origin=PolicyOrigin.EXTERNAL, loc=loc, document_known=False)


def _named_policy(app: _App, item: dict[str, Any], shown: str, logical: str) -> Iterator[Policy]:
    name = item.get("name")
    if not isinstance(name, str):
        return
    if name not in app.named:
        line, col = pos_in(item, "name")
        app.errors.append(
            InputError(shown, f"{logical}: named policy '{name}' is not defined in permissions/policies/", line, col)
        )
        return
    entry, entry_file = app.named[name]
    if isinstance(entry.get("contents"), str):
        yield _document_policy(app, entry, "contents", entry_file, "", name, PolicyOrigin.INLINE)


def _document_policy(
    app: _App, owner: dict[str, Any], key: str, shown: str, logical: str, name: str, origin: PolicyOrigin
) -> Policy:
    where = f"{logical}.{key}" if logical else key
    loc = Location(shown, *pos_in(owner, key), where)
    statements, source, known = _read_document(app, owner, key, shown, where)
    return Policy(
        name=name,
        origin=origin,
        loc=loc,
        statements=statements,
        source=source,
        document_known=known,
        has_contents=True,
        arn=source if not known else "",
    )


def _boundary(app: _App, entry: dict[str, Any], shown: str, logical: str) -> Boundary:
    raw = entry.get("permissions_boundary")
    loc = Location(shown, *pos_in(entry, "permissions_boundary"), logical)
    if not isinstance(raw, str) or raw.strip() in ("", "{}"):
        return Boundary(BoundaryState.EMPTY, loc, reference=str(raw))
    if raw.startswith("arn:"):
        statements = aws_managed_statements(raw)
        policy = Policy(
            raw,
            PolicyOrigin.AWS_MANAGED if statements is not None else PolicyOrigin.EXTERNAL,
            loc,
            statements or (),
            document_known=statements is not None,
            arn=raw,
        )
        state = BoundaryState.DOCUMENT if statements is not None else BoundaryState.UNKNOWN
        return Boundary(state, loc, (policy,), raw)
    statements, source, known = _read_document(app, entry, "permissions_boundary", shown, logical)
    if known and not statements:
        return Boundary(BoundaryState.EMPTY, loc, reference=raw)
    policy = Policy("boundary", PolicyOrigin.INLINE, loc, statements, source=source, document_known=known)
    return Boundary(BoundaryState.DOCUMENT if known else BoundaryState.UNKNOWN, loc, (policy,), raw)


def _read_document(
    app: _App, owner: dict[str, Any], key: str, shown: str, logical: str
) -> tuple[tuple[Statement, ...], str, bool]:
    """(statements, file used, document known) for a literal or referenced JSON policy."""
    value: str = owner[key]
    line, col = pos_in(owner, key)
    if not is_reference(value):
        body_line, body_col = string_body_pos(owner, key)

        def locate(pos: Pos, lg: str) -> Location:
            # JSON positions are relative to the string; its first line starts mid-line.
            col = pos[1] + body_col - 1 if pos[0] == 1 else pos[1]
            return Location(shown, body_line + pos[0] - 1, col, lg)

        return _parse_json(app, value, shown, locate, logical), "", True
    resolved = resolve(value, app.root)
    if resolved.remote:
        return (), value, False  # reported by BG009: bglint fetches nothing
    if resolved.path is None:
        app.errors.append(InputError(shown, f"{logical}: {resolved.problem}", line, col))
        return (), "", False
    used = app.display(resolved.path)
    app.doc.references.append((value, used))
    if resolved.ambiguous_with is not None:
        app.doc.notes.append(
            ConfigNote(
                f"'{value}' resolves to {used}, but {app.display(resolved.ambiguous_with)} differs",
                Location(shown, line, col, logical),
                "ambiguous-reference",
            )
        )
    try:
        text = read_text(resolved.path, used)
    except InputError as exc:
        app.errors.append(exc)
        return (), used, False
    return _parse_json(app, text, used, lambda pos, lg: Location(used, pos[0], pos[1], lg), logical), used, True


def _parse_json(app: _App, text: str, shown: str, locate: Locate, logical: str) -> tuple[Statement, ...]:
    if not text.strip():
        where = locate((1, 1), "")
        app.errors.append(InputError(where.path, f"{logical}: policy document is empty", where.line, where.col))
        return ()
    try:
        data = load_json(text, shown)
    except InputError as exc:
        where = locate((exc.line or 1, exc.col), "")
        app.errors.append(InputError(where.path, exc.message, where.line, where.col))
        return ()
    reader = PolicyReader(shown, locate)
    statements = reader.statements(data, logical)
    app.errors.extend(reader.errors)
    return statements
