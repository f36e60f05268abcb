"""YAML text as located containers (CloudFormation templates, configs and rules).

PyYAML composes the node graph (in C when libyaml is available); this module walks it
iteratively, turning short-form intrinsics (`!Ref`, `!Sub`, ...) into CloudFormation's
long form and recording the position of every container, key and value.
"""

from __future__ import annotations

import contextlib
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from bglint import limits
from bglint.errors import InputError, shown
from bglint.parse.nodes import Mapping, Pos, Sequence
from bglint.parse.yamllib import MappingNode, Node, SafeConstructor, ScalarNode, SequenceNode, yaml

_YAML = "tag:yaml.org,2002:"
_MAP = _YAML + "map"
_SEQ = _YAML + "seq"
_MERGE = _YAML + "merge"
_STR = _YAML + "str"

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVERS = _BaseLoader.yaml_implicit_resolvers
# First characters of the plain scalars an implicit resolver (null, bool, int...) may claim;
# a resolver filed under None would look at every scalar, leaving no shortcut.
_CLAIMED_FIRST = frozenset(_RESOLVERS) if None not in _RESOLVERS else None

# libyaml 0.2.6 (PyYAML >= 6.0.4) refuses nesting past its own ceiling (1000) with its own
# message, before bglint's limit is checked. Lift the ceiling above the deepest `max-depth`
# a config may set, so the limit that applies, and is named, is always bglint's.
_DEEPEST_ALLOWED = 5000  # the config schema's maximum for max-depth
_set_ceiling = getattr(getattr(yaml, "_yaml", None), "_set_max_nest_level", None)
if _set_ceiling is not None:
    _set_ceiling(_DEEPEST_ALLOWED + 1)
_LIBRARY_TOO_DEEP = "maximum nesting depth"  # libyaml's refusal, mapped onto bglint's own


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, with the callbacks libyaml makes for every node made cheaper."""

    if not _BaseLoader.yaml_path_resolvers:
        # These two run around every node and serve only path resolvers; with none
        # registered they do nothing, yet as Python calls they cost a tenth of the parse.
        # C built-ins that accept the same arguments and do nothing stand in for them.
        descend_resolver = operator.is_
        ascend_resolver = tuple

        def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
            """The tag of an untagged node, as the base resolver gives it without path resolvers."""
            if kind is not ScalarNode:
                return _MAP if kind is MappingNode else _SEQ
            # Only a plain scalar may be claimed by an implicit resolver (null, bool, int...),
            # and most (names, actions, ARNs) start with a character none of them claims.
            if implicit[0] and (not value or _CLAIMED_FIRST is None or value[0] in _CLAIMED_FIRST):
                resolved: str = super().resolve(kind, value, implicit)
                return resolved
            return _STR


# Scalars whose value YAML 1.1 safe loading decides, by PyYAML's own constructors.
_CONSTRUCTORS: dict[str, Callable[[Any, ScalarNode], Any]] = {
    _YAML + name: SafeConstructor.yaml_constructors[_YAML + name] for name in ("null", "bool", "int", "float")
}
# Scalars kept as their text: CloudFormation means `2010-09-09` as a string, and
# the merge (`<<`) and value (`=`) tags are only special as keys.
_TEXT_TAGS = frozenset(_YAML + name for name in ("str", "timestamp", "merge", "value"))

_INTRINSICS: dict[str, str] = {"!Ref": "Ref", "!Condition": "Condition"} | {
    f"!{name}": f"Fn::{name}"
    for name in (
        "And", "Base64", "Cidr", "Equals", "FindInMap", "ForEach", "GetAtt", "GetAZs",
        "If", "ImportValue", "Join", "Length", "Not", "Or", "Select", "Split", "Sub",
        "ToJsonString", "Transform",
    )
}  # fmt: skip

# YAML 1.1's line breaks, which libyaml counts lines by
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# str.splitlines also breaks at these, which YAML does not
_OTHER_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e")
# The tag and/or anchor in front of a node's value
_NODE_PROPERTIES = re.compile(r"(?:[!&][^ \t]*[ \t]*)+")


class _Mark(Protocol):
    """A PyYAML position (0-based); libyaml and pure Python each have a Mark class."""

    line: int
    column: int


def load_yaml(text: str, path: str) -> Any:
    """Parse one YAML document into located containers; None for an empty document."""
    text = text.removeprefix("\ufeff")
    lines = _lines(text)
    root, loader = _compose(text, lines, path)
    if root is None:
        return None
    if "&" in text:  # aliases need anchors, and only aliases can make a document expand
        _check_expansion(root, path)
    return _Builder(path, lines, loader).build(root)


def check_shape(text: str, path: str) -> None:
    """Refuse YAML nested deeper than `max_depth` or holding more than `max_values` values.

    For callers of `yaml.load` (config, rule files): libyaml's composer recurses in C and
    crashes the interpreter on deep nesting, so the limits are checked on the flat event stream
    first. Cheap text bounds skip the event pass for small, shallow documents.
    """
    with contextlib.suppress(yaml.YAMLError):  # a syntax error: the caller's own parse reports it
        _check_shape(text, _lines(text), path)


def _check_shape(text: str, lines: list[str], path: str) -> None:
    limit = limits.current()
    if _nesting_bound(text, lines) > limit.max_depth or 2 * len(text) > limit.max_values:
        _check_events(text, path)


def _compose(text: str, lines: list[str], path: str) -> tuple[Node | None, Any]:
    """The document's node graph, and the loader whose constructors resolve scalars."""
    try:
        _check_shape(text, lines, path)
        loader = _Loader(text)
        try:
            return loader.get_single_node(), loader
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, path) from None
    except yaml.reader.ReaderError as exc:
        # The position is a byte offset under libyaml, a character index in pure Python.
        index = text.find(chr(exc.character))
        line, col = _line_col(text, index) if index >= 0 else (0, 0)
        message = f"invalid YAML: character #x{exc.character:04x} is not allowed"
        raise InputError(path, message, line, col) from None
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from surrogateescape
        message = "invalid YAML: text is not valid Unicode"
        raise InputError(path, message, *_line_col(text, exc.start)) from None
    except RecursionError:  # the pure-Python composer recurses, and gives up earlier
        raise InputError(path, "nesting too deep to parse") from None


