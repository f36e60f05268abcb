"""Build the roles of a CloudFormation template (already parsed into located nodes)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bglint.errors import InputError, shown
from bglint.load.cloudformation.stackfacts import read_parameters, read_resources, session_duration
from bglint.load.intrinsics import Renderer
from bglint.load.policy import PolicyReader, aws_managed_statements
from bglint.load.selection import Selection
from bglint.load.suppressions import from_list
from bglint.model import (
    ACCESS_LEVELS,
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
    SuppressionSource,
)
from bglint.parse.nodes import Pos, key_pos_in, pos_in, pos_of, table_in, text_in

_AWS_MANAGED_ARN = re.compile(r"^arn:(?:aws|aws-cn|aws-us-gov|\$\{AWS::Partition\}):iam::aws:policy/(?:.*/)?([^/]+)$")
_REF = re.compile(r"^\$\{([A-Za-z0-9]+)\}$")
_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


@dataclass
class _Template:
    path: str
    resources: dict[str, Any]
    renderer: Renderer
    reader: PolicyReader
    # policy resources of the template, by logical id, parsed once
    policies: dict[str, Policy] = field(default_factory=dict)
    # what `Roles` of those resources name -> the attachments, each located at its entry
    attached: dict[str, list[Policy]] = field(default_factory=dict)

    def locate(self, pos: Pos, logical: str) -> Location:
        return Location(self.path, pos[0], pos[1], logical)


def load_template_roles(
    data: dict[str, Any], path: str, selection: Selection, network: NetworkContext
) -> tuple[Document, list[InputError]]:
    """The template's IAM roles with their policies, boundary and trust."""
    doc = Document(path=path, kind=DocumentKind.TEMPLATE, network=network)
    resources = data.get("Resources")
    if not isinstance(resources, dict):
        return doc, [InputError(path, "'Resources' must be a mapping", *pos_in(data, "Resources"))]
    renderer = Renderer(table_in(data, "Parameters"))
    tpl = _Template(path, resources, renderer, PolicyReader(path, _locator(path), renderer))
    tpl.policies = {
        rid: _policy_resource(tpl, rid, body)
        for rid, body in resources.items()
        if isinstance(body, dict) and body.get("Type") in _POLICY_TYPES
    }
    tpl.attached = _attachments(tpl)
    for rid, body in resources.items():
        if not isinstance(body, dict):
            tpl.reader.errors.append(
                InputError(path, f"Resources/{rid}: a resource must be a mapping", *pos_in(resources, rid))
            )
        elif body.get("Type") == "AWS::IAM::Role":
            doc.roles.append(_role(tpl, rid, body, selection))
    doc.parameters = read_parameters(data, path)
    doc.stack_resources = read_resources(resources, path, renderer)
    return doc, tpl.reader.errors


def _locator(path: str) -> Callable[[Pos, str], Location]:
    return lambda pos, logical: Location(path, pos[0], pos[1], logical)


def _policy_resource(tpl: _Template, rid: str, body: dict[str, Any]) -> Policy:
    props = table_in(body, "Properties")
    logical = f"Resources/{rid}"
    return Policy(
        name=rid,
        origin=PolicyOrigin.ATTACHED,
        loc=tpl.locate(key_pos_in(tpl.resources, rid), logical),
        statements=tpl.reader.statements(
            props.get("PolicyDocument"), f"{logical}/PolicyDocument", pos_in(tpl.resources, rid)
        ),
    )


def _role(tpl: _Template, rid: str, body: dict[str, Any], selection: Selection) -> Role:
    props = table_in(body, "Properties")
    logical = f"Resources/{rid}"
    meta = _bglint_metadata(body)
    role_name = next((r.text for r in tpl.renderer.texts(props.get("RoleName"))), "")
    tags = _tags(tpl, props.get("Tags"))
    names = [rid, role_name]
    is_bg, why = selection.classify(names, tags)
    if isinstance(meta.get("break_glass"), bool):
        is_bg, why = meta["break_glass"], "Metadata bglint.break_glass"
    level, level_source = _level(tpl, meta, selection, names)
    role = Role(
        name=rid,
        loc=tpl.locate(key_pos_in(tpl.resources, rid), logical),
        source_kind=SourceKind.CLOUDFORMATION,
        break_glass=is_bg,
        break_glass_reason=why,
        level=level,
        level_source=level_source,
        role_name=role_name,
        gate_condition=text_in(body, "Condition"),
        deletion_policy=text_in(body, "DeletionPolicy"),
        update_replace_policy=text_in(body, "UpdateReplacePolicy"),
        trust=tpl.reader.statements(
            props.get("AssumeRolePolicyDocument"),
            f"{logical}/Properties/AssumeRolePolicyDocument",
            key_pos_in(body, "Properties"),
        ),
    )
    for key in ("Policies", "ManagedPolicyArns"):
        if key in props and props[key] is None:  # `Policies:` left empty; CloudFormation refuses it
            message = f"{logical}/Properties/{key}: must be a list, got null"
            tpl.reader.errors.append(InputError(tpl.path, message, *pos_in(props, key)))
    role.policies.extend(_inline_policies(tpl, props.get("Policies"), f"{logical}/Properties/Policies"))
    role.policies.extend(_managed_arns(tpl, props, f"{logical}/Properties/ManagedPolicyArns"))
    role.policies.extend(tpl.attached.get("${" + rid + "}", ()))
    if "PermissionsBoundary" in props:
        role.boundary = _boundary(tpl, props, f"{logical}/Properties/PermissionsBoundary")
    role.max_session_duration, role.max_session_loc = session_duration(
        props, tpl.renderer, lambda pos, lg: tpl.locate(pos, f"{logical}/{lg}")
    )
    if "ignore" in meta:
        where = tpl.locate(key_pos_in(meta, "ignore"), f"{logical}/Metadata/bglint")
        role.suppressions = tuple(from_list(meta["ignore"], where, SuppressionSource.METADATA, tpl.reader.errors))
    return role


