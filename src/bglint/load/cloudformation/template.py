"""Build the roles of a CloudFormation template (already parsed into located nodes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bglint.errors import InputError, shown
from bglint.load.cloudformation.foreach import expand_for_each
from bglint.load.cloudformation.stackfacts import (
    keeping_policy,
    read_parameters,
    read_resources,
    session_duration,
    written_at,
)
from bglint.load.cloudformation.standing import standing_access
from bglint.load.intrinsics import Renderer, is_intrinsic
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
from bglint.regex import Regex

# Every partition: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc...
_AWS_MANAGED_ARN = Regex(r"^arn:(?:aws[a-z-]*|\$\{AWS::Partition\}):iam::aws:policy/(?:.*/)?([^/]+)$")
# A policy of this template: `!Ref P`, `!GetAtt P.PolicyArn`, or its ARN built from its name.
_REF = Regex(r"^\$\{([A-Za-z0-9]+)(?:\.PolicyArn)?\}$")
_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
# The properties by which each policy resource names the roles it is attached to.
_ROLE_KEYS = {"AWS::IAM::Policy": "Roles", "AWS::IAM::ManagedPolicy": "Roles", "AWS::IAM::RolePolicy": "RoleName"}
_SAM_WITH_ROLE = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
_ALARMS = ("AWS::Events::Rule", "AWS::CloudWatch::Alarm")  # what `alarms.read_alarms` reads
# CloudFormation names a resource without a name `<stack>-<logical id>-<random suffix>`.
_GENERATED = "${{AWS::StackName}}-{id}-GENERATEDSUFFIX"


class _Template:
    def __init__(self, path: str, resources: dict[str, Any], renderer: Renderer, reader: PolicyReader) -> None:
        self.path = path
        self.resources = resources
        self.renderer = renderer
        self.reader = reader
        # policy resources of the template, by logical id, parsed once
        self.policies: dict[str, Policy] = {}
        # what `Roles` of those resources name -> the attachments, each located at its entry
        self.attached: dict[str, list[Policy]] = {}

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
    renderer = Renderer(table_in(data, "Parameters"), table_in(data, "Mappings"))
    resources = expand_for_each(resources, renderer)
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
            role = _role(tpl, rid, body, selection)
            role.standing, role.logical_id = standing_access(data, role), rid
            doc.roles.append(role)
        elif body.get("Type") in _SAM_WITH_ROLE and "Role" not in table_in(body, "Properties"):
            doc.roles.append(sam_role(tpl, rid, body, selection))
    _misplaced_settings(tpl, data)
    doc.parameters = read_parameters(data, path)
    doc.stack_resources = read_resources(resources, path, renderer)
    if any(isinstance(body, dict) and body.get("Type") in _ALARMS for body in resources.values()):
        from bglint.load.cloudformation.alarms import read_alarms  # only a stack with alarms pays for it

        doc.stack_alarms = read_alarms(resources, renderer)
    return doc, tpl.reader.errors


def _misplaced_settings(tpl: _Template, data: dict[str, Any]) -> None:
    """bglint's settings in the template's own `Metadata` (where cfn-lint reads its own) are not
    honoured, on purpose: each belongs to one role. Saying so beats ignoring them: a top-level
    `break_glass: true` that selected nothing would hide findings."""
    meta = _bglint_metadata(data)
    for key in meta:
        if key == "ignore":
            message = (
                "`Metadata: bglint: ignore` at the top of a template suppresses nothing: a suppression"
                " belongs to the role it excuses; move it under that role's `Metadata: bglint: ignore`,"
                " or into `.bglint.yaml` `ignore:` narrowed with `role:` and `path:`"
            )
        else:
            message = (
                f"`Metadata: bglint: {key}` at the top of a template is not read: bglint reads it on a role;"
                f" move it under that role's `Metadata: bglint: {key}`"
            )
        tpl.reader.errors.append(InputError(tpl.path, message, *key_pos_in(meta, key)))


def _locator(path: str) -> Callable[[Pos, str], Location]:
    return lambda pos, logical: Location(path, pos[0], pos[1], logical)


def _policy_resource(tpl: _Template, rid: str, body: dict[str, Any]) -> Policy:
    props = table_in(body, "Properties")
    logical = f"Resources/{rid}"
    statements = tpl.reader.statements(
        props.get("PolicyDocument"), f"{logical}/PolicyDocument", pos_in(tpl.resources, rid)
    )
    name = next((r.text for r in tpl.renderer.texts(props.get("ManagedPolicyName"))), "")
    path = next((r.text for r in tpl.renderer.texts(props.get("Path"))), "/")
    return Policy(
        name=rid,
        origin=PolicyOrigin.ATTACHED,
        loc=tpl.locate(key_pos_in(tpl.resources, rid), logical),
        statements=statements,
        document_known=f"{logical}/PolicyDocument" not in tpl.reader.unresolved_documents,
        deployed_name=path.rstrip("/") + "/" + (name or _GENERATED.format(id=rid)),
    )


def _role(tpl: _Template, rid: str, body: dict[str, Any], selection: Selection) -> Role:
    props = table_in(body, "Properties")
    logical = f"Resources/{rid}"
    meta = _bglint_metadata(body)
    role_name = next((r.text for r in tpl.renderer.texts(props.get("RoleName"))), "")
    role = _new_role(tpl, rid, body, rid, [rid, role_name], selection)
    role.role_name = role_name
    role.role_path = next((r.text for r in tpl.renderer.texts(props.get("Path"))), "/")
    role.trust = tpl.reader.statements(
        props.get("AssumeRolePolicyDocument"),
        f"{logical}/Properties/AssumeRolePolicyDocument",
        key_pos_in(body, "Properties"),
    )
    for key in ("Policies", "ManagedPolicyArns"):
        if key in props and props[key] is None:  # `Policies:` left empty; CloudFormation refuses it
            message = f"{logical}/Properties/{key}: must be a list, got null"
            tpl.reader.errors.append(InputError(tpl.path, message, *pos_in(props, key)))
    role.policies.extend(_inline_policies(tpl, props.get("Policies"), f"{logical}/Properties/Policies"))
    role.policies.extend(_managed_arns(tpl, props, f"{logical}/Properties/ManagedPolicyArns"))
    role.policies.extend(tpl.attached.get("${" + rid + "}", ()))
    if role_name:  # attached by the name the stack gives it
        role.policies.extend(tpl.attached.get(role_name, ()))
    if "PermissionsBoundary" in props:
        role.boundary = _boundary(tpl, props, f"{logical}/Properties/PermissionsBoundary")
    role.max_session_duration, role.max_session_loc, role.max_session_placeholder = session_duration(
        props, tpl.renderer, lambda pos, lg: tpl.locate(pos, f"{logical}/{lg}")
    )
    if "ignore" in meta:
        where = tpl.locate(key_pos_in(meta, "ignore"), f"{logical}/Metadata/bglint")
        role.suppressions = tuple(from_list(meta["ignore"], where, SuppressionSource.METADATA, tpl.reader.errors))
    return role


def _selected(tpl: _Template, meta: dict[str, Any], classified: tuple[bool, str]) -> tuple[bool, str]:
    """`Metadata: {bglint: {break_glass: ...}}` overrides the other signals; "true"/"false" as
    strings mean what they say (YAML and JSON writers quote them), anything else is an error."""
    declared = meta.get("break_glass")
    if declared is None:
        return classified
    if isinstance(declared, str) and declared.strip().lower() in ("true", "false"):
        declared = declared.strip().lower() == "true"
    if isinstance(declared, bool):
        return declared, "Metadata bglint.break_glass"
    message = f"bglint.break_glass must be true or false, got {shown(declared)}"
    tpl.reader.errors.append(InputError(tpl.path, message, *pos_in(meta, "break_glass")))
    return classified


def _new_role(
    tpl: _Template, rid: str, body: dict[str, Any], name: str, names: list[str], selection: Selection
) -> Role:
    """A role of resource `rid`, selected (or not) as break glass, with its level and lifecycle."""
    meta = _bglint_metadata(body)
    is_bg, why = _selected(tpl, meta, selection.classify(names, _tags(tpl, table_in(body, "Properties").get("Tags"))))
    level, level_source = _level(tpl, meta, selection, names)
    return Role(
        name=name,
        loc=tpl.locate(key_pos_in(tpl.resources, rid), f"Resources/{rid}"),
        source_kind=SourceKind.CLOUDFORMATION,
        break_glass=is_bg,
        break_glass_reason=why,
        level=level,
        level_source=level_source,
        gate_condition=text_in(body, "Condition"),
        deletion_policy=keeping_policy(body.get("DeletionPolicy"), tpl.renderer),
        update_replace_policy=keeping_policy(body.get("UpdateReplacePolicy"), tpl.renderer),
        deletion_policy_loc=written_at(body, "DeletionPolicy", tpl.path, rid),
        update_replace_policy_loc=written_at(body, "UpdateReplacePolicy", tpl.path, rid),
    )


def sam_role(tpl: _Template, rid: str, body: dict[str, Any], selection: Selection) -> Role:
    """The role SAM creates for a function or state machine without a `Role`: `<id>Role`, with
    its `Policies` (AWS-managed names or ARNs, documents, SAM policy templates)."""
    props = table_in(body, "Properties")
    logical = f"Resources/{rid}"
    role = _new_role(tpl, rid, body, f"{rid}Role", [f"{rid}Role"], selection)
    if "AssumeRolePolicyDocument" in props:
        where = f"{logical}/Properties/AssumeRolePolicyDocument"
        role.trust = tpl.reader.statements(props["AssumeRolePolicyDocument"], where)
    raw = props.get("Policies")
    entries = raw if isinstance(raw, list) else [] if raw is None else [raw]
    for index, entry, conditional in _policy_items(entries):
        here = f"{logical}/Properties/Policies[{index}]"
        loc = tpl.locate(pos_in(entries, index) if isinstance(raw, list) else pos_in(props, "Policies"), here)
        if isinstance(entry, dict) and "Statement" in entry:
            statements = tpl.reader.statements(entry, here, loc[1:3])
            role.policies.append(
                Policy(f"Policies[{index}]", PolicyOrigin.INLINE, loc, statements, conditional=conditional)
            )
        elif isinstance(entry, dict) and not is_intrinsic(entry):  # a SAM policy template: SAM's document, not here
            template = next(iter(entry), "?")
            role.policies.append(
                Policy(
                    f"SAM policy template {template}",
                    PolicyOrigin.EXTERNAL,
                    loc,
                    document_known=False,
                    conditional=conditional,
                )
            )
        else:
            for rendered in tpl.renderer.texts(entry, loc[1:3]):
                arn = (
                    rendered.text
                    if rendered.text.startswith("arn:") or "${" in rendered.text
                    else f"arn:aws:iam::aws:policy/{rendered.text}"
                )
                role.policies.append(_policy_by_reference(tpl, arn, loc, conditional or rendered.conditional))
    if "PermissionsBoundary" in props:
        role.boundary = _boundary(tpl, props, f"{logical}/Properties/PermissionsBoundary")
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
    for index, item, conditional in _policy_items(raw):
        here = f"{logical}[{index}]"
        if item is None:
            continue
        if not isinstance(item, dict):
            tpl.reader.errors.append(InputError(tpl.path, f"{here}: must be a mapping", *pos_in(raw, index)))
            continue
        name = item.get("PolicyName")
        statements = tpl.reader.statements(item.get("PolicyDocument"), f"{here}/PolicyDocument", pos_in(raw, index))
        result.append(
            Policy(
                name=name if isinstance(name, str) else f"Policies[{index}]",
                origin=PolicyOrigin.INLINE,
                loc=tpl.locate(pos_in(raw, index), here),
                statements=statements,
                document_known=f"{here}/PolicyDocument" not in tpl.reader.unresolved_documents,
                conditional=conditional,
            )
        )
    return result


def _policy_items(raw: list[Any]) -> Iterator[tuple[int, Any, bool]]:
    """Entries of a `Policies` list; an `Fn::If` entry stands for each of its branches."""
    for index, item in enumerate(raw):
        arg = item.get("Fn::If") if is_intrinsic(item) else None
        if isinstance(arg, list) and len(arg) == 3:
            for branch in arg[1:]:
                if branch != {"Ref": "AWS::NoValue"}:
                    yield index, branch, True
        elif item != {"Ref": "AWS::NoValue"}:
            yield index, item, False


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
    local = _own_policy(tpl, text)
    if local is not None:
        return local.attached_at(loc, conditional)
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


def _own_policy(tpl: _Template, text: str) -> Policy | None:
    """The managed policy of this template that `text` (a Ref, GetAtt or ARN) names, if any."""
    ref = _REF.match(text)
    if ref and ref.group(1) in tpl.policies:
        return tpl.policies[ref.group(1)]
    if text.startswith("arn:") and ":policy/" in text and ":iam::aws:policy/" not in text:
        path_and_name = text.split(":policy", 1)[1]
        return next((p for p in tpl.policies.values() if p.deployed_name == path_and_name), None)
    return None


def _attachments(tpl: _Template) -> dict[str, list[Policy]]:
    """`AWS::IAM::Policy`/`ManagedPolicy` resources by what their `Roles` entries render to
    (`${RoleId}` for a `!Ref`): each role then picks its own without rendering them again."""
    attached: dict[str, list[Policy]] = {}
    for pid, policy in tpl.policies.items():
        props = table_in(tpl.resources[pid], "Properties")
        key = _ROLE_KEYS[tpl.resources[pid]["Type"]]
        roles = props.get(key)
        if roles is None:
            continue
        for index, rendered in enumerate(tpl.renderer.items(roles, pos_in(props, key))):
            loc = tpl.locate(rendered.pos, f"Resources/{pid}/Properties/{key}[{index}]")
            attachment = policy.attached_at(loc, rendered.conditional)
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
