"""Build the roles of a Nuon app config directory, as Nuon reads it.

Reads break_glass.toml or break_glass/ (one role per file), permissions/ (every `.toml`
below it, subfolders too, except the named policies of permissions/policies/) or the legacy
permissions.toml, stack.toml and sandbox.toml (for the network kind) and actions/ (for role
references). Every file is validated against its schema; an empty file counts as absent.
A config Nuon refuses is an input error; problems are collected, not raised, so the rest of
the app is still checked. Last, the stack Nuon generates is built over the roles.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bglint.errors import InputError
from bglint.load.nuon.gotemplate import render
from bglint.load.nuon.network import decide_network
from bglint.load.nuon.references import Tree, is_reference, resolve
from bglint.load.nuon.schema import validate_config
from bglint.load.nuon.stack import RoleSpec, camel, generate
from bglint.load.policy import Locate, PolicyReader, aws_managed_statements
from bglint.load.selection import Selection
from bglint.load.suppressions import from_comments
from bglint.model import (
    Boundary,
    BoundaryState,
    Document,
    DocumentKind,
    Location,
    NetworkContext,
    Policy,
    PolicyOrigin,
    Role,
    SourceKind,
    Statement,
)
from bglint.model.nuon import CloudGrant, ConfigNote, RoleReference
from bglint.parse.files import outside, read_text, resolved
from bglint.parse.json_pos import load_json
from bglint.parse.nodes import UNKNOWN, Mapping, Pos, pos_in, pos_of, text_in
from bglint.parse.toml_pos import load_toml, string_body_pos

_LEGACY_ROLES = {"provision_role": "provision", "maintenance_role": "maintenance", "deprovision_role": "deprovision"}


class _App:
    def __init__(self, root: Path, display_root: str, selection: Selection, doc: Document, tree: Tree) -> None:
        self.root = root
        self.display_root = display_root
        self.selection = selection
        self.doc = doc
        self.tree = tree
        self.errors: list[InputError] = []
        self.named: dict[str, tuple[dict[str, Any], str, Path]] = {}  # name -> (entry, file, folder)
        self.named_documents: dict[str, Any] = {}  # name -> its document, for the stack
        self.specs: list[RoleSpec] = []
        self.platform = "aws"  # the app's cloud, the default for its roles
        self.texts: dict[str, str] = {}  # file shown -> text, for suppression comments

    def display(self, path: Path) -> str:
        return os.path.normpath(Path(self.display_root) / os.path.relpath(path, self.root))

    def read(self, path: Path, kind: str) -> Mapping | None:
        """A TOML file of the app, schema-checked; None when absent, empty or unreadable."""
        if not path.exists() and not path.is_symlink():  # a broken or looping symlink is an error
            return None
        shown = self.display(path)
        try:
            # A symlink may lead out of the app (apps share folders), never out of the tree.
            text = read_text(path, shown, root=self.tree.root)
            if not text.strip():
                return None  # Nuon treats an empty file as absent
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

    def refuse(self, path: Path | str, message: str, pos: Pos = (0, 0)) -> None:
        shown = path if isinstance(path, str) else self.display(path)
        self.errors.append(InputError(shown, message, *pos))

    def policy_base(self) -> Path:
        """Where Nuon resolves a role's `./x.json`: permissions/ when it exists, with no fallback."""
        folder = self.root / "permissions"
        return folder if folder.is_dir() else self.root


def load_app(
    root: Path, display_root: str, selection: Selection, network: NetworkContext | None, tree: Tree | None = None
) -> tuple[Document, list[InputError]]:
    document = Document(path=display_root, kind=DocumentKind.APP)
    app = _App(root, display_root, selection, document, tree or Tree(root, "the app directory"))
    app.read(root / "metadata.toml", "metadata")
    stack = app.read(root / "stack.toml", "stack")
    sandbox = app.read(root / "sandbox.toml", "sandbox")
    runner = app.read(root / "runner.toml", "runner")
    app.platform = _app_platform(stack, runner)
    var_files = _var_files(app, sandbox)
    app.doc.network = network or decide_network(
        stack, app.display(root / "stack.toml"), sandbox, app.display(root / "sandbox.toml"), var_files
    )
    _load_permission_roles(app)
    _load_break_glass_roles(app)
    _check_names(app)
    in_use = _load_role_references(app, sandbox)
    app.doc.generated_stack = generate(app.specs, app.named_documents, in_use)
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


