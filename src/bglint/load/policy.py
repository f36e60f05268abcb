"""Normalise an IAM policy document into `Statement`s.

Every field becomes a tuple, each Action keeps its own location, and CloudFormation
intrinsics are rendered to text. Malformed statements are reported and skipped so
the rest of the document is still checked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

from bglint import limits
from bglint.errors import InputError, shown
from bglint.iam.managed import managed_policy
from bglint.load.intrinsics import Renderer, is_intrinsic
from bglint.model import Condition, Location, Principal, Statement
from bglint.parse.nodes import UNKNOWN, Pos, Sequence, pos_in, pos_of, text_in
from bglint.regex import Regex

Locate = Callable[[Pos, str], Location]
"""Turns a position inside the document and a logical path into a file Location."""

_PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")
# `${...}` a parameter or function fills in: a whole-Principal text made only of them may be "*".
_PLACEHOLDERS = Regex(r"\$\{[^}]*\}")
_MAX_WRAPPING = 64  # Fn::If around documents and statements; real templates nest a few


class PolicyReader:
    def __init__(
        self, path: str, locate: Locate, renderer: Renderer | None = None, action_locations: bool = True
    ) -> None:
        self.path = path
        self.locate = locate
        self.renderer = renderer or Renderer()
        # Off for documents that are not files (AWS-managed, fetched from an account): an
        # action there is blamed on its statement, and ReadOnlyAccess alone has 3000 actions.
        self.action_locations = action_locations
        self.errors: list[InputError] = []
        # logical paths of documents built by functions bglint cannot resolve: their policies are unknown
        self.unresolved_documents: set[str] = set()

    def statements(self, doc: Any, logical: str, where: Pos = UNKNOWN) -> tuple[Statement, ...]:
        """The statements of `doc`; `where` is the place to blame when `doc` itself has none.

        `doc` may be CloudFormation: a JSON string (also from `Fn::Sub`/`Fn::Join`),
        `Fn::ToJsonString`, or an `Fn::If` between documents, every branch of which counts."""
        result: list[Statement] = []
        for document, conditional in self._documents(doc, logical, where):
            result += self._document(document, logical, where, conditional)
        return tuple(result)

    def _documents(self, doc: Any, logical: str, where: Pos) -> Iterator[tuple[Any, bool]]:
        todo: list[tuple[Any, bool, int]] = [(doc, False, 0)]
        while todo:
            doc, conditional, depth = todo.pop()
            name = next(iter(doc), "") if is_intrinsic(doc) and depth < _MAX_WRAPPING else ""
            if name == "Fn::If" and isinstance(doc[name], list) and len(doc[name]) == 3:
                todo += [(doc[name][2], True, depth + 1), (doc[name][1], True, depth + 1)]
            elif name == "Fn::ToJsonString":
                todo.append((doc[name], conditional, depth + 1))
            elif name == "Ref" and doc[name] == "AWS::NoValue":
                continue
            elif name:
                rendered = list(self.renderer.texts(doc, pos_of(doc) if pos_of(doc) != UNKNOWN else where))
                for text in rendered:
                    parsed = self._json_text(text.text, logical, text.pos, unresolved=text.unresolved)
                    if parsed is not None:
                        yield parsed, conditional or text.conditional or len(rendered) > 1
                if not rendered:
                    self.unresolved_documents.add(logical)
            else:
                yield (None if doc is None else doc), conditional

    def _document(self, doc: Any, logical: str, where: Pos, conditional: bool) -> list[Statement]:
        here = pos_of(doc) if pos_of(doc) != UNKNOWN else where
        if doc is None:
            self._error(where, f"{logical}: missing")
            return []
        if isinstance(doc, str):
            doc = self._json_text(doc, logical, here)
            if doc is None:
                return []
        if not isinstance(doc, dict):
            self._error(here, f"{logical}: a policy document must be a mapping, got {type(doc).__name__}")
            return []
        if not doc:
            return []
        raw = doc.get("Statement")
        if raw is None:
            self._error(here, f"{logical}: policy document has no 'Statement'")
            return []
        items = raw if isinstance(raw, list) else [raw]
        max_statements = limits.current().max_statements
        if len(items) > max_statements:
            message = f"{logical}: {len(items)} statements, more than {max_statements} (limit max-statements)"
            self._error(pos_in(doc, "Statement"), message)
            return []
        result = []
        for index, item in enumerate(items):
            where = pos_in(raw, index) if isinstance(raw, list) else pos_in(doc, "Statement")
            for variant, under_if in _branches(item):
                statement = self._statement(variant, where, f"{logical}/Statement[{index}]")
                if statement is not None:
                    if conditional or under_if:
                        statement = statement._replace(conditional=True)
                    result.append(statement)
        return result

    def _json_text(self, text: str, logical: str, here: Pos, unresolved: str = "") -> Any:
        """CloudFormation also takes a policy document as a JSON string; "" and "{}" mean none.

        A string an unresolved function made, or one whose `${...}` stand outside JSON strings,
        is a document bglint does not have (never an input error: CloudFormation fills it in)."""
        if text.strip() in ("", "{}"):
            return None
        if unresolved:
            self.unresolved_documents.add(logical)
            return None
        if 2 * len(text) > limits.current().max_values:
            # json.loads has no limits of its own: a long string is first counted by our parser.
            from bglint.parse.json_pos import load_json

            try:
                load_json(text, self.path)
            except InputError as exc:
                self._error(here, f"{logical}: policy document: {exc.message}")
                return None
        try:
            return json.loads(text)
        except ValueError as exc:
            if "${" in text:
                self.unresolved_documents.add(logical)
                return None
            self._error(here, f"{logical}: policy document is not valid JSON: {exc}")
            return None
        except RecursionError:
            self._error(here, f"{logical}: policy document is nested too deeply")
            return None

    def _statement(self, item: Any, where: Pos, logical: str) -> Statement | None:
        if not isinstance(item, dict):
            self._error(where, f"{logical}: a statement must be a mapping")
            return None
        here = pos_of(item)
        loc = self.locate(here if here != UNKNOWN else where, logical)
        effect, effect_conditional = self._effect(item.get("Effect"))
        if effect not in ("Allow", "Deny"):
            self._error(pos_in(item, "Effect"), f"{logical}: Effect must be Allow or Deny, got {shown(effect)}")
            return None
        action_key = "NotAction" if "NotAction" in item else "Action"
        resource_key = "NotResource" if "NotResource" in item else "Resource"
        unresolved: list[str] = []
        actions, action_pos, actions_conditional = self._texts(item, action_key, logical, unresolved)
        resources, _, resources_conditional = self._texts(item, resource_key, logical, unresolved)
        principal_key = "NotPrincipal" if "NotPrincipal" in item else "Principal"
        return Statement(
            effect=effect,
            actions=actions,
            resources=resources,
            loc=loc,
            not_action=action_key == "NotAction",
            not_resource=resource_key == "NotResource",
            conditions=self._conditions(item.get("Condition"), logical, unresolved),
            principals=self._principals(item, principal_key, logical, unresolved),
            not_principal=principal_key == "NotPrincipal",
            sid=text_in(item, "Sid"),
            action_locs=tuple(self.locate(pos, f"{logical}/{action_key}[{i}]") for i, pos in enumerate(action_pos))
            if self.action_locations
            else (),
            conditional=actions_conditional or resources_conditional or effect_conditional,
            unresolved=tuple(dict.fromkeys(unresolved)),
        )

    def _effect(self, raw: Any) -> tuple[Any, bool]:
        """`Effect`, which an `Fn::If` may choose: an Allow when either branch allows."""
        if isinstance(raw, str) or not is_intrinsic(raw):
            return raw, False
        options = {r.text for r in self.renderer.texts(raw)}
        if options and options <= {"Allow", "Deny"}:
            return ("Allow" if "Allow" in options else "Deny"), len(options) > 1
        return raw, False

    def _texts(
        self, item: dict[str, Any], key: str, logical: str, unresolved: list[str]
    ) -> tuple[tuple[str, ...], list[Pos], bool]:
        """An Action/Resource field: its texts, where each is, and whether any sits under Fn::If."""
        value = item.get(key)
        if isinstance(value, Sequence) and len(value.item_pos) == len(value) and all(type(v) is str for v in value):
            return tuple(value), value.item_pos, False  # the common case: a list of plain texts
        if key not in item:
            return (), [], False
        wrong = _not_text(value, pos_in(item, key))
        if wrong is not None:  # IAM refuses `Action: 5`; `Action: null` would silently grant nothing
            self._error(wrong[1], f"{logical}: {key} must be text or a list of texts, got {shown(wrong[0])}")
        rendered = list(self.renderer.items(value, pos_in(item, key)))
        unresolved += (r.unresolved for r in rendered if r.unresolved)
        return tuple(r.text for r in rendered), [r.pos for r in rendered], any(r.conditional for r in rendered)

    def _conditions(self, raw: Any, logical: str, unresolved: list[str]) -> tuple[Condition, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self._error(pos_of(raw), f"{logical}: Condition must be a mapping")
            return ()
        result = []
        for operator, block in raw.items():
            if not isinstance(block, dict):
                self._error(pos_in(raw, operator), f"{logical}: Condition {operator} must be a mapping")
                continue
            for key, values in block.items():
                rendered = list(self.renderer.items(values, pos_in(block, key)))
                unresolved += (r.unresolved for r in rendered if r.unresolved)
                texts = tuple(r.text for r in rendered)
                result.append(Condition(str(operator), str(key), texts))
        return tuple(result)

    def _principals(self, item: dict[str, Any], key: str, logical: str, unresolved: list[str]) -> tuple[Principal, ...]:
        """Each principal of a `Principal` element: `"*"`, a map of kinds, or a function giving
        the whole element (`Fn::If` between maps, or a text that only `"*"` can validly be)."""
        result: list[Principal] = []
        for value, _ in _branches(item.get(key)):
            if isinstance(value, str):
                if value == "*":
                    result.append(Principal("*", value))
                else:
                    self._refused_principal(pos_in(item, key), f"{logical}/{key}", value)
            elif is_intrinsic(value):
                result += self._whole_principal(value, pos_in(item, key), f"{logical}/{key}", unresolved)
            elif isinstance(value, dict):
                found = [
                    (kind, rendered)
                    for kind in _PRINCIPAL_KINDS
                    if kind in value
                    for rendered in self.renderer.items(value[kind], pos_in(value, kind))
                ]
                unresolved += (r.unresolved for _, r in found if r.unresolved)
                result += (Principal(kind, rendered.text) for kind, rendered in found)
        return tuple(result)

    def _whole_principal(self, raw: Any, pos: Pos, logical: str, unresolved: list[str]) -> Iterator[Principal]:
        """A function that gives the whole element (`!Ref P`, `!ImportValue`): it yields text, and
        the only text IAM takes there is `"*"`; a placeholder may be it (the trust rule judges
        it as its widest value), any other text is refused by IAM."""
        for rendered in self.renderer.texts(raw):
            if _PLACEHOLDERS.sub("", rendered.text) in ("", "*"):
                unresolved += [rendered.unresolved] if rendered.unresolved else []
                yield Principal("*", rendered.text)
            else:
                self._refused_principal(pos, logical, rendered.text)

    def _refused_principal(self, pos: Pos, logical: str, text: str) -> None:
        """IAM's policy grammar takes a whole Principal (or NotPrincipal) element only as "*" or
        a map of principal kinds: CloudFormation's create fails on any other text."""
        self._error(
            pos,
            f'{logical}: IAM accepts only "*" or a map such as {{AWS: ...}} here, not the text {shown(text)}; '
            "put an ARN or account under AWS",
        )

    def _error(self, pos: Pos, message: str) -> None:
        loc = self.locate(pos, "")
        self.errors.append(InputError(loc.path or self.path, message, loc.line, loc.col))


