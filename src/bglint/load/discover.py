"""Turn the paths a user gave into documents: app config directories and templates.

App directories are found by `break_glass.toml` or `metadata.toml`; templates by
content (`AWSTemplateFormatVersion` or `Resources`, JSON-escaped too, anywhere in the file),
by a template-like extension in any case. A file of an app (as a pre-commit hook passes it)
means its whole app directory. Whatever a scan passes over is recorded with the reason.
"""

import functools
import os
import stat
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from bglint import limits
from bglint.errors import InputError
from bglint.limits import Limits
from bglint.load.cloudformation.detect import is_template, load_template_text
from bglint.load.cloudformation.template import load_template_roles
from bglint.load.selection import Selection
from bglint.model import Document, NetworkContext, NetworkKind

if TYPE_CHECKING:
    from bglint.load.nuon.references import Tree
from bglint.parse.files import outside, read_text, resolved, tree_of

_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template", ".cfn")
_MARKERS = (b"Resources", b"AWSTemplateFormatVersion", b"\\u00")  # the last: a JSON-escaped key
_SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".terraform"}

T = TypeVar("T")


class Loaded:
    def __init__(
        self, errors: list[InputError] | None = None, passed_over: list[tuple[str, str]] | None = None
    ) -> None:
        self.documents: list[Document] = []
        self.errors = errors or []
        self.skipped: list[str] = []  # files given that are neither template nor config
        self.passed_over = passed_over or []  # (path, why) a scan did not check
        self.spent: dict[str, float] = {}  # document path -> seconds its loading took

    def evaluate_each(self, work: Callable[[Document], list[T]]) -> list[T]:
        """`work(doc)` for every document, each within what its loading left of its time budget.

        A document whose evaluation runs out of time (or fails) becomes one InputError and
        leaves the report; the other documents' results are kept.
        """
        results: list[T] = []
        budget = limits.current().max_seconds
        for doc in list(self.documents):
            seconds = max(budget - self.spent.get(doc.path, 0.0), 0.001) if budget > 0 else 0.0
            try:
                results.extend(limits.within_budget(doc.path, functools.partial(work, doc), seconds))
            except InputError as exc:
                self.documents.remove(doc)
                self.errors.append(exc)
        return results


class LoadOptions(NamedTuple):
    selection: Selection = Selection()
    network: str = ""  # the user's statement, for every app and template
    app_networks: Mapping[str, str] = {}  # resolved app dir -> kind (a shared default: read only)
    app_config: Path | None = None  # --app-config: the context for templates given alone
    runbook: str = ""  # the config's `runbook`: the runbook's path relative to each app dir
    app_runbooks: Mapping[str, str] = {}  # resolved app dir -> runbook path (a shared default: read only)
    limits: Limits | None = None  # the config's `limits`, for this process and its workers
    context: NetworkContext | None = None  # the --app-config directory's, once loaded (settle_context)