def _lines(text: str) -> list[str]:
    """The text split where libyaml counts a new line."""
    if any(other in text for other in _OTHER_BREAKS):
        return _LINE_BREAK.split(text)
    lines = text.splitlines()  # a quarter of the regular expression's time
    if not text or text[-1] in "\r\n\x85\u2028\u2029":
        lines.append("")  # the empty line after the last break, as the regular expression gives
    return lines


def _nesting_bound(text: str, lines: list[str]) -> int:
    """A cheap upper bound on how deep collections nest.

    Each flow collection needs a bracket; block collections must indent at least every
    second level, so their depth is at most twice the longest line.
    """
    return text.count("[") + text.count("{") + 2 * max(map(len, lines)) + 2


def _check_events(text: str, path: str) -> None:
    """Refuse deep nesting and too many values before composing anything.

    libyaml's composer recurses in C and crashes the interpreter somewhere past 10,000
    levels, and composing costs far more per value than parsing; the event stream is flat
    and cheap, so count depth and values there, stopping at the first excess.
    """
    limit = limits.current()
    parser = _Loader(text)
    depth = values = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.NodeEvent):  # scalars, aliases, collection starts
                values += 1
                if values > limit.max_values:
                    raise InputError(path, limits.too_many_values(limit.max_values), *_mark_pos(event.start_mark))
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > limit.max_depth:
                        raise _too_deep(path, _mark_pos(event.start_mark))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if _LIBRARY_TOO_DEEP in str(exc.problem):
            raise _too_deep(path, _mark_pos(exc.problem_mark)) from None
        raise
    finally:
        parser.dispose()


def _check_expansion(root: Node, path: str) -> None:
    """Refuse alias bombs and cycles before building anything.

    An alias is the very node of its anchor, so the graph is small while its expansion
    can be exponential; sizes are summed bottom-up, once per distinct node.
    """
    max_values = limits.current().max_values
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_sized = stack.pop()
        children = _children(node)
        if children_sized:
            in_progress.discard(id(node))
            sizes[id(node)] = size = 1 + sum(sizes[id(child)] for child in children)
            if size > max_values:
                message = f"document expands to more than {max_values} values (YAML alias bomb?; limit max-values)"
                raise InputError(path, message)
        elif id(node) in in_progress:
            raise InputError(path, "an alias refers to a node containing it", *_pos(node))
        elif id(node) not in sizes:
            in_progress.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [value for _, value in node.value]
    return node.value if isinstance(node, SequenceNode) else []


