"""An app's break-glass runbook (Markdown) and the Quick-create links it shares.

The runbook is found by convention in the app directory (RUNBOOK.md, BREAK_GLASS.md,
docs/break-glass*.md, docs/runbook*.md, any case) or named in the bglint config, and read
into a small model: headings with the lines under them, and links with their positions.
Quick-create links are collected from the runbook and from the app's top-level TOML files
(stack.toml...); a link whose templateURL ends with the file name of a template in the app
directory gets that template's parameters, so BG021 can check them. Nothing is fetched.
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from bglint.errors import InputError
from bglint.load.cloudformation.detect import is_template, load_template_text
from bglint.load.cloudformation.stackfacts import read_parameters
from bglint.model import RUNBOOK_NAMES, Document, Location, Parameter
from bglint.model.nuon import QuickCreateLink, Runbook, RunbookLink, RunbookSection
from bglint.parse.files import read_text
from bglint.quickcreate import is_quickcreate, parse
from bglint.regex import Regex

# Searched in this order, file names compared without regard to case.
RUNBOOK_PATTERNS = (
    "runbook.md",
    "break_glass.md",
    "break-glass.md",
    "docs/break-glass*.md",
    "docs/break_glass*.md",
    "docs/runbook*.md",
)

# Every pattern here runs on untrusted text and Python's re cannot be interrupted: each one is
# linear (anchored, or with bounded repeats), and the rest is done with string methods.
_ATX = Regex(r" {0,3}(#{1,6})(?=[ \t]|$)")
_SETEXT = Regex(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = Regex(r"^ {0,3}(`{3,}|~{3,})")
_REFERENCE_LABEL = Regex(r" {0,3}\[([^\[\]\n]{1,300})\]:[ \t]*<?")
_MAX_LABEL = 300
_BARE_URL = Regex(r"https?://[^\s<>\"'`)\]]+")
_TRAILING = ".,;:!?*_"
_SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".terraform", "permissions"}
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template", ".cfn")


def attach_workflow(doc: Document, root: Path, shown_root: str, configured: str = "") -> list[InputError]:
    """Find and read the app's runbook and its Quick-create links into `doc`; input problems returned."""
    errors: list[InputError] = []
    doc.runbook_searched = (configured,) if configured else RUNBOOK_NAMES
    path = (root / configured) if configured else find_runbook(root)
    if path is not None and configured and not path.is_file():
        errors.append(InputError(_display(root, shown_root, path), "runbook named in the bglint config not found"))
        doc.runbook_searched = ()  # the input error says it: BG020 does not report it missing too
        path = None
    texts: list[tuple[str, str, bool]] = []  # (shown, text, is the runbook)
    if path is not None:
        shown = _display(root, shown_root, path)
        try:
            # a runbook found by convention must really be in the app (not a symlink out of it);
            # one the user's own config names may live elsewhere
            text = read_text(path, shown, None if configured else root)
        except InputError as exc:
            errors.append(exc)
            doc.runbook_searched = ()
        else:
            doc.runbook = parse_runbook(text, shown)
            texts.append((shown, text, True))
    for toml in sorted(root.glob("*.toml")):
        shown = _display(root, shown_root, toml)
        try:
            texts.append((shown, read_text(toml, shown, root), False))
        except InputError:
            continue  # the app loader reports unreadable app files
    templates: dict[str, Path] | None = None
    for shown, text, is_runbook in texts:
        links = doc.runbook.links if is_runbook and doc.runbook else _links_in_text(text, shown)
        for link in links:
            if not is_quickcreate(link.url):
                continue
            if templates is None:
                templates = _templates_by_name(root)
            template, parameters = _linked_template(link.url, templates, root, shown_root)
            doc.quickcreate_links.append(QuickCreateLink(link.url, link.loc, template, parameters))
    return errors


def find_runbook(root: Path) -> Path | None:
    for pattern in RUNBOOK_PATTERNS:
        folder, _, name = pattern.rpartition("/")
        directory = root / folder if folder else root
        if not directory.is_dir():
            continue
        matches = sorted(p for p in directory.iterdir() if p.is_file() and fnmatchcase(p.name.lower(), name))
        if matches:
            return matches[0]
    return None


def _display(root: Path, shown_root: str, path: Path) -> str:
    try:
        return str(Path(shown_root) / path.relative_to(root))
    except ValueError:
        return str(path)


# -- Markdown ---------------------------------------------------------------------------


def parse_runbook(text: str, shown: str) -> Runbook:
    """Headings (ATX and setext) with the lines under them, and links; code blocks never hold headings."""
    lines = _blank_comments(text.splitlines())
    headings: list[tuple[int, int, str, int]] = []  # (index, level, title, column)
    fence = ""
    for index, line in enumerate(lines):
        opener = _FENCE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = ""
            continue
        if opener:
            fence = opener.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            headings.append((index, len(atx.group(1)), _atx_title(line[atx.end() :]), line.index("#") + 1))
        elif index > 0 and _SETEXT.match(line) and lines[index - 1].strip() and not _is_heading(headings, index - 1):
            if not _paragraph_line(lines[index - 1]) or _FENCE.match(lines[index - 1]):
                continue
            level = 1 if line.strip().startswith("=") else 2
            headings.append(
                (index - 1, level, lines[index - 1].strip(), len(lines[index - 1]) - len(lines[index - 1].lstrip()) + 1)
            )
    sections = [_section(shown, lines, headings, i) for i in range(len(headings))]
    first = headings[0][0] if headings else len(lines)
    preamble = tuple((n + 1, lines[n]) for n in range(first) if lines[n].strip())
    if preamble:
        sections.insert(0, RunbookSection("", 0, Location(shown, 1, 1, "runbook"), preamble))
    return Runbook(shown, tuple(lines), tuple(sections), tuple(_links_in_lines(lines, shown)))