def _toml_files(app: _App, folder: Path, skip: Path | None = None) -> list[Path]:
    """Every `.toml` below `folder`, symlinked folders followed (each real folder once), in order."""
    found: list[Path] = []
    seen: set[Path] = set()
    for here, dirs, files in os.walk(folder, followlinks=True):
        current = Path(here)
        real = resolved(current)
        problem = outside(current, app.tree.root, app.tree.name) if real is not None else "symlink loop; not read"
        if problem or real in seen:
            if problem:
                app.refuse(current, problem)
            dirs[:] = []
            continue
        seen.add(real)  # type: ignore[arg-type]
        dirs[:] = sorted(d for d in dirs if current / d != skip)
        found += [current / name for name in sorted(files) if name.endswith(".toml")]
    return found


def _load_break_glass_roles(app: _App) -> None:
    single = app.root / "break_glass.toml"
    data = app.read(single, "break_glass")
    folder = app.root / "break_glass"
    files = _toml_files(app, folder) if folder.is_dir() else []
    entries: list[tuple[Path, Mapping]] = []
    for path in files:
        entry = app.read(path, "break_glass_role")
        if entry is not None:
            entries.append((path, entry))
    if data is not None and entries:
        message = "break_glass.toml and break_glass/ both define break-glass roles; Nuon refuses the config"
        app.refuse(single, message, pos_in(data, "role") if "role" in data else (1, 1))
    roles = data.get("role") if data is not None else None
    for index, entry in enumerate(roles if isinstance(roles, list) else []):
        if isinstance(entry, dict):
            _role(app, entry, single, f"role[{index}]", "breakglass")
    for path, entry in entries:
        _role(app, entry, path, "", "breakglass")


def _load_permission_roles(app: _App) -> None:
    legacy = app.root / "permissions.toml"
    folder = app.root / "permissions"
    policies = folder / "policies"
    role_files = _toml_files(app, folder, skip=policies) if folder.is_dir() else []
    named_files = _toml_files(app, policies) if policies.is_dir() else []
    for path in named_files:
        data = app.read(path, "named_policy")
        if data is not None:
            _define_named(app, data, app.display(path), path.parent)
    data = app.read(legacy, "permissions_legacy") if legacy.is_file() else None
    if data is not None and role_files:
        app.refuse(legacy, "permissions.toml and permission roles in permissions/ both exist; Nuon accepts one", (1, 1))
    if data is not None:
        for entry in _tables(data.get("named_policies")):
            _define_named(app, entry, app.display(legacy), app.policy_base())
    for path in role_files:
        role_entry = app.read(path, "permission_role")
        if role_entry is not None:
            _role(app, role_entry, path, "", text_in(role_entry, "type", "custom"))
    if data is None:
        return
    for key, kind in _LEGACY_ROLES.items():
        if isinstance(data.get(key), dict):
            _role(app, data[key], legacy, key, kind)
    for group in ("custom_roles", "roles"):
        for index, entry in enumerate(_tables(data.get(group))):
            _role(app, entry, legacy, f"{group}[{index}]", text_in(entry, "type", "custom"))