def _syntax_error(exc: yaml.MarkedYAMLError, path: str) -> InputError:
    line, col = _mark_pos(exc.problem_mark or exc.context_mark)
    if _LIBRARY_TOO_DEEP in str(exc.problem):
        return _too_deep(path, (line, col))
    if exc.context == "expected a single document in the stream":
        return InputError(path, "more than one YAML document", line, col)
    problem = " ".join(str(exc.problem or exc.context).split())
    if problem == "second occurrence" and exc.context:  # of an anchor
        first_line = _mark_pos(exc.context_mark)[0]
        problem = f"{exc.context.partition(';')[0]} (first at line {first_line})"
    return InputError(path, f"invalid YAML: {problem}", line, col)


def _too_deep(path: str, pos: Pos) -> InputError:
    return InputError(path, f"nesting deeper than {limits.current().max_depth} levels", *pos)


def _line_col(text: str, index: int) -> Pos:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _mark_pos(mark: _Mark | None) -> Pos:
    return (mark.line + 1, mark.column + 1) if mark else (0, 0)


def _pos(node: Node) -> Pos:
    return _mark_pos(node.start_mark)


def _tag_name(tag: str) -> str:
    return tag.replace(_YAML, "!!")


class _Builder:
    """Turns a composed node graph into located containers, without recursion.

    Containers are created empty and filled later from a stack, so nesting depth costs
    no Python frames. An alias is the very node of its anchor and is expanded again each
    time it is reached, as a plain YAML load would (`_check_expansion` bounds the cost).
    Plain string scalars and plain containers, most of any template, are handled inline in
    the fill loops: this walk costs more than libyaml's parse, so per-node calls matter.
    """

    def __init__(self, path: str, lines: list[str], loader: Any) -> None:
        self.path = path
        self.lines = lines
        self.loader = loader
        self.max_depth = limits.current().max_depth
        self.pending: list[tuple[Node, Mapping | Sequence, int]] = []

    def build(self, root: Node) -> Any:
        value = self.value(root, 1)
        pending = self.pending
        while pending:
            node, container, depth = pending.pop()
            start = len(pending)
            if isinstance(container, Mapping):
                self.fill_mapping(node, container, depth)
            else:
                self.fill_sequence(node, container, depth)
            if len(pending) - start > 1:
                # Fill children in document order, so the first error reported comes first.
                pending[start:] = reversed(pending[start:])
        return value

    def error(self, node: Node, message: str) -> InputError:
        return InputError(self.path, message, *_pos(node))

    def value(self, node: Node, depth: int) -> Any:
        """A scalar at once; a container empty for now, with its filling queued."""
        name = _INTRINSICS.get(node.tag)
        if name is not None:
            return self.intrinsic(node, name, depth)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if node.tag == (_MAP if isinstance(node, MappingNode) else _SEQ):
            return self.container(node, _pos(node), depth)
        raise self.error(node, f"unknown YAML tag '{_tag_name(node.tag)}'")

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag in _TEXT_TAGS:
            return node.value
        construct = _CONSTRUCTORS.get(node.tag)
        if construct is None:
            raise self.error(node, f"unknown YAML tag '{_tag_name(node.tag)}'")
        try:
            return construct(self.loader, node)
        except (ValueError, KeyError, IndexError):  # an explicit `!!int abc` or `!!int`
            raise self.error(node, f"invalid {_tag_name(node.tag)} value {shown(node.value)}") from None

    def intrinsic(self, node: Node, name: str, depth: int) -> Mapping:
        """`!Name value` as `{"Fn::Name": value}`, located at the tag."""
        tag_pos = _pos(node)
        value_pos = self.content_pos(node)
        value: Any
        if isinstance(node, ScalarNode):
            value = node.value  # a tagged scalar is never resolved: `!Ref 1` means "1"
            if name == "Fn::GetAtt":
                value = Sequence(value_pos)
                for part in node.value.split(".", 1):
                    value.push(part, value_pos)
        else:
            value = self.container(node, value_pos, depth + 1)
        wrapper = Mapping(tag_pos)
        wrapper.put(name, value, tag_pos, value_pos)
        return wrapper

    def content_pos(self, node: Node) -> Pos:
        """Where the value under a tag starts (a tagged node's mark is at the tag)."""
        mark = node.start_mark
        line = self.lines[mark.line]
        properties = _NODE_PROPERTIES.match(line, mark.column)
        column = properties.end() if properties else mark.column
        if column < len(line) and line[column] != "#":
            return mark.line + 1, column + 1
        # The value starts on a later line: a block collection starts at its first entry
        # (a block sequence at the item, not its dash).
        if isinstance(node, MappingNode) and node.value:
            return _pos(node.value[0][0])
        if isinstance(node, SequenceNode) and node.value:
            return _pos(node.value[0])
        return _pos(node)

    def container(self, node: Node, pos: Pos, depth: int) -> Mapping | Sequence:
        if depth > self.max_depth:
            raise _too_deep(self.path, _pos(node))
        container = Mapping(pos) if isinstance(node, MappingNode) else Sequence(pos)
        self.pending.append((node, container, depth))
        return container

    def fill_sequence(self, node: Node, sequence: Sequence, depth: int) -> None:
        items, item_pos, pending, nested = sequence, sequence.item_pos, self.pending, depth < self.max_depth
        for item in node.value:
            mark = item.start_mark
            where = (mark.line + 1, mark.column + 1)
            tag = item.tag
            if tag == _STR and type(item) is ScalarNode:
                items.append(item.value)
            elif nested and tag == _MAP and type(item) is MappingNode:
                items.append(table := Mapping(where))
                pending.append((item, table, depth + 1))
            elif nested and tag == _SEQ and type(item) is SequenceNode:
                items.append(array := Sequence(where))
                pending.append((item, array, depth + 1))
            else:
                items.append(self.value(item, depth + 1))
            item_pos.append(where)

    def fill_mapping(self, node: Node, mapping: Mapping, depth: int) -> None:
        merges: list[Node] = []
        key_pos, value_pos, pending, nested = mapping.key_pos, mapping.value_pos, self.pending, depth < self.max_depth
        for key_node, value_node in node.value:
            if key_node.tag == _STR and type(key_node) is ScalarNode:
                key = key_node.value
            elif key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            else:
                key = self.key(key_node)
            if key in mapping:
                raise self.error(key_node, f"duplicate key {key!r} (first at line {key_pos[key][0]})")
            mark = value_node.start_mark
            where = (mark.line + 1, mark.column + 1)
            tag = value_node.tag
            if tag == _STR and type(value_node) is ScalarNode:
                mapping[key] = value_node.value
            elif nested and tag == _MAP and type(value_node) is MappingNode:
                mapping[key] = table = Mapping(where)
                pending.append((value_node, table, depth + 1))
            elif nested and tag == _SEQ and type(value_node) is SequenceNode:
                mapping[key] = array = Sequence(where)
                pending.append((value_node, array, depth + 1))
            else:
                mapping[key] = self.value(value_node, depth + 1)
            value_pos[key] = where
            mark = key_node.start_mark
            key_pos[key] = (mark.line + 1, mark.column + 1)
        for key_node, value_node in self.merged_pairs(merges):
            key = self.key(key_node)
            if key not in mapping:  # own keys, then earlier merges, take precedence
                mapping.put(key, self.value(value_node, depth + 1), _pos(key_node), _pos(value_node))

    def key(self, node: Node) -> str:
        """A key keeps its text: `0755:` means "0755", not the octal number 493."""
        if isinstance(node, ScalarNode) and (node.tag in _TEXT_TAGS or node.tag in _CONSTRUCTORS):
            key: str = node.value
            return key
        raise self.error(node, "mapping key must be a plain string")

    def merged_pairs(self, sources: list[Node]) -> Iterator[tuple[Node, Node]]:
        """The entries `<<` merges in, in precedence order (nested merges included)."""
        todo = sources[::-1]
        while todo:
            source = todo.pop()
            if isinstance(source, SequenceNode) and source.tag == _SEQ:
                todo.extend(source.value[::-1])
            elif isinstance(source, MappingNode) and source.tag == _MAP:
                nested = []
                for key_node, value_node in source.value:
                    if key_node.tag == _MERGE:
                        nested.append(value_node)
                    else:
                        yield key_node, value_node
                todo.extend(nested[::-1])
            else:
                raise self.error(
                    source,
                    "a merge ('<<') value must be a mapping or a list of mappings",
                )
