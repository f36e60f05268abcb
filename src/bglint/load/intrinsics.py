"""Render CloudFormation intrinsic functions to the text a policy would hold.

bglint never evaluates a template; it only needs each value as text an IAM pattern
can be matched against. `Fn::If` yields both branches (either may be deployed), each
marked conditional; `AWS::NoValue` yields nothing; parameters yield their Default (a
`CommaDelimitedList` one item per element), except a parameter named for the install, which
stays a placeholder (`${InstallId}`: each install's own value, whatever its Default); `Fn::FindInMap`, `Fn::Select` and `Fn::Split`
yield every value they may take. A function bglint cannot resolve stays a `${...}`
placeholder (the widest match in an Allow, nothing in a Deny) and says so in `unresolved`.
"""

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from bglint.parse.nodes import Pos, Sequence, pos_in, pos_of
from bglint.regex import Regex

_SUB_VAR = Regex(r"\$\{(!?)([^}]*)\}")
_MAX_NESTING = 64  # intrinsic functions inside each other; real templates nest a handful
_MAX_CHOICES = 64  # renderings of one Fn::Sub with several many-valued variables


class Rendered(NamedTuple):  # a tuple: one is made per action and resource of every policy
    text: str
    pos: Pos
    conditional: bool = False
    unresolved: str = ""  # the function bglint could not resolve, when `text` holds its placeholder


