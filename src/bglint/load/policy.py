"""Normalise an IAM policy document into `Statement`s.

Every field becomes a tuple, each Action keeps its own location, and CloudFormation
intrinsics are rendered to text. Malformed statements are reported and skipped so
the rest of the document is still checked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from bglint import limits
from bglint.errors import InputError, shown
from bglint.iam.managed import managed_policy
from bglint.load.intrinsics import Renderer
from bglint.model import Condition, Location, Principal, Statement
from bglint.parse.json_pos import load_json
from bglint.parse.nodes import UNKNOWN, Pos, Sequence, pos_in, pos_of, text_in

Locate = Callable[[Pos, str], Location]
"""Turns a position inside the document and a logical path into a file Location."""

_PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")


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

    def statements(self, doc: Any, logical: str, where: Pos = UNKNOWN) -> tuple[Statement, ...]:
        """The statements of `doc`; `where` is the place to blame when `doc` itself has none."""
        here = pos_of(doc) if pos_of(doc) != UNKNOWN else where
        if doc is None:
            self._error(where, f"{logical}: missing")
            return ()
        if isinstance(doc, str):
            doc = self._json_text(doc, logical, here)
            if doc is None:
                return ()
        if not isinstance(doc, dict):
            self._error(here, f"{logical}: a policy document must be a mapping, got {type(doc).__name__}")
            return ()
        if not doc:
            return ()
        raw = doc.get("Statement")
        if raw is None:
            self._error(here, f"{logical}: policy document has no 'Statement'")
            return ()
        items = raw if isinstance(raw, list) else [raw]
        max_statements = limits.current().max_statements
        if len(items) > max_statements:
            message = f"{logical}: {len(items)} statements, more than {max_statements} (limit max-statements)"
            self._error(pos_in(doc, "Statement"), message)
            return ()
        result = []
        for index, item in enumerate(items):
            where = pos_in(raw, index) if isinstance(raw, list) else pos_in(doc, "Statement")
            statement = self._statement(item, where, f"{logical}/Statement[{index}]")
            if statement is not None:
                result.append(statement)
        return tuple(result)

    def _json_text(self, text: str, logical: str, here: Pos) -> Any:
        """CloudFormation also takes a policy document as a JSON string; "" and "{}" mean none."""
        if text.strip() in ("", "{}"):
            return None
        if 2 * len(text) > limits.current().max_values:
            # json.loads has no limits of its own: a long string is first counted by our parser.
            try:
                load_json(text, self.path)
            except InputError as exc:
                self._error(here, f"{logical}: policy document: {exc.message}")
                return None
        try:
            return json.loads(text)
        except ValueError as exc:
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
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            self._error(pos_in(item, "Effect"), f"{logical}: Effect must be Allow or Deny, got {shown(effect)}")
            return None
        action_key = "NotAction" if "NotAction" in item else "Action"
        resource_key = "NotResource" if "NotResource" in item else "Resource"
        actions, action_pos, actions_conditional = self._texts(item, action_key, logical)
        resources, _, resources_conditional = self._texts(item, resource_key, logical)
        principal_key = "NotPrincipal" if "NotPrincipal" in item else "Principal"
        return Statement(
            effect=effect,
            actions=actions,
            resources=resources,
            loc=loc,
            not_action=action_key == "NotAction",
            not_resource=resource_key == "NotResource",
            conditions=self._conditions(item.get("Condition"), logical),
            principals=self._principals(item.get(principal_key)),
            not_principal=principal_key == "NotPrincipal",
            sid=text_in(item, "Sid"),
            action_locs=tuple(self.locate(pos, f"{logical}/{action_key}[{i}]") for i, pos in enumerate(action_pos))
            if self.action_locations
            else (),
            conditional=actions_conditional or resources_conditional,
        )

    def _texts(self, item: dict[str, Any], key: str, logical: str) -> tuple[tuple[str, ...], list[Pos], bool]:
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
        return tuple(r.text for r in rendered), [r.pos for r in rendered], any(r.conditional for r in rendered)

    def _conditions(self, raw: Any, logical: str) -> tuple[Condition, ...]:
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
                texts = tuple(r.text for r in self.renderer.items(values, pos_in(block, key)))
                result.append(Condition(str(operator), str(key), texts))
        return tuple(result)

    def _principals(self, raw: Any) -> tuple[Principal, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):
            return (Principal("*", raw),)
        if not isinstance(raw, dict):
            return ()
        return tuple(
            Principal(kind, rendered.text)
            for kind in _PRINCIPAL_KINDS
            if kind in raw
            for rendered in self.renderer.items(raw[kind], pos_in(raw, kind))
        )

    def _error(self, pos: Pos, message: str) -> None:
        loc = self.locate(pos, "")
        self.errors.append(InputError(loc.path or self.path, message, loc.line, loc.col))


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