def _tables(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _define_named(app: _App, entry: dict[str, Any], shown: str, folder: Path) -> None:
    name = entry.get("name")
    if not isinstance(name, str):
        return
    if name in app.named:
        app.refuse(
            shown,
            f"named policy '{name}' is defined twice (also in {app.named[name][1]}); Nuon refuses it",
            pos_of(entry),
        )
        return
    app.named[name] = (entry, shown, folder)


def _load_role_references(app: _App, sandbox: Mapping | None) -> set[str]:
    """Actions' `role`/`break_glass_role` (with their triggers); returns the role names something runs as."""
    in_use = {text_in(item, "role") for item in _tables(sandbox.get("operation_roles") if sandbox else None)}
    folder = app.root / "actions"
    for path in _toml_files(app, folder) if folder.is_dir() else []:
        data = app.read(path, "action")
        if data is None:
            continue
        shown = app.display(path)
        triggers = tuple(
            (text_in(t, "type"), Location(shown, *pos_in(t, "type"), f"triggers[{i}].type"))
            for i, t in enumerate(_tables(data.get("triggers")))
        )
        for key in ("role", "break_glass_role"):
            if isinstance(data.get(key), str):
                in_use.add(data[key])
                loc = Location(shown, *pos_in(data, key), key)
                app.doc.role_references.append(RoleReference(data[key], loc, key, triggers))
    return in_use


def _role(app: _App, entry: dict[str, Any], path: Path, logical: str, kind: str) -> None:
    shown = app.display(path)
    name = text_in(entry, "name", logical)
    prefix = f"{logical}." if logical else ""
    from_break_glass = kind == "breakglass"
    if from_break_glass:
        is_bg, why = True, f"declared in {os.path.relpath(path, app.root)}"
    else:
        is_bg, why = app.selection.classify([name], {})
    level = app.selection.level_for([name])
    rendered = render(name)
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
        rendered_name=rendered.text,
        rendered_exact=rendered.exact,
        name_loc=Location(shown, *pos_in(entry, "name"), f"{prefix}name"),
    )
    enabled = entry.get("enabled_in_stack")
    spec = RoleSpec(role, kind, text_in(entry, "description"), enabled if isinstance(enabled, bool) else None)
    policies = _tables(entry.get("policies"))
    for index, item in enumerate(policies):
        role.policies.extend(_policy(app, spec, item, shown, f"{prefix}policies[{index}]"))
    named = _tables(entry.get("named_policies"))
    for index, item in enumerate(named):
        role.policies.extend(_named_policy(app, spec, item, shown, f"{prefix}named_policies[{index}]"))
    if not policies and not named:
        app.refuse(
            shown,
            f"{logical or 'role'} '{name}' has no policies and no named_policies; Nuon refuses a role that has no permissions",
            pos_of(entry),
        )
    if "permissions_boundary" in entry and role.platform == "aws":
        role.boundary = _boundary(app, spec, entry, shown, f"{prefix}permissions_boundary")
    app.doc.roles.append(role)
    if role.platform == "aws":
        app.specs.append(spec)


def _policy(app: _App, spec: RoleSpec, item: dict[str, Any], shown: str, logical: str) -> Iterator[Policy]:
    loc = Location(shown, *pos_of(item), logical)
    managed = item.get("managed_policy_name")
    contents = item.get("contents")
    if isinstance(managed, str) and managed:
        statements = aws_managed_statements(
            managed if managed.startswith("arn:") else f"arn:aws:iam::aws:policy/{managed}"
        )
        spec.managed.append(managed)
        yield Policy(
            name=managed,
            origin=PolicyOrigin.AWS_MANAGED,
            loc=Location(shown, *pos_in(item, "managed_policy_name"), f"{logical}.managed_policy_name"),
            statements=statements or (),
            document_known=statements is not None,
            arn=f"arn:aws:iam::aws:policy/{managed}",
            managed_policy_name=managed,
            has_contents=bool(contents),
        )
        return
    name = text_in(item, "name", "")
    grants = tuple(_cloud_grants(item, shown, logical))
    if isinstance(contents, str) and contents:
        policy, document = _document_policy(app, item, "contents", shown, logical, name or logical, app.policy_base())
        policy.rendered_name, policy.logical_id = render(name).text, camel(name)
        # Its name, or the entry when it has none: what BG027 and BG029 ask to change.
        policy.name_loc = Location(shown, *pos_in(item, "name"), f"{logical}.name")
        policy.grants = grants
        spec.inline.append((name, document))
        yield policy
    elif grants or any(key.startswith(("gcp_", "azure_")) for key in item):
        # GCP and Azure entries carry no IAM document: what they bind is kept as grants, and a
        # role that grants only those is not mistaken for a role with no grants.
        yield Policy(name=name or logical, origin=PolicyOrigin.EXTERNAL, loc=loc, document_known=False, grants=grants)


