"""Turn the paths a user gave into documents: app config directories and templates.

App directories are found by `break_glass.toml` or `metadata.toml`; templates by
content (`AWSTemplateFormatVersion` or `Resources`), not only by extension. A file of
an app (as a pre-commit hook passes it) means its whole app directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bglint.errors import InputError
from bglint.load.appconfig import is_app_dir, load_app
from bglint.load.cfn_yaml import is_template, load_template_text
from bglint.load.files import read_text
from bglint.load.selection import Selection
from bglint.load.template import load_template_roles
from bglint.model import Document, NetworkContext, NetworkKind

_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template", ".cfn")
_SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".terraform"}


@dataclass
class Loaded:
    documents: list[Document] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files given that are neither template nor config


@dataclass(frozen=True)
class LoadOptions:
    selection: Selection = field(default_factory=Selection)
    network: str = ""  # the user's statement, for every app and template
    app_networks: dict[str, str] = field(default_factory=dict)  # resolved app dir -> kind
    app_config: Path | None = None  # --app-config: the context for templates given alone


def load_paths(paths: list[Path], options: LoadOptions) -> Loaded:
    loaded = Loaded()
    apps: dict[Path, str] = {}
    templates: dict[Path, tuple[str, bool]] = {}  # path -> (shown, given explicitly)
    for path in paths:
        _collect(path, apps, templates, loaded)
    contexts: dict[Path, NetworkContext] = {}
    for root, shown in sorted(apps.items()):
        doc, errors = load_app(root, shown, options.selection, _stated(options, root))
        loaded.documents.append(doc)
        loaded.errors.extend(errors)
        contexts[root] = doc.network
    if options.app_config is not None and options.app_config.resolve() not in contexts:
        root = options.app_config.resolve()
        doc, errors = load_app(root, str(options.app_config), options.selection, _stated(options, root))
        loaded.errors.extend(errors)
        contexts[root] = doc.network
    for path, (shown, explicit) in sorted(templates.items()):
        network = _template_network(path, contexts, options)
        _load_template(path, shown, explicit, network, options.selection, loaded)
    return loaded


def _stated(options: LoadOptions, root: Path) -> NetworkContext | None:
    kind = options.app_networks.get(str(root)) or options.network
    return NetworkContext(NetworkKind(kind), "stated in the bglint config") if kind else None


def _template_network(path: Path, contexts: dict[Path, NetworkContext], options: LoadOptions) -> NetworkContext:
    for root, context in contexts.items():
        if path.is_relative_to(root):
            return context
    if options.app_config is not None:
        return contexts[options.app_config.resolve()]
    if options.network:
        return NetworkContext(NetworkKind(options.network), "stated in the bglint config")
    return NetworkContext(NetworkKind.UNKNOWN, "template checked without its app config (see --app-config)")


def _collect(path: Path, apps: dict[Path, str], templates: dict[Path, tuple[str, bool]], loaded: Loaded) -> None:
    if not path.exists():
        loaded.errors.append(InputError(str(path), "no such file or directory"))
        return
    if path.is_dir():
        before = len(apps) + len(templates)
        _walk(path, apps, templates)
        if len(apps) + len(templates) == before:
            loaded.errors.append(InputError(str(path), "no Nuon app config or CloudFormation template found here"))
        return
    app = _app_of(path)
    if app is not None:
        apps.setdefault(app.resolve(), str(app))
        _add_templates_of(app, apps, templates)
    else:
        templates[path.resolve()] = (str(path), True)


def _app_of(path: Path) -> Path | None:
    """The app directory a file belongs to: a changed file means its whole app is checked."""
    folder = path.parent
    for parent in (folder, *folder.parents[:3]):
        if is_app_dir(parent):
            return parent
    return None


def _walk(top: Path, apps: dict[Path, str], templates: dict[Path, tuple[str, bool]]) -> None:
    for folder, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        here = Path(folder)
        if is_app_dir(here):
            apps.setdefault(here.resolve(), str(here))
        for name in sorted(files):
            if name.endswith(_TEMPLATE_SUFFIXES) and "permissions" not in here.relative_to(top).parts:
                candidate = here / name
                if _mentions_resources(candidate):
                    templates.setdefault(candidate.resolve(), (str(candidate), False))


def _add_templates_of(app: Path, apps: dict[Path, str], templates: dict[Path, tuple[str, bool]]) -> None:
    found: dict[Path, tuple[str, bool]] = {}
    _walk(app, {}, found)
    for path, (_shown, _explicit) in found.items():
        templates.setdefault(path, (str(app / path.relative_to(app.resolve())), False))


def _mentions_resources(path: Path) -> bool:
    """A cheap look before parsing: a template must say Resources or AWSTemplateFormatVersion."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError:
        return True  # let the loader report why it cannot be read
    return b"Resources" in head or b"AWSTemplateFormatVersion" in head


def _load_template(
    path: Path, shown: str, explicit: bool, network: NetworkContext, selection: Selection, loaded: Loaded
) -> None:
    try:
        text = read_text(path, shown)
    except InputError as exc:
        loaded.errors.append(exc)
        return
    if path.suffix == ".toml":
        loaded.skipped.append(shown)  # a TOML file outside any app directory
        return
    try:
        data = load_template_text(text, shown)
    except InputError as exc:
        # A hook hands over every YAML file (Helm charts, CI files...): only one that looks
        # like a template is a broken template; anything else is simply not ours.
        if "Resources" in text or "AWSTemplateFormatVersion" in text:
            loaded.errors.append(exc)
        else:
            loaded.skipped.append(shown)
        return
    if not is_template(data):
        if explicit:
            loaded.skipped.append(shown)
        return
    doc, errors = load_template_roles(data, shown, selection, network)
    loaded.documents.append(doc)
    loaded.errors.extend(errors)