def _branches(item: Any) -> list[tuple[Any, bool]]:
    """A statement (or a Principal element), or each one an `Fn::If` may put in its place (True: under the If)."""
    found: list[tuple[Any, bool]] = []
    todo = [(item, False, 0)]
    while todo:
        item, under_if, depth = todo.pop()
        arg = item.get("Fn::If") if is_intrinsic(item) else None
        if isinstance(arg, list) and len(arg) == 3 and depth < _MAX_WRAPPING:
            todo += [(arg[2], True, depth + 1), (arg[1], True, depth + 1)]
        elif item != {"Ref": "AWS::NoValue"}:
            found.append((item, under_if))
    return found


def _not_text(value: Any, pos: Pos) -> tuple[Any, Pos] | None:
    """The first number, boolean or null where an IAM field wants text (intrinsics are text)."""
    if isinstance(value, list) and all(type(item) is str for item in value):
        return None  # the common case, without the walk
    todo = [(value, pos)]
    while todo:
        value, pos = todo.pop()
        if isinstance(value, list):
            todo.extend((item, pos_in(value, index)) for index, item in reversed(list(enumerate(value))))
        elif value is None or isinstance(value, bool | int | float):
            return value, pos
    return None


@functools.cache
def aws_managed_statements(name_or_arn: str) -> tuple[Statement, ...] | None:
    """The statements of a pinned AWS-managed policy, parsed once per process.

    Their locations name the policy, not a file: findings point at the reference instead.
    """
    document = managed_policy(name_or_arn)
    if document is None:
        return None
    name = name_or_arn.rsplit("/", 1)[-1]
    source = f"aws-managed:{name}"
    reader = PolicyReader(source, lambda _pos, logical: Location(source, 0, 0, logical), action_locations=False)
    return reader.statements(document, name)