_CLOUD_KEYS = ("gcp_predefined_role", "gcp_permissions", "azure_built_in_roles", "azure_actions")


def _cloud_grants(item: dict[str, Any], shown: str, logical: str) -> Iterator[CloudGrant]:
    """The entry's GCP/Azure keys, each name with its own position (wrong types are the schema's job)."""
    for key in _CLOUD_KEYS:
        value = item.get(key)
        where = f"{logical}.{key}"
        if isinstance(value, str) and value:
            yield CloudGrant(key, (value,), (Location(shown, *pos_in(item, key), where),))
        elif isinstance(value, list):
            named = [(index, name) for index, name in enumerate(value) if isinstance(name, str)]
            if named:
                yield CloudGrant(
                    key,
                    tuple(name for _, name in named),
                    tuple(Location(shown, *pos_in(value, index), f"{where}[{index}]") for index, _ in named),
                )


def _named_policy(app: _App, spec: RoleSpec, item: dict[str, Any], shown: str, logical: str) -> Iterator[Policy]:
    name = item.get("name")
    if not isinstance(name, str):
        return
    if name not in app.named:
        line, col = pos_in(item, "name")
        app.refuse(shown, f"{logical}: named policy '{name}' is not defined in permissions/policies/", (line, col))
        return
    entry, entry_file, folder = app.named[name]
    spec.named.append(name)
    if isinstance(entry.get("contents"), str):
        # Its `contents` resolves next to its own file.
        policy, document = _document_policy(app, entry, "contents", entry_file, "", name, folder)
        policy.customer_managed, policy.rendered_name = True, render(name).text
        policy.name_loc = Location(entry_file, *pos_in(entry, "name"), "name")
        app.named_documents.setdefault(name, document)
        yield policy


def _document_policy(
    app: _App, owner: dict[str, Any], key: str, shown: str, logical: str, name: str, base: Path
) -> tuple[Policy, Any]:
    where = f"{logical}.{key}" if logical else key
    loc = Location(shown, *pos_in(owner, key), where)
    statements, source, known, document = _read_document(app, owner, key, shown, where, base)
    raw = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(raw, dict):
        # Nuon's parser needs a list of statements; IAM (and the policy reader) take one object.
        message = f"{where}: 'Statement' must be a list; Nuon refuses a single statement object"
        if source:  # a file: its own position (for a literal, positions are inside the string)
            app.refuse(source, message, pos_of(raw) if pos_of(raw) != UNKNOWN else (1, 1))
        else:
            app.refuse(shown, message, pos_in(owner, key))
    policy = Policy(
        name=name,
        origin=PolicyOrigin.INLINE,
        loc=loc,
        statements=statements,
        source=source,
        document_known=known,
        has_contents=True,
        arn=source if not known else "",
    )
    return policy, document


def _boundary(app: _App, spec: RoleSpec, entry: dict[str, Any], shown: str, logical: str) -> Boundary:
    raw = entry.get("permissions_boundary")
    loc = Location(shown, *pos_in(entry, "permissions_boundary"), logical)
    if not isinstance(raw, str) or raw.strip() in ("", "{}"):
        return Boundary(BoundaryState.EMPTY, loc, reference=str(raw))
    if raw.startswith("arn:"):
        # Nuon stores the boundary as a JSON document and creates a policy from it: an ARN is
        # not one, so the role gets no boundary it can use.
        return Boundary(BoundaryState.UNUSABLE, loc, reference=raw)
    statements, source, known, document = _read_document(
        app, entry, "permissions_boundary", shown, logical, app.policy_base()
    )
    if known and not statements:
        return Boundary(BoundaryState.EMPTY, loc, reference=raw)
    spec.boundary = document
    policy = Policy("boundary", PolicyOrigin.INLINE, loc, statements, source=source, document_known=known)
    return Boundary(BoundaryState.DOCUMENT if known else BoundaryState.UNKNOWN, loc, (policy,), raw)


