"""BG020: the runbook addresses every topic of the break-glass workflow, for every role.

Like every predicate it reads the model only; the runbook was read by the loaders.
"""

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit
from bglint.model import ACCESS_LEVELS, NUON_TEMPLATE, DocumentKind, Location, Role, SourceKind
from bglint.regex import Regex

if TYPE_CHECKING:
    from bglint.model.nuon import Runbook, RunbookSection

_TEMPLATE = Regex(NUON_TEMPLATE)
_GENERIC_NAME = Regex(r"^(?:break[-_ ]?glass|bg|role|access|[-_ ])+$", re.IGNORECASE)
_PLACEHOLDER_LINE = Regex(r"^\s*(?:[-*+]\s*|\d+[.)]\s*)?(?:TODO|TBD|FIXME|XXX|N/?A\b|coming soon|\.\.\.)", re.I)
_LIST_OR_ROW = Regex(r"^\s*(?:[-*+]\s|\d+[.)]\s|\|)")


class _Topic(NamedTuple):
    id: str
    title: str
    why: str
    fix: str
    headings: tuple[re.Pattern[str], ...]
    keywords: tuple[re.Pattern[str], ...]
    each_role: bool


class _BadParams(ValueError):
    pass


def _topic_items(params: dict[str, Any]) -> list[dict[str, Any]]:
    raw = params.get("topics")
    if not isinstance(raw, list) or not raw:
        raise _BadParams("check.params.topics must be a non-empty list of topics")
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("title"), str):
            raise _BadParams(f"check.params.topics[{index}] must be a mapping with a string id and title")
    return raw


def _topics(items: list[dict[str, Any]]) -> list[_Topic]:
    return [
        _Topic(
            id=item["id"],
            title=item["title"],
            why=str(item.get("why", "")),
            fix=str(item.get("fix", "")),
            headings=_patterns(item.get("headings", []), f"check.params.topics[{index}].headings"),
            keywords=_patterns(item.get("keywords", []), f"check.params.topics[{index}].keywords"),
            each_role=bool(item.get("each-role", False)),
        )
        for index, item in enumerate(items)
    ]


def _levels(params: dict[str, Any]) -> tuple[str, ...]:
    raw = params.get("levels", list(ACCESS_LEVELS))
    if not isinstance(raw, list) or not raw or not all(isinstance(level, str) for level in raw):
        raise _BadParams("check.params.levels must be a non-empty list of words")
    return tuple(level.lower() for level in raw)