class Renderer:
    """Renders values of one template; knows its parameter defaults and mappings."""

    def __init__(self, parameters: dict[str, Any] | None = None, mappings: dict[str, Any] | None = None) -> None:
        self.defaults: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}  # CommaDelimitedList and List<...> parameters
        self.allowed: dict[str, list[str]] = {}  # AllowedValues
        for name, spec in (parameters or {}).items():
            if not isinstance(spec, dict):
                continue
            if isinstance(spec.get("AllowedValues"), list):
                self.allowed[name] = [str(v) for v in spec["AllowedValues"] if isinstance(v, str | int | float)]
            default = spec.get("Default")
            if isinstance(default, list):
                default = ",".join(str(item) for item in default if isinstance(item, str | int | float))
            is_list = isinstance(spec.get("Type"), str) and (
                spec["Type"] == "CommaDelimitedList" or spec["Type"].startswith("List<")
            )
            if "install" in name.lower():
                continue  # stays `${InstallId}`: a value per install, whatever its Default says
            if isinstance(default, str | int | float) and not isinstance(default, bool):
                self.defaults[name] = str(default)
                if is_list:
                    self.lists[name] = [item.strip() for item in str(default).split(",")]
        self.mappings = mappings if isinstance(mappings, dict) else {}

    def items(self, value: Any, pos: Pos | None = None) -> Iterable[Rendered]:
        """Every text a list-or-scalar field can hold (e.g. `Action`, `Resource`)."""
        here = pos or pos_of(value)
        if type(value) is str:  # the common case, without the general walk
            return (Rendered(value, here),)
        return self._items(value, here, 0)

    def texts(self, value: Any, pos: Pos | None = None) -> Iterator[Rendered]:
        """Every text a scalar field can hold."""
        return self._texts(value, pos or pos_of(value), 0)

    def _items(self, value: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        # Lists and Fn::If branches are walked with a stack: however deep a hostile file
        # nests them, that costs no Python frames.
        stack: list[tuple[Any, Pos, bool]] = [(value, here, False)]
        while stack:
            value, here, conditional = stack.pop()
            if (
                isinstance(value, Sequence)
                and len(value.item_pos) == len(value)
                and all(type(item) is str for item in value)
            ):
                # The common case, a list of plain texts (e.g. actions), without the stack.
                yield from map(Rendered, value, value.item_pos, [conditional] * len(value))
            elif isinstance(value, list):
                stack.extend((value[i], pos_in(value, i), conditional) for i in reversed(range(len(value))))
            elif isinstance(value, dict) and "Fn::If" in value:
                arg = value.get("Fn::If")
                if isinstance(arg, list) and len(arg) == 3:
                    stack += [(arg[2], pos_in(arg, 2), True), (arg[1], pos_in(arg, 1), True)]
            else:
                for rendered in self._list_function(value, here, depth):
                    yield rendered._replace(conditional=True) if conditional else rendered

    def _list_function(self, value: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        """A value where a list is allowed: list-valued functions yield one text per element."""
        if isinstance(value, dict) and len(value) == 1 and depth < _MAX_NESTING:
            name, arg = next(iter(value.items()))
            if name == "Ref" and isinstance(arg, str) and arg in self.lists:
                yield from (Rendered(item, here) for item in self.lists[arg])
                return
            if name == "Fn::Split":
                yield from self._split(arg, here, depth)
                return
            if name in ("Fn::FindInMap", "Fn::Select"):
                yield from self._function(name, arg, value, here, depth)
                return
        yield from self._texts(value, here, depth)

    def _texts(self, value: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if isinstance(value, str):
            yield Rendered(value, here)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            yield Rendered(str(value), here)
        elif isinstance(value, dict) and len(value) == 1:
            yield from self._function(next(iter(value)), next(iter(value.values())), value, here, depth)

    def _function(self, name: str, arg: Any, node: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if depth >= _MAX_NESTING:  # unknown, as an unsupported function is
            yield _unresolved(name, here)
        elif name == "Ref":
            if arg == "AWS::NoValue":
                return
            if isinstance(arg, str) and arg in self.defaults:
                yield Rendered(self.defaults[arg], here)
            else:
                yield Rendered(f"${{{_scalar(arg)}}}", here)
        elif name == "Fn::If":
            arg = node.get("Fn::If")
            if isinstance(arg, list) and len(arg) == 3:
                for index in (1, 2):
                    for item in self._items(arg[index], pos_in(arg, index), depth + 1):
                        yield item._replace(conditional=True)
        elif name == "Fn::Sub":
            yield from self._sub(arg, here, depth)
        elif name == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if isinstance(parts, list):
                yield Rendered("${" + ".".join(_scalar(p) for p in parts) + "}", here)
        elif name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            yield from self._join(arg[0], arg[1], here, depth)
        elif name == "Fn::FindInMap":
            yield from self._find_in_map(arg, here, depth)
        elif name == "Fn::Select":
            yield from self._select(arg, here, depth)
        elif name == "Fn::Split":
            yield from self._split(arg, here, depth)
        else:
            yield _unresolved(name, here)

    def _sub(self, arg: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        template, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, None)
        if not isinstance(template, str):
            yield _unresolved("Fn::Sub", here)
            return
        table = variables if isinstance(variables, dict) else {}
        names = list(dict.fromkeys(m.group(2) for m in _SUB_VAR.finditer(template) if not m.group(1)))
        choices: list[list[Rendered]] = []
        for name in names:
            if name in table:
                found = list(self._texts(table[name], pos_in(table, name), depth + 1))
                choices.append(found or [Rendered("", here)])
            else:
                choices.append([Rendered(self.defaults.get(name, "${" + name + "}"), here)])
        for combination in itertools.islice(itertools.product(*choices), _MAX_CHOICES):
            chosen = dict(zip(names, combination, strict=True))

            def fill(match: re.Match[str], chosen: dict[str, Rendered] = chosen) -> str:
                return "${" + match.group(2) + "}" if match.group(1) else chosen[match.group(2)].text

            yield Rendered(
                _SUB_VAR.sub(fill, template),
                here,
                any(r.conditional for r in combination),
                next((r.unresolved for r in combination if r.unresolved), ""),
            )

    def _find_in_map(self, arg: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        """The value a literal lookup finds; for keys given by parameters, every value it may find."""
        if not isinstance(arg, list) or len(arg) < 3:
            yield _unresolved("Fn::FindInMap", here)
            return
        tables: list[Any] = [self.mappings]
        resolved = True
        for key in arg[:3]:
            wanted = self._keys(key, depth)
            found = []
            for table in tables:
                if not isinstance(table, dict):
                    continue
                exact = [table[k] for k in wanted if k in table]
                found += exact if exact else list(table.values())
                resolved = resolved and bool(exact)
            tables = found
        if not tables:
            default = arg[3].get("DefaultValue") if len(arg) > 3 and isinstance(arg[3], dict) else None
            if default is not None:
                yield from self._items(default, pos_of(default), depth + 1)
            else:
                yield _unresolved("Fn::FindInMap", here)
            return
        for value in tables:
            for item in self._items(value, here, depth + 1):
                yield item if resolved else item._replace(conditional=True)

    def _keys(self, key: Any, depth: int) -> set[str]:
        """The keys a lookup may use: a parameter may be given any of its AllowedValues, or,
        without them, any value at all (its Default is only what is used when none is given)."""
        ref = key.get("Ref") if isinstance(key, dict) and len(key) == 1 else None
        if isinstance(ref, str) and not ref.startswith("AWS::"):
            return set(self.allowed.get(ref, ()))  # empty: every key of the map
        return {r.text for r in self._texts(key, pos_of(key), depth + 1)}

    def _select(self, arg: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if not isinstance(arg, list) or len(arg) != 2:
            yield _unresolved("Fn::Select", here)
            return
        options = list(self._items(arg[1], pos_in(arg, 1), depth + 1))
        index = next(self._texts(arg[0], pos_in(arg, 0), depth + 1), None)
        exact = index is not None and index.text.isdigit() and not any(o.unresolved for o in options)
        if exact and index is not None and int(index.text) < len(options):
            yield options[int(index.text)]
            return
        yield from options or [_unresolved("Fn::Select", here)]

    def _split(self, arg: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]):
            yield _unresolved("Fn::Split", here)
            return
        for source in self._texts(arg[1], pos_in(arg, 1), depth + 1):
            for piece in source.text.split(arg[0]):
                yield source._replace(text=piece)

    def absent_when(self, value: Any, _depth: int = 0) -> str:
        """The condition under which `value` (e.g. a boundary) may be absent or empty, else ""."""
        if not (isinstance(value, dict) and isinstance(value.get("Fn::If"), list) and len(value["Fn::If"]) == 3):
            return ""
        condition, *branches = value["Fn::If"]
        if _depth >= _MAX_NESTING:  # too deep to follow: it may be absent
            return _scalar(condition)
        for branch in branches:
            if not any(r.text.strip() for r in self.items(branch)) or self.absent_when(branch, _depth + 1):
                return _scalar(condition)
        return ""

    def _join(self, delimiter: Any, parts: Any, here: Pos, depth: int) -> Iterator[Rendered]:
        if not isinstance(delimiter, str):
            yield _unresolved("Fn::Join", here)
            return
        if isinstance(parts, dict):  # a list-valued function: a CommaDelimitedList, Fn::Split...
            parts = [item.text for item in self._items(parts, here, depth + 1)]
        if not isinstance(parts, list):
            yield _unresolved("Fn::Join", here)
            return
        texts: list[str] = []
        conditional = False
        unresolved = ""
        for part in parts:
            first = next(self._texts(part, pos_of(part), depth + 1), None)
            texts.append(first.text if first else "")
            conditional = conditional or bool(first and first.conditional)
            unresolved = unresolved or (first.unresolved if first else "")
        yield Rendered(delimiter.join(texts), here, conditional, unresolved)


def _unresolved(name: str, here: Pos) -> Rendered:
    return Rendered("${" + name + "}", here, unresolved=name)


def _scalar(value: Any) -> str:
    """A scalar's text; a container stands as `?` (str() of a deep one would recurse)."""
    return str(value) if isinstance(value, str | int | float | bool) else "?"


def is_intrinsic(value: Any) -> bool:
    """A one-key mapping whose key is Ref, Condition or Fn::*: how CloudFormation declares a
    function. A mapping with other keys beside is data, even if one of them is `Fn::...`."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")