def _read_document(
    app: _App, owner: dict[str, Any], key: str, shown: str, logical: str, base: Path
) -> tuple[tuple[Statement, ...], str, bool, Any]:
    """(statements, file used, document known, the document) for a literal or referenced JSON policy."""
    value: str = owner[key]
    line, col = pos_in(owner, key)
    if not is_reference(value):
        body_line, body_col = string_body_pos(owner, key)

        def locate(pos: Pos, lg: str) -> Location:
            # JSON positions are relative to the string; its first line starts mid-line.
            col = pos[1] + body_col - 1 if pos[0] == 1 else pos[1]
            return Location(shown, body_line + pos[0] - 1, col, lg)

        statements, document = _parse_json(app, value, shown, locate, logical)
        return statements, "", True, document
    resolved_ref = resolve(value, base, app.tree, app.root)
    if resolved_ref.remote:
        return (), value, False, None  # reported by BG009: bglint fetches nothing
    if resolved_ref.path is None:
        app.refuse(shown, f"{logical}: {resolved_ref.problem}", (line, col))
        return (), "", False, None
    used = app.display(resolved_ref.path)
    app.doc.references.append((value, used))
    if resolved_ref.ambiguous_with is not None:
        app.doc.notes.append(
            ConfigNote(
                f"'{value}' resolves to {used}, but {app.display(resolved_ref.ambiguous_with)} differs",
                Location(shown, line, col, logical),
                "ambiguous-reference",
            )
        )
    try:
        text = read_text(resolved_ref.path, used, app.tree.root)
    except InputError as exc:
        app.errors.append(exc)
        return (), used, False, None
    statements, document = _parse_json(app, text, used, lambda pos, lg: Location(used, pos[0], pos[1], lg), logical)
    return statements, used, True, document


def _parse_json(app: _App, text: str, shown: str, locate: Locate, logical: str) -> tuple[tuple[Statement, ...], Any]:
    if not text.strip():
        where = locate((1, 1), "")
        app.refuse(where.path, f"{logical}: policy document is empty", (where.line, where.col))
        return (), None
    try:
        data = load_json(text, shown)
    except InputError as exc:
        where = locate((exc.line or 1, exc.col), "")
        app.refuse(where.path, exc.message, (where.line, where.col))
        return (), None
    reader = PolicyReader(shown, locate)
    statements = reader.statements(data, logical)
    app.errors.extend(reader.errors)
    return statements, data


def _var_files(app: _App, sandbox: Mapping | None) -> list[tuple[str, str]]:
    """(file shown, text) of the sandbox's `[[var_file]]` entries, resolved against the app root."""
    found: list[tuple[str, str]] = []
    shown = app.display(app.root / "sandbox.toml")
    for index, entry in enumerate(_tables(sandbox.get("var_file") if sandbox else None)):
        value = entry.get("contents")
        if not isinstance(value, str) or not value:
            continue
        if not is_reference(value):
            found.append((shown, value))
            continue
        ref = resolve(value, app.root, app.tree, app.root)
        if ref.remote:
            continue
        if ref.path is None:
            app.refuse(shown, f"var_file[{index}].contents: {ref.problem}", pos_in(entry, "contents"))
            continue
        used = app.display(ref.path)
        app.doc.references.append((value, used))
        try:
            found.append((used, read_text(ref.path, used, app.tree.root)))
        except InputError as exc:
            app.errors.append(exc)
    return found


def _check_names(app: _App) -> None:
    """Nuon refuses two roles or two named policies with one name in the same config."""
    seen: dict[str, Role] = {}
    for role in app.doc.roles:
        first = seen.setdefault(role.name, role)
        if (
            first is not role
            and first.source_kind == role.source_kind
            and role.source_kind is SourceKind.NUON_PERMISSIONS
        ):
            app.refuse(
                role.loc.path,
                f"role name '{role.name}' is duplicated (first at {first.loc.path}:{first.loc.line}); Nuon refuses it",
                (role.loc.line, role.loc.col),
            )