def _patterns(raw: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise _BadParams(f"{where} must be a list of regular expressions")
    compiled = []
    for index, pattern in enumerate(raw):
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise _BadParams(f"{where}[{index}] is not a valid regular expression: {exc}") from None
    return tuple(compiled)


@predicate
def runbook_lacks_topic(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """The app's runbook is missing, or does not address a topic of the rule's `topics`."""
    doc = subject.document
    if doc.kind != DocumentKind.APP:
        return
    roles = [r for r in doc.roles if r.source_kind == SourceKind.NUON_BREAK_GLASS]
    runbook = doc.runbook
    if runbook is None and not (roles and doc.runbook_searched):
        return  # no break-glass roles, or a runbook the loader could not read (an input error)
    # the runbook's first line, else break_glass.toml's (a file, never the app directory)
    anchor = Location(runbook.path if runbook else roles[0].loc.path, 1, 1, "runbook")
    try:
        items = _topic_items(params)
        levels = _levels(params)
        # Patterns are compiled (and so checked) only for a runbook to search: BG020's are 51.
        topics = _topics(items) if runbook is not None else []
    except _BadParams as exc:
        yield Hit(anchor, f"this rule's parameters are invalid: {exc}", "correct the rule file", "params")
        return
    if runbook is None:
        yield Hit(
            anchor,
            f"app {doc.path} declares break-glass roles but has no break-glass runbook (looked for "
            f"{', '.join(doc.runbook_searched)}): during an incident nobody has the agreed steps for when to "
            "break glass, sharing the Quick-create link and uninstalling the stack",
            f"write {doc.path}/RUNBOOK.md with a section per topic ({', '.join(item['id'] for item in items)})",
            "runbook-missing",
        )
        return
    headings = {s.loc.line for s in runbook.sections if s.level}
    body = "\n".join(text for number, text in enumerate(runbook.lines, start=1) if number not in headings)
    top = anchor
    for topic in topics:
        section = _section_for(topic, runbook, headings)
        addressed = section is not None or any(k.search(body) for k in topic.keywords)
        where = section.loc if section is not None else top
        if not topic.each_role:
            if not addressed:
                yield _topic_hit(runbook, topic, top, "")
            continue
        gaps = [(role, _role_gap(role, roles, runbook, headings, levels)) for role in roles]
        gaps = [(role, gap) for role, gap in gaps if gap]
        if not addressed and (gaps or not roles):
            wanted = ", ".join(f"'{r.name}'" + (f" ({r.level})" if r.level else "") for r in roles)
            yield _topic_hit(
                runbook,
                topic,
                top,
                f"; name each role of break_glass.toml with its access level: {wanted}" if roles else "",
            )
            continue
        for role, gap in gaps:
            yield Hit(
                where,
                f"runbook {runbook.path} {gap}: responders cannot tell how much access it gives or when to "
                f"choose it over the others (topic '{topic.id}')",
                f"add '{role.name}' with its access level ({role.level or ' / '.join(levels)}) and when to use it",
                f"topic:{topic.id}:role:{role.name}",
            )


def _topic_hit(runbook: "Runbook", topic: _Topic, where: Location, extra: str) -> Hit:
    why = f": {topic.why}" if topic.why else ""
    fix = topic.fix or f"add a section '## {topic.title[:1].upper()}{topic.title[1:]}'"
    return Hit(
        where,
        f"runbook {runbook.path} does not say {topic.title} (topic '{topic.id}'){why}{extra}",
        fix,
        f"topic:{topic.id}",
    )


def _section_for(topic: _Topic, runbook: "Runbook", headings: set[int]) -> "RunbookSection | None":
    """The first section whose heading matches the topic and that says something."""
    for section in runbook.sections:
        if (
            section.level
            and any(p.search(section.title) for p in topic.headings)
            and _says_something(section, headings)
        ):
            return section
    return None


def _says_something(section: "RunbookSection", headings: set[int]) -> bool:
    return any(number not in headings and not _PLACEHOLDER_LINE.match(text) for number, text in section.lines)


def _name_pattern(role: Role) -> re.Pattern[str]:
    """How a runbook names a role: its fixed part (install-id templates left out), case-insensitively.

    A generic fixed part (`-break-glass`) only counts right after a placeholder, as in
    `{{.nuon.install.id}}-break-glass` or `<install-id>-break-glass`.
    """
    parts = [p.strip("-_. ") for p in _TEMPLATE.split(role.name)]
    fixed = max(parts, key=len) if parts else ""
    if len(fixed) < 3:
        return re.compile(re.escape(role.name), re.IGNORECASE)
    body = re.escape(fixed)
    if _GENERIC_NAME.match(fixed):
        return re.compile(r"(?:\}\}?|>|\*)[-_. ]?" + body + r"(?!-?[A-Za-z0-9])", re.IGNORECASE)
    return re.compile(r"(?<![A-Za-z0-9])" + body + r"(?!-?[A-Za-z0-9])", re.IGNORECASE)


def _role_gap(role: Role, roles: list[Role], runbook: "Runbook", headings: set[int], levels: tuple[str, ...]) -> str:
    """'' when the runbook names the role with its access level, else what is missing."""
    pattern = _name_pattern(role)
    mentions = [n for n, text in enumerate(runbook.lines, start=1) if pattern.search(text)]
    if not mentions:
        return f"does not name break-glass role '{role.name}'"
    wanted = (role.level,) if role.level else levels
    names = [_name_pattern(r) for r in roles]
    for number in mentions:
        block = _block(runbook, number, headings)
        for name in names:
            block = name.sub(" ", block)
        if any(re.search(rf"(?<![A-Za-z]){re.escape(level)}(?![A-Za-z])", block, re.IGNORECASE) for level in wanted):
            return ""
    what = f"its declared access level ({role.level})" if role.level else f"its access level ({', '.join(levels)})"
    return f"names break-glass role '{role.name}' but not {what}"


def _block(runbook: "Runbook", number: int, headings: set[int]) -> str:
    """The text that speaks of line `number`: its list item, table row or paragraph; a heading's body."""
    lines = runbook.lines
    if number in headings:
        section = next(s for s in runbook.sections if s.level and s.loc.line == number)
        end = next((n for n, _ in section.lines if n in headings), None)
        return "\n".join([lines[number - 1], *(t for n, t in section.lines if end is None or n < end)])
    start = end = number
    if not _LIST_OR_ROW.match(lines[number - 1]):
        while (
            start > 1
            and lines[start - 2].strip()
            and start - 1 not in headings
            and not _LIST_OR_ROW.match(lines[start - 2])
        ):
            start -= 1
    while end < len(lines) and lines[end].strip() and end + 1 not in headings and not _LIST_OR_ROW.match(lines[end]):
        end += 1
    return "\n".join(lines[start - 1 : end])