def _atx_title(rest: str) -> str:
    """The heading text: surrounding blanks and a closing run of #s (after a blank) left out."""
    title = rest.strip()
    unclosed = title.rstrip("#")
    if unclosed != title and (not unclosed or unclosed[-1] in " \t"):
        title = unclosed.strip()
    return title


def _is_heading(headings: list[tuple[int, int, str, int]], index: int) -> bool:
    return bool(headings) and headings[-1][0] == index


def _paragraph_line(line: str) -> bool:
    """A line that can be a setext heading's text (not a list item, quote or table row)."""
    stripped = line.strip()
    return bool(stripped) and not re.match(r"^(?:[-*+>|]|\d+[.)])\s", stripped)


def _section(shown: str, lines: list[str], headings: list[tuple[int, int, str, int]], i: int) -> RunbookSection:
    index, level, title, col = headings[i]
    setext = index + 1 < len(lines) and _SETEXT.match(lines[index + 1]) is not None and not _ATX.match(lines[index])
    start = index + (2 if setext else 1)
    end = next((h[0] for h in headings[i + 1 :] if h[1] <= level), len(lines))
    body = tuple((n + 1, lines[n]) for n in range(start, end) if lines[n].strip())
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return RunbookSection(title, level, Location(shown, index + 1, col, f"runbook/{slug}"), body)


def _blank_comments(lines: list[str]) -> list[str]:
    """HTML comments and YAML front matter become blank text (line numbers are kept)."""
    out = list(lines)
    if out and out[0].strip() == "---":
        end = next((i for i in range(1, len(out)) if out[i].strip() in ("---", "...")), None)
        if end is not None:
            for i in range(end + 1):
                out[i] = ""
    joined = "\n".join(out)
    pieces, at = [], 0
    while (start := joined.find("<!--", at)) >= 0:
        end = joined.find("-->", start + 4)
        end = len(joined) if end < 0 else end + 3  # an unclosed comment runs to the end
        pieces += [joined[at:start], re.sub(r"[^\n]", " ", joined[start:end])]
        at = end
    pieces.append(joined[at:])
    return "".join(pieces).split("\n")


def _links_in_lines(lines: list[str], shown: str) -> list[RunbookLink]:
    """Absolute URLs: bare, in `[text](url)`, `<url>` or a `[label]: url` definition, with their text."""
    links = []
    for number, line in enumerate(lines, start=1):
        for match in _BARE_URL.finditer(line):
            start = match.start()
            links.append(RunbookLink(match.group(0).rstrip(_TRAILING), _label(line, start), _loc(shown, number, start)))
    return links


def _label(line: str, start: int) -> str:
    """The link text of `[text](url)` or `[text]: url` for a URL at `start`, else ""."""
    before = line[max(0, start - _MAX_LABEL - 4) : start]
    if before.endswith(("](", "](<")):
        close = before.rfind("]")
        opening = before.rfind("[", 0, close)
        if opening >= 0 and "]" not in before[opening + 1 : close]:
            return before[opening + 1 : close]
    definition = _REFERENCE_LABEL.fullmatch(line, 0, start) if start <= _MAX_LABEL + 8 else None
    return definition.group(1) if definition else ""


def _links_in_text(text: str, shown: str) -> list[RunbookLink]:
    """Bare URLs in any text (TOML files): a link is a URL wherever it sits."""
    return [
        RunbookLink(match.group(0).rstrip(_TRAILING), "", _loc(shown, number, match.start()))
        for number, line in enumerate(text.splitlines(), start=1)
        for match in _BARE_URL.finditer(line)
    ]


def _loc(shown: str, line: int, start: int) -> Location:
    return Location(shown, line, start + 1, f"link@{line}")


# -- the template a link installs ---------------------------------------------------------


def _templates_by_name(root: Path) -> dict[str, Path]:
    """Template-looking files of the app by file name; a name found twice maps to nothing (ambiguous)."""
    found: dict[str, Path] = {}
    ambiguous: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(_TEMPLATE_SUFFIXES):
                if name in found:
                    ambiguous.add(name)
                found.setdefault(name, Path(folder) / name)
    return {name: path for name, path in found.items() if name not in ambiguous}


def _linked_template(
    url: str, templates: dict[str, Path], root: Path, shown_root: str
) -> tuple[str, tuple[Parameter, ...] | None]:
    template_url = parse(url).template_url or ""
    name = PurePosixPath(unquote(urlsplit(template_url).path)).name if template_url else ""
    path = templates.get(name) if name else None
    if path is None:
        return "", None
    shown = _display(root, shown_root, path)
    try:
        data = load_template_text(read_text(path, shown, root), shown)
    except InputError:
        return "", None  # the template loader reports it
    if not is_template(data):
        return "", None
    return shown, read_parameters(data, shown)