def _bglint_metadata(body: dict[str, Any]) -> dict[str, Any]:
    return table_in(table_in(body, "Metadata"), "bglint")


def _level(tpl: _Template, meta: dict[str, Any], selection: Selection, names: list[str]) -> tuple[str, str]:
    declared = meta.get("level")
    if declared is None:
        level = selection.level_for(names)
        return (level, "config") if level else ("", "")
    if isinstance(declared, str) and declared.lower() in ACCESS_LEVELS:
        return declared.lower(), "Metadata bglint.level"
    tpl.reader.errors.append(
        InputError(
            tpl.path,
            f"bglint.level must be one of {', '.join(ACCESS_LEVELS)}, got {shown(declared)}",
            *pos_in(meta, "level"),
        )
    )
    return "", ""


def _tags(tpl: _Template, raw: Any) -> dict[str, str]:
    if not isinstance(raw, list):
        return {}
    tags = {}
    for tag in raw:
        if isinstance(tag, dict):
            key = next((r.text for r in tpl.renderer.texts(tag.get("Key"))), "")
            value = next((r.text for r in tpl.renderer.texts(tag.get("Value"))), "")
            tags[key] = value
    return tags


def _inline_policies(tpl: _Template, raw: Any, logical: str) -> list[Policy]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        tpl.reader.errors.append(InputError(tpl.path, f"{logical}: must be a list", *pos_of(raw)))
        return []
    result = []
    for index, item in enumerate(raw):
        here = f"{logical}[{index}]"
        if not isinstance(item, dict):
            tpl.reader.errors.append(InputError(tpl.path, f"{here}: must be a mapping", *pos_in(raw, index)))
            continue
        name = item.get("PolicyName")
        result.append(
            Policy(
                name=name if isinstance(name, str) else f"Policies[{index}]",
                origin=PolicyOrigin.INLINE,
                loc=tpl.locate(pos_in(raw, index), here),
                statements=tpl.reader.statements(
                    item.get("PolicyDocument"), f"{here}/PolicyDocument", pos_in(raw, index)
                ),
            )
        )
    return result


def _managed_arns(tpl: _Template, props: dict[str, Any], logical: str) -> list[Policy]:
    raw = props.get("ManagedPolicyArns")
    if raw is None:
        return []
    # Logical paths name the ARN, not its index: an Fn::If earlier in the list would shift indexes.
    return [
        _policy_by_reference(
            tpl, rendered.text, tpl.locate(rendered.pos, f"{logical}/{rendered.text}"), rendered.conditional
        )
        for rendered in tpl.renderer.items(raw, pos_in(props, "ManagedPolicyArns"))
    ]


def _policy_by_reference(tpl: _Template, text: str, loc: Location, conditional: bool) -> Policy:
    """A policy named by ARN or `!Ref`: a policy of this template, AWS-managed, or external."""
    ref = _REF.match(text)
    if ref and ref.group(1) in tpl.policies:
        local = tpl.policies[ref.group(1)]
        return Policy(local.name, PolicyOrigin.ATTACHED, loc, local.statements, conditional=conditional)
    managed = _AWS_MANAGED_ARN.match(text)
    if managed:
        statements = aws_managed_statements(text.replace("${AWS::Partition}", "aws"))
        return Policy(
            managed.group(1),
            PolicyOrigin.AWS_MANAGED,
            loc,
            statements or (),
            document_known=statements is not None,
            arn=text,
            conditional=conditional,
        )
    return Policy(text, PolicyOrigin.EXTERNAL, loc, document_known=False, arn=text, conditional=conditional)


def _attachments(tpl: _Template) -> dict[str, list[Policy]]:
    """`AWS::IAM::Policy`/`ManagedPolicy` resources by what their `Roles` entries render to
    (`${RoleId}` for a `!Ref`): each role then picks its own without rendering them again."""
    attached: dict[str, list[Policy]] = {}
    for pid, policy in tpl.policies.items():
        props = table_in(tpl.resources[pid], "Properties")
        roles = props.get("Roles")
        if not isinstance(roles, list):
            continue
        for index, rendered in enumerate(tpl.renderer.items(roles, pos_in(props, "Roles"))):
            loc = tpl.locate(rendered.pos, f"Resources/{pid}/Properties/Roles[{index}]")
            attachment = Policy(policy.name, PolicyOrigin.ATTACHED, loc, policy.statements)
            attached.setdefault(rendered.text, []).append(attachment)
    return attached


def _boundary(tpl: _Template, props: dict[str, Any], logical: str) -> Boundary | None:
    raw = props.get("PermissionsBoundary")
    if raw == {"Ref": "AWS::NoValue"}:
        return None
    loc = tpl.locate(pos_in(props, "PermissionsBoundary"), logical)
    options = [r for r in tpl.renderer.items(raw, pos_in(props, "PermissionsBoundary")) if r.text.strip()]
    if not options:
        return Boundary(BoundaryState.EMPTY, loc, reference=raw if isinstance(raw, str) else "")
    policies = tuple(_policy_by_reference(tpl, r.text, tpl.locate(r.pos, logical), r.conditional) for r in options)
    known = all(p.document_known for p in policies)
    state = BoundaryState.DOCUMENT if known else BoundaryState.UNKNOWN
    reference = ", ".join(r.text for r in options)
    return Boundary(state, loc, policies, reference, absent_unless=tpl.renderer.absent_when(raw))