class Plan:
    """What the paths given name: app directories and templates, before anything is parsed."""

    def __init__(
        self,
        apps: dict[Path, str] | None = None,  # resolved root -> shown
        templates: dict[Path, tuple[str, bool]] | None = None,  # path -> (shown, given explicitly)
        # resolved app root -> what its references may reach: its repository, else the path given
        trees: "dict[Path, Tree] | None" = None,
    ) -> None:
        self.apps = apps or {}
        self.templates = templates or {}
        self.errors: list[InputError] = []
        self.passed_over: list[tuple[str, str]] = []  # (path, why)
        self.trees = trees or {}

    def split(self, parts: int) -> "list[Plan]":
        """Independent pieces: each app with its own templates, and the other templates in chunks."""
        pieces = []
        loose = dict(self.templates)
        for root, shown in sorted(self.apps.items()):
            own = {p: t for p, t in self.templates.items() if p.is_relative_to(root)}
            for path in own:
                loose.pop(path, None)
            pieces.append(Plan({root: shown}, own, trees={root: self.trees[root]} if root in self.trees else {}))
        items = sorted(loose.items())
        size = max(1, -(-len(items) // max(1, parts)))
        pieces += [Plan({}, dict(items[i : i + size])) for i in range(0, len(items), size)]
        if pieces:
            pieces[0].errors = list(self.errors)
            pieces[0].passed_over = list(self.passed_over)
        return pieces or [self]


def plan_paths(paths: list[Path]) -> Plan:
    plan = Plan()
    loaded = Loaded()
    for path in paths:
        before = set(plan.apps)
        try:
            _collect(path, plan.apps, plan.templates, loaded)
            for root in set(plan.apps) - before:
                plan.trees[root] = _tree(path if path.is_dir() else root)
        except OSError as exc:  # pathlib's tests raise for a name too long, a folder not to be entered
            loaded.errors.append(InputError(str(path), f"cannot read: {exc.strerror or exc}"))
    plan.errors = loaded.errors
    plan.passed_over = sorted(set(loaded.passed_over))
    return plan


def load_paths(paths: list[Path], options: LoadOptions) -> Loaded:
    return load_plan(plan_paths(paths), options)


def load_plan(plan: Plan, options: LoadOptions) -> Loaded:
    if options.limits is not None:
        limits.configure(options.limits)
    loaded = Loaded(errors=list(plan.errors), passed_over=list(plan.passed_over))
    apps, templates = plan.apps, plan.templates
    contexts: dict[Path, NetworkContext] = {}
    if apps:  # imported here: a run on templates alone needs none of the app-config modules
        from bglint.load.nuon.app import load_app
        from bglint.load.nuon.runbook import attach_workflow
    for root, shown in sorted(apps.items()):

        def load_one(root: Path = root, shown: str = shown) -> None:
            tree = plan.trees.get(root) or _tree(root)
            doc, errors = load_app(root, shown, options.selection, _stated(options, root), tree)
            errors += attach_workflow(doc, root, shown, options.app_runbooks.get(str(root)) or options.runbook)
            doc.identity = _identity(root, root)
            loaded.documents.append(doc)
            loaded.errors.extend(errors)
            contexts[root] = doc.network

        _within_budget(loaded, shown, load_one)
    if options.app_config is not None and options.context is None:
        own = contexts.get(options.app_config.resolve())  # an app checked here: loaded above
        options, context_errors = (options._replace(context=own), []) if own else settle_context(plan, options)
        loaded.errors += context_errors
    for path, (shown, explicit) in sorted(templates.items()):
        network = _template_network(path, contexts, options)
        load = functools.partial(_load_template, path, shown, explicit, network, options.selection, loaded)
        _within_budget(loaded, shown, load)
    return loaded


def settle_context(plan: Plan, options: LoadOptions) -> tuple[LoadOptions, list[InputError]]:
    """The options with the --app-config directory's network context loaded, and its errors.

    Loaded once, before a plan is split (each piece would otherwise load it again and repeat
    its errors), else by `load_plan` when no app it loads is that directory. When the directory
    is also one of the apps checked, its own load reports the errors.
    """
    if options.app_config is None or options.context is not None:
        return options, []
    from bglint.load.nuon.app import load_app

    root = options.app_config.resolve()
    tree = _tree(options.app_config)
    loaded = Loaded()
    found: list[NetworkContext] = []

    def load_context() -> None:
        doc, errors = load_app(root, str(options.app_config), options.selection, _stated(options, root), tree)
        loaded.errors.extend(errors)
        found.append(doc.network)

    _within_budget(loaded, str(options.app_config), load_context)
    context = found[0] if found else NetworkContext(NetworkKind.UNKNOWN, "the --app-config directory could not be read")
    return options._replace(context=context), [] if root in plan.apps else loaded.errors


def _tree(given: Path) -> "Tree":
    """What an app's references may reach: the git work tree around `given`, else `given` itself."""
    from bglint.load.nuon.references import Tree

    root, name = tree_of(given / "_", Path(os.path.abspath(given)))
    return Tree(root, name)


def _within_budget(loaded: Loaded, shown: str, load: Callable[[], None]) -> None:
    """Load one document within the time budget; if it fails, keep only the error."""
    documents, errors, skipped = len(loaded.documents), len(loaded.errors), len(loaded.skipped)
    started = time.monotonic()
    try:
        limits.within_budget(shown, load, stage="load")
    except InputError as exc:
        del loaded.documents[documents:], loaded.errors[errors:], loaded.skipped[skipped:]
        loaded.errors.append(exc)
    for doc in loaded.documents[documents:]:
        loaded.spent[doc.path] = time.monotonic() - started


def _identity(real: Path, folder: Path) -> str:
    """The resolved path `real` relative to the git work tree enclosing its `folder` (else
    absolute), with forward slashes."""
    root = _work_tree(folder)
    return real.relative_to(root).as_posix() if root else real.as_posix()


@functools.lru_cache(maxsize=1024)  # a thousand templates in one folder share one answer
def _work_tree(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _stated(options: LoadOptions, root: Path) -> NetworkContext | None:
    kind = options.app_networks.get(str(root)) or options.network
    return NetworkContext(NetworkKind(kind), "stated in the bglint config") if kind else None


def _template_network(path: Path, contexts: dict[Path, NetworkContext], options: LoadOptions) -> NetworkContext:
    for root, context in contexts.items():
        if path.is_relative_to(root):
            return context
    if options.context is not None:  # --app-config
        return options.context
    if options.network:
        return NetworkContext(NetworkKind(options.network), "stated in the bglint config")
    return NetworkContext(NetworkKind.UNKNOWN, "template checked without its app config (see --app-config)")


def _collect(path: Path, apps: dict[Path, str], templates: dict[Path, tuple[str, bool]], loaded: Loaded) -> None:
    real = resolved(path)
    if real is None or not path.exists():
        problem = "symlink loop" if real is None else "broken symlink" if path.is_symlink() else ""
        loaded.errors.append(InputError(str(path), problem or "no such file or directory"))
        return
    if path.is_dir():
        before = len(apps) + len(templates) + len(loaded.errors)
        _walk(path, apps, templates, loaded)
        if len(apps) + len(templates) + len(loaded.errors) == before:
            loaded.errors.append(InputError(str(path), "no Nuon app config or CloudFormation template found here"))
        return
    if real != Path(os.path.abspath(path)):  # reached through a symlink: it may not lead out
        tree, name = tree_of(path, Path.cwd())
        problem = outside(path, tree, name.replace("checked", "current"))
        if problem:
            loaded.errors.append(InputError(str(path), problem))
            return
    app = _app_of(path)
    if app is not None:
        apps.setdefault(app.resolve(), str(app))
        _add_templates_of(app, templates, loaded)
    else:
        templates[real] = (str(path), True)


def is_app_dir(path: Path) -> bool:
    return (path / "break_glass.toml").is_file() or (path / "metadata.toml").is_file()


def _app_of(path: Path) -> Path | None:
    """The app directory a file belongs to: a changed file means its whole app is checked."""
    folder = path.parent
    for parent in (folder, *folder.parents[:3]):
        if is_app_dir(parent):
            return parent
    return None


def _walk(top: Path, apps: dict[Path, str], templates: dict[Path, tuple[str, bool]], loaded: Loaded) -> None:
    """Apps and templates under `top`; a template-named symlink that leads out of its repository
    (else out of `top`) is an error; what is passed over is recorded with the reason."""
    tree, tree_name = tree_of(top / "_", top)
    real_tree = resolved(tree)
    errors, passed_over = loaded.errors, loaded.passed_over

    def unreadable(exc: OSError) -> None:  # a folder not to be entered: its files go unchecked
        errors.append(InputError(str(exc.filename or top), f"cannot read: {exc.strerror or exc}"))

    for folder, dirs, files in os.walk(top, followlinks=False, onerror=unreadable):
        here = Path(folder)
        passed_over += [
            (str(here / d), "directory not scanned (version control, dependencies or hidden)")
            for d in dirs
            if d in _SKIP_DIRS or d.startswith(".")
        ]
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        real_here = resolved(here)
        if is_app_dir(here):
            apps.setdefault(here.resolve(), str(here))
        # A plain file in a folder inside the tree is inside too: only symlinks need resolving.
        inside = real_here is not None and real_tree is not None and real_here.is_relative_to(real_tree)
        if here.name == "permissions" and is_app_dir(here.parent):  # the app's policy documents, read with it
            dirs[:] = []
            continue
        for name in sorted(files):
            if not name.lower().endswith(_TEMPLATE_SUFFIXES):
                if not is_app_dir(here) or not name.endswith((".toml", ".md")):
                    passed_over.append(
                        (str(here / name), "not a template file name (.yaml, .yml, .json, .template, .cfn)")
                    )
                continue
            candidate = here / name
            plain = inside and not os.path.islink(candidate)
            problem = "" if plain else outside(candidate, tree, tree_name)
            if problem:
                errors.append(InputError(str(candidate), problem))
            elif _mentions_resources(candidate):
                real = real_here / name if plain and real_here else candidate.resolve()
                templates.setdefault(real, (str(candidate), False))
            else:
                passed_over.append((str(candidate), "no Resources or AWSTemplateFormatVersion in it"))


def _add_templates_of(app: Path, templates: dict[Path, tuple[str, bool]], loaded: Loaded) -> None:
    found: dict[Path, tuple[str, bool]] = {}
    _walk(app, {}, found, loaded)
    for path, (shown, _explicit) in found.items():
        # The name under the app, as walked: a symlinked one may resolve elsewhere in the repository.
        templates.setdefault(path, (shown, False))


def _mentions_resources(path: Path) -> bool:
    """A cheap look before parsing: a template must say Resources or AWSTemplateFormatVersion."""
    try:
        # Non-blocking, so a FIFO opens at once and is then seen for what it is; plain os
        # calls, as this runs on every candidate file before any work is shared out.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return True  # let the loader report why it cannot be read
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return True  # a pipe or device is never read here; the loader reports it
        # Chunks until a marker shows: templates say it near the top, but a long comment
        # header may push it anywhere. Past the size limit the loader reports the file.
        seen, left = b"", limits.current().max_file_bytes
        while left > 0:
            chunk = os.read(fd, min(1 << 16, left))
            if not chunk:
                return False
            left -= len(chunk)
            seen = seen[-32:] + chunk
            if any(marker in seen for marker in _MARKERS):
                return True
        return True
    except OSError:
        return True
    finally:
        os.close(fd)


def _load_template(
    path: Path, shown: str, explicit: bool, network: NetworkContext, selection: Selection, loaded: Loaded
) -> None:
    try:
        text = read_text(path, shown)
    except InputError as exc:
        loaded.errors.append(exc)
        return
    if path.suffix == ".toml" or path.suffix.lower() == ".md":
        loaded.skipped.append(shown)  # a TOML or Markdown file outside any app directory
        return
    try:
        data = load_template_text(text, shown)
    except InputError as exc:
        # A hook hands over every YAML file (Helm charts, CI files...): only one that looks
        # like a template is a broken template; anything else is simply not ours.
        if "Resources" in text or "AWSTemplateFormatVersion" in text:
            loaded.errors.append(exc)
        elif explicit:
            loaded.skipped.append(shown)
        else:
            loaded.passed_over.append((shown, "not parsable as YAML or JSON, and names no Resources"))
        return
    if not is_template(data):
        if explicit:
            loaded.skipped.append(shown)
        else:
            loaded.passed_over.append((shown, "parsed, but has no Resources mapping"))
        return
    doc, errors = load_template_roles(data, shown, selection, network)
    doc.identity = _identity(path, path.parent)  # `path` is resolved: the plan's key
    loaded.documents.append(doc)
    loaded.errors.extend(errors)
