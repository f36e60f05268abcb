"""CloudFormation templates -> roles: policies, boundaries, trust, selection, exact lines.

Library level: `load_template_text` parses, `load_template_roles` builds the model.
Line numbers are never hard-coded; they are looked up in the fixture text by a marker.
"""

from __future__ import annotations

import pytest

from bglint.errors import InputError
from bglint.load.cloudformation.detect import load_template_text
from bglint.load.cloudformation.template import load_template_roles
from bglint.load.selection import Selection
from bglint.model import (
    BoundaryState,
    Document,
    NetworkContext,
    NetworkKind,
    Policy,
    PolicyOrigin,
    Principal,
    Role,
)

NETWORK = NetworkContext(NetworkKind.VENDOR_MANAGED, "stated by the test")

TRUST = """\
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: arn:aws:iam::111122223333:role/runner}
            Action: sts:AssumeRole
"""


def load(text: str, path: str = "stack.yaml", selection: Selection | None = None) -> tuple[Document, list[InputError]]:
    data = load_template_text(text, path)
    return load_template_roles(data, path, selection or Selection(), NETWORK)


def load_clean(text: str, path: str = "stack.yaml", selection: Selection | None = None) -> Document:
    doc, errors = load(text, path, selection)
    assert errors == [], [str(e) for e in errors]
    return doc


def role_named(doc: Document, name: str) -> Role:
    found = [role for role in doc.roles if role.name == name]
    assert len(found) == 1, [role.name for role in doc.roles]
    return found[0]


def line_of(text: str, marker: str, nth: int = 1) -> int:
    """1-based line of the `nth` line containing `marker`."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) >= nth, f"{marker!r} occurs {len(hits)} times"
    return hits[nth - 1]


# -- one role with every kind of policy ------------------------------------------------

MAIN = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  EnableBreakglassFoo:
    Type: String
    Default: "false"
Conditions:
  BreakglassFooEnabled: !Equals [!Ref EnableBreakglassFoo, "true"]
  Wide: !Equals [!Ref AWS::Region, us-east-1]
Resources:
  BreakglassFoo:                                   # <role>
    Type: AWS::IAM::Role
    Condition: BreakglassFooEnabled
    DeletionPolicy: Retain
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow                          # <trust-star>
            Principal: "*"
            Action: sts:AssumeRole
          - Effect: Allow                          # <trust-aws>
            Principal:
              AWS:
                - arn:aws:iam::111122223333:role/runner
                - !Sub "arn:aws:iam::${AWS::AccountId}:role/support"
            Action: sts:AssumeRole
          - Effect: Allow                          # <trust-service>
            Principal: {Service: ec2.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: restart-nodes                # <inline-policy>
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Restart                       # <stmt-restart>
                Effect: Allow
                Action:
                  - ec2:RebootInstances            # <action-reboot>
                  - ec2:StartInstances             # <action-start>
                Resource: "*"
              - Effect: Deny                       # <stmt-deny>
                Action: secretsmanager:*           # <action-deny>
                Resource: "*"
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/ReadOnlyAccess                              # <arn-literal>
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess      # <arn-sub>
        - arn:aws-us-gov:iam::aws:policy/PowerUserAccess                      # <arn-gov>
        - !Ref FooLogs                                                        # <arn-ref>
        - !If [Wide, arn:aws:iam::aws:policy/IAMFullAccess, !Ref FooLogs]     # <arn-if>
        - arn:aws:iam::111122223333:policy/customer-owned                     # <arn-external>
  FooLogs:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow                          # <stmt-logs>
            Action: logs:GetLogEvents              # <action-logs>
            Resource: "*"
"""


@pytest.fixture(scope="module")
def main_role() -> Role:
    return role_named(load_clean(MAIN), "BreakglassFoo")


def test_role_location_gate_condition_and_deletion_policy(main_role: Role) -> None:
    assert main_role.loc.path == "stack.yaml"
    # A role is located at its logical id (findings about the role point there).
    assert main_role.loc.line == line_of(MAIN, "# <role>")
    assert main_role.source_kind == "cloudformation"
    assert main_role.platform == "aws"
    assert main_role.gate_condition == "BreakglassFooEnabled"
    assert main_role.deletion_policy == "Retain"
    assert main_role.boundary is None


def test_only_iam_roles_become_roles() -> None:
    doc = load_clean(MAIN)
    assert [role.name for role in doc.roles] == ["BreakglassFoo"]
    assert doc.kind == "template"
    assert doc.network == NETWORK


def test_inline_policy_keeps_every_statement_and_action_line(main_role: Role) -> None:
    inline = [p for p in main_role.policies if p.origin is PolicyOrigin.INLINE]
    assert [p.name for p in inline] == ["restart-nodes"]
    policy = inline[0]
    assert policy.document_known
    assert policy.loc.line == line_of(MAIN, "# <inline-policy>")
    restart, deny = policy.statements
    assert (restart.sid, restart.effect, restart.actions, restart.resources) == (
        "Restart",
        "Allow",
        ("ec2:RebootInstances", "ec2:StartInstances"),
        ("*",),
    )
    assert restart.loc.line == line_of(MAIN, "# <stmt-restart>")
    assert [loc.line for loc in restart.action_locs] == [
        line_of(MAIN, "# <action-reboot>"),
        line_of(MAIN, "# <action-start>"),
    ]
    assert all(loc.path == "stack.yaml" for loc in restart.action_locs)
    assert (deny.effect, deny.actions) == ("Deny", ("secretsmanager:*",))
    assert deny.loc.line == line_of(MAIN, "# <stmt-deny>")
    assert [loc.line for loc in deny.action_locs] == [line_of(MAIN, "# <action-deny>")]


def test_action_column_points_at_the_action(main_role: Role) -> None:
    restart = main_role.policies[0].statements[0]
    text_line = MAIN.splitlines()[restart.action_locs[0].line - 1]
    assert text_line.index("ec2:RebootInstances") + 1 == restart.action_locs[0].col


def _managed(role: Role) -> list[Policy]:
    return [p for p in role.policies if p.origin is not PolicyOrigin.INLINE]


def test_managed_policy_arns_in_order_with_origin(main_role: Role) -> None:
    summary = [(p.name, p.origin, p.conditional) for p in _managed(main_role)]
    assert summary == [
        ("ReadOnlyAccess", PolicyOrigin.AWS_MANAGED, False),
        ("AdministratorAccess", PolicyOrigin.AWS_MANAGED, False),
        ("PowerUserAccess", PolicyOrigin.AWS_MANAGED, False),
        ("FooLogs", PolicyOrigin.ATTACHED, False),
        ("IAMFullAccess", PolicyOrigin.AWS_MANAGED, True),
        ("FooLogs", PolicyOrigin.ATTACHED, True),
        ("arn:aws:iam::111122223333:policy/customer-owned", PolicyOrigin.EXTERNAL, False),
    ]


@pytest.mark.parametrize(
    ("name", "marker", "arn"),
    [
        ("ReadOnlyAccess", "# <arn-literal>", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ("AdministratorAccess", "# <arn-sub>", "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"),
        ("PowerUserAccess", "# <arn-gov>", "arn:aws-us-gov:iam::aws:policy/PowerUserAccess"),
    ],
)
def test_aws_managed_arn_forms_resolve_to_known_documents(main_role: Role, name: str, marker: str, arn: str) -> None:
    (policy,) = [p for p in main_role.policies if p.name == name]
    assert policy.origin is PolicyOrigin.AWS_MANAGED
    assert policy.document_known
    assert policy.arn == arn
    assert policy.statements, "the pinned AWS-managed document must be read"
    line = line_of(MAIN, marker)
    assert policy.loc.line == line
    # The document is not in this file: it is parsed once and shared, its statements name the
    # policy, and findings about them point at the ARN that attaches it (policy.loc).
    assert {s.loc.path for s in policy.statements} == {f"aws-managed:{name}"}


def test_administrator_access_through_sub_grants_everything(main_role: Role) -> None:
    (admin,) = [p for p in main_role.policies if p.name == "AdministratorAccess"]
    assert [(s.effect, s.actions, s.resources) for s in admin.statements] == [("Allow", ("*",), ("*",))]


def test_ref_to_managed_policy_of_the_template_takes_its_statements(main_role: Role) -> None:
    first = next(p for p in main_role.policies if p.name == "FooLogs")
    assert first.loc.line == line_of(MAIN, "# <arn-ref>")
    assert first.document_known
    (statement,) = first.statements
    assert statement.actions == ("logs:GetLogEvents",)
    # The statements keep their own lines in the ManagedPolicy resource.
    assert statement.loc.line == line_of(MAIN, "# <stmt-logs>")
    assert [loc.line for loc in statement.action_locs] == [line_of(MAIN, "# <action-logs>")]


def test_if_in_managed_policy_arns_keeps_both_branches_as_conditional(main_role: Role) -> None:
    branches = [p for p in main_role.policies if p.conditional]
    assert [(p.name, p.origin) for p in branches] == [
        ("IAMFullAccess", PolicyOrigin.AWS_MANAGED),
        ("FooLogs", PolicyOrigin.ATTACHED),
    ]
    line = line_of(MAIN, "# <arn-if>")
    assert all(p.loc.line == line for p in branches)
    iam_full, local = branches
    assert iam_full.statements and iam_full.document_known
    assert [s.actions for s in local.statements] == [("logs:GetLogEvents",)]


def test_customer_managed_arn_is_external_and_unknown(main_role: Role) -> None:
    (external,) = [p for p in main_role.policies if p.origin is PolicyOrigin.EXTERNAL]
    assert external.arn == "arn:aws:iam::111122223333:policy/customer-owned"
    assert not external.document_known
    assert external.statements == ()
    assert external.loc.line == line_of(MAIN, "# <arn-external>")


def test_trust_policy_principals(main_role: Role) -> None:
    star, aws, service = main_role.trust
    assert star.principals == (Principal("*", "*"),)
    assert aws.principals == (
        Principal("AWS", "arn:aws:iam::111122223333:role/runner"),
        Principal("AWS", "arn:aws:iam::${AWS::AccountId}:role/support"),
    )
    assert service.principals == (Principal("Service", "ec2.amazonaws.com"),)
    assert [s.loc.line for s in main_role.trust] == [
        line_of(MAIN, "# <trust-star>"),
        line_of(MAIN, "# <trust-aws>"),
        line_of(MAIN, "# <trust-service>"),
    ]
    assert all(s.actions == ("sts:AssumeRole",) for s in main_role.trust)


# -- permissions boundaries ------------------------------------------------------------

BOUNDARIES = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  BoundaryWithDefault:
    Type: String
    Default: arn:aws:iam::aws:policy/ReadOnlyAccess
  BoundaryNoDefault:
    Type: String
Conditions:
  Strict: !Equals [!Ref AWS::Region, us-east-1]
Resources:
  LiteralRole:
    Type: AWS::IAM::Role
    Properties:
TRUST      PermissionsBoundary: arn:aws:iam::aws:policy/PowerUserAccess      # <b-literal>
  LocalRole:
    Type: AWS::IAM::Role
    Properties:
TRUST      PermissionsBoundary: !Ref LocalBoundary                          # <b-local>
  DefaultRole:
    Type: AWS::IAM::Role
    Properties:
TRUST      PermissionsBoundary: !Ref BoundaryWithDefault                    # <b-default>
  NoDefaultRole:
    Type: AWS::IAM::Role
    Properties:
TRUST      PermissionsBoundary: !Ref BoundaryNoDefault                      # <b-nodefault>
  IfRole:
    Type: AWS::IAM::Role
    Properties:
TRUST      PermissionsBoundary: !If [Strict, !Ref LocalBoundary, arn:aws:iam::aws:policy/PowerUserAccess]  # <b-if>
  EmptyRole:
    Type: AWS::IAM::Role
    Properties:
TRUST      PermissionsBoundary: ""                                          # <b-empty>
  NoBoundaryRole:
    Type: AWS::IAM::Role
    Properties:
TRUST  LocalBoundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow                                                  # <b-local-stmt>
            Action: ec2:Describe*
            Resource: "*"
""".replace("TRUST", TRUST)


@pytest.fixture(scope="module")
def boundaries() -> Document:
    return load_clean(BOUNDARIES)


def test_boundary_literal_aws_managed_arn(boundaries: Document) -> None:
    boundary = role_named(boundaries, "LiteralRole").boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.DOCUMENT
    assert boundary.reference == "arn:aws:iam::aws:policy/PowerUserAccess"
    assert boundary.loc.line == line_of(BOUNDARIES, "# <b-literal>")
    (policy,) = boundary.policies
    assert (policy.name, policy.origin, policy.document_known) == ("PowerUserAccess", PolicyOrigin.AWS_MANAGED, True)
    assert policy.statements


def test_boundary_ref_to_managed_policy_of_the_template(boundaries: Document) -> None:
    boundary = role_named(boundaries, "LocalRole").boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.DOCUMENT
    (policy,) = boundary.policies
    assert (policy.name, policy.origin) == ("LocalBoundary", PolicyOrigin.ATTACHED)
    (statement,) = policy.statements
    assert statement.actions == ("ec2:Describe*",)
    assert statement.loc.line == line_of(BOUNDARIES, "# <b-local-stmt>")


def test_boundary_ref_to_parameter_with_default_is_resolved(boundaries: Document) -> None:
    boundary = role_named(boundaries, "DefaultRole").boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.DOCUMENT
    assert boundary.reference == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    (policy,) = boundary.policies
    assert (policy.name, policy.origin, policy.document_known) == ("ReadOnlyAccess", PolicyOrigin.AWS_MANAGED, True)


def test_boundary_ref_to_parameter_without_default_is_unknown(boundaries: Document) -> None:
    boundary = role_named(boundaries, "NoDefaultRole").boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.UNKNOWN
    assert "BoundaryNoDefault" in boundary.reference
    (policy,) = boundary.policies
    assert policy.origin is PolicyOrigin.EXTERNAL
    assert not policy.document_known
    assert policy.statements == ()


def test_boundary_if_keeps_both_branches_as_conditional(boundaries: Document) -> None:
    boundary = role_named(boundaries, "IfRole").boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.DOCUMENT
    assert [(p.name, p.origin, p.conditional) for p in boundary.policies] == [
        ("LocalBoundary", PolicyOrigin.ATTACHED, True),
        ("PowerUserAccess", PolicyOrigin.AWS_MANAGED, True),
    ]
    assert boundary.loc.line == line_of(BOUNDARIES, "# <b-if>")


def test_boundary_empty_string_is_empty(boundaries: Document) -> None:
    boundary = role_named(boundaries, "EmptyRole").boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.EMPTY
    assert boundary.policies == ()
    assert boundary.loc.line == line_of(BOUNDARIES, "# <b-empty>")


def test_no_boundary_property_means_none(boundaries: Document) -> None:
    assert role_named(boundaries, "NoBoundaryRole").boundary is None


def test_boundary_policy_is_not_attached_as_a_policy(boundaries: Document) -> None:
    assert role_named(boundaries, "LocalRole").policies == []


# -- policy resources attached through Roles -------------------------------------------

ATTACHED = """\
Resources:
  BreakglassWorker:
    Type: AWS::IAM::Role
    Properties:
TRUST  OtherRole:
    Type: AWS::IAM::Role
    Properties:
TRUST  WorkerInline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: worker-inline
      Roles:
        - !Ref BreakglassWorker                    # <roles-inline>
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          Effect: Allow                            # <single-statement>
          Action: s3:ListBucket                    # <single-action>
          Resource: "*"
  WorkerManaged:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref BreakglassWorker]               # <roles-managed>
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow                          # <managed-statement>
            Action: [ssm:StartSession]
            Resource: "*"
  OtherPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: other
      Roles: [!Ref OtherRole]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: kms:Decrypt
            Resource: "*"
""".replace("TRUST", TRUST)


def test_policy_and_managed_policy_attached_through_roles() -> None:
    doc = load_clean(ATTACHED)
    worker = role_named(doc, "BreakglassWorker")
    assert [(p.name, p.origin) for p in worker.policies] == [
        ("WorkerInline", PolicyOrigin.ATTACHED),
        ("WorkerManaged", PolicyOrigin.ATTACHED),
    ]
    inline, managed = worker.policies
    assert inline.loc.line == line_of(ATTACHED, "# <roles-inline>")
    assert managed.loc.line == line_of(ATTACHED, "# <roles-managed>")
    (single,) = inline.statements
    assert single.actions == ("s3:ListBucket",)
    assert single.loc.line == line_of(ATTACHED, "# <single-statement>")
    assert [loc.line for loc in single.action_locs] == [line_of(ATTACHED, "# <single-action>")]
    assert [s.actions for s in managed.statements] == [("ssm:StartSession",)]
    assert managed.statements[0].loc.line == line_of(ATTACHED, "# <managed-statement>")
    # A policy naming another role is not this role's.
    assert [p.name for p in role_named(doc, "OtherRole").policies] == ["OtherPolicy"]


# -- which roles are break-glass, and at which level -----------------------------------

SELECTION = """\
Resources:
  BreakglassFoo:
    Type: AWS::IAM::Role
    Properties:
TRUST  NamedRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${AWS::StackName}-break-glass"
TRUST  TaggedRole:
    Type: AWS::IAM::Role
    Properties:
      Tags:
        - Key: role
          Value: breakglass
TRUST  OptedOutRole:
    Type: AWS::IAM::Role
    Metadata:
      bglint:
        break_glass: false
    Properties:
      RoleName: support-break-glass
TRUST  OpsReader:
    Type: AWS::IAM::Role
    Properties:
TRUST  DeclaredRole:
    Type: AWS::IAM::Role
    Metadata:
      bglint: {break_glass: true, level: component}
    Properties:
TRUST""".replace("TRUST", TRUST)


def _classified(selection: Selection) -> dict[str, bool]:
    return {role.name: role.break_glass for role in load_clean(SELECTION, selection=selection).roles}


def test_break_glass_by_names_tags_and_metadata() -> None:
    assert _classified(Selection()) == {
        "BreakglassFoo": True,
        "NamedRole": True,
        "TaggedRole": True,
        "OptedOutRole": False,
        "OpsReader": False,
        "DeclaredRole": True,
    }


def test_break_glass_reasons_say_which_signal_decided() -> None:
    roles = {role.name: role for role in load_clean(SELECTION).roles}
    assert "BreakglassFoo" in roles["BreakglassFoo"].break_glass_reason
    assert "break-glass" in roles["NamedRole"].break_glass_reason
    assert roles["NamedRole"].role_name == "${AWS::StackName}-break-glass"
    assert roles["TaggedRole"].break_glass_reason == "tag role=breakglass"
    assert roles["OptedOutRole"].break_glass_reason == "Metadata bglint.break_glass"
    assert roles["DeclaredRole"].break_glass_reason == "Metadata bglint.break_glass"
    assert roles["OpsReader"].break_glass_reason == ""


def test_all_roles_selects_every_role_except_an_explicit_opt_out() -> None:
    assert _classified(Selection(all_roles=True)) == {
        "BreakglassFoo": True,
        "NamedRole": True,
        "TaggedRole": True,
        "OptedOutRole": False,
        "OpsReader": True,
        "DeclaredRole": True,
    }


def test_selector_pattern_selects_matching_roles() -> None:
    classified = _classified(Selection(patterns=("Ops*",)))
    assert classified["OpsReader"] is True
    assert classified["OptedOutRole"] is False
    role = role_named(load_clean(SELECTION, selection=Selection(patterns=("Ops*",))), "OpsReader")
    assert role.break_glass_reason == "matches selector 'Ops*'"


def test_declared_level_from_metadata_and_from_config() -> None:
    doc = load_clean(SELECTION, selection=Selection(levels={"Ops*": "runner"}))
    declared = role_named(doc, "DeclaredRole")
    assert (declared.level, declared.level_source) == ("component", "Metadata bglint.level")
    ops = role_named(doc, "OpsReader")
    assert (ops.level, ops.level_source) == ("runner", "config")
    plain = role_named(doc, "BreakglassFoo")
    assert (plain.level, plain.level_source) == ("", "")


# -- JSON templates --------------------------------------------------------------------

JSON_TEMPLATE = """\
{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "BreakglassJson": {
      "Type": "AWS::IAM::Role",
      "DeletionPolicy": "Delete",
      "Properties": {
        "AssumeRolePolicyDocument": {
          "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
          ]
        },
        "Policies": [
          {
            "PolicyName": "json-inline",
            "PolicyDocument": {
              "Version": "2012-10-17",
              "Statement": [
                {"Effect": "Allow",
                  "Action": [
                    "ec2:StartInstances",
                    "ec2:StopInstances"
                  ],
                  "Resource": "*"
                }
              ]
            }
          }
        ],
        "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"}],
        "PermissionsBoundary": {"Ref": "JsonBoundary"}
      }
    },
    "JsonBoundary": {
      "Type": "AWS::IAM::ManagedPolicy",
      "Properties": {
        "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
      }
    }
  }
}
"""


def test_json_template_roles_with_exact_lines() -> None:
    doc = load_clean(JSON_TEMPLATE, "stack.json")
    role = role_named(doc, "BreakglassJson")
    assert role.break_glass
    assert role.loc.line == line_of(JSON_TEMPLATE, '"BreakglassJson"')
    assert role.deletion_policy == "Delete"
    inline, managed = role.policies
    assert (inline.name, inline.origin) == ("json-inline", PolicyOrigin.INLINE)
    (statement,) = inline.statements
    assert statement.actions == ("ec2:StartInstances", "ec2:StopInstances")
    assert statement.loc.line == line_of(JSON_TEMPLATE, '{"Effect": "Allow",', nth=2)
    assert [loc.line for loc in statement.action_locs] == [
        line_of(JSON_TEMPLATE, '"ec2:StartInstances"'),
        line_of(JSON_TEMPLATE, '"ec2:StopInstances"'),
    ]
    assert (managed.name, managed.origin, managed.document_known) == (
        "ReadOnlyAccess",
        PolicyOrigin.AWS_MANAGED,
        True,
    )
    assert managed.loc.line == line_of(JSON_TEMPLATE, '"ManagedPolicyArns"')
    assert role.trust[0].principals == (Principal("Service", "ec2.amazonaws.com"),)
    assert role.boundary is not None and role.boundary.state is BoundaryState.DOCUMENT
    assert [s.actions for p in role.boundary.policies for s in p.statements] == [("ec2:*",)]


# -- malformed pieces ------------------------------------------------------------------

MALFORMED = """\
Resources:
  BreakglassBad:
    Type: AWS::IAM::Role
    Properties:
TRUST      Policies:
        - PolicyName: mixed
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - "s3:*"                             # <string-statement>
              - Effect: Permit                     # <permit>
                Action: s3:GetObject
                Resource: "*"
              - Effect: Allow                      # <good-statement>
                Action: s3:ListBucket
                Resource: "*"
  BreakglassNotList:
    Type: AWS::IAM::Role
    Properties:
TRUST      Policies:
        PolicyName: oops                           # <not-a-list>
  BreakglassGood:
    Type: AWS::IAM::Role
    Properties:
TRUST      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
""".replace("TRUST", TRUST)


@pytest.fixture(scope="module")
def malformed() -> tuple[Document, list[InputError]]:
    return load(MALFORMED, "bad.yaml")


def _error_at(errors: list[InputError], line: int) -> InputError:
    found = [e for e in errors if e.line == line]
    assert len(found) == 1, [str(e) for e in errors]
    return found[0]


def test_statement_that_is_a_string_is_an_error_at_its_line(malformed: tuple[Document, list[InputError]]) -> None:
    error = _error_at(malformed[1], line_of(MALFORMED, "# <string-statement>"))
    assert error.path == "bad.yaml"
    assert "statement must be a mapping" in error.message
    assert error.col > 0


def test_effect_permit_is_an_error_at_its_line(malformed: tuple[Document, list[InputError]]) -> None:
    error = _error_at(malformed[1], line_of(MALFORMED, "# <permit>"))
    assert error.path == "bad.yaml"
    assert "Permit" in error.message and "Allow or Deny" in error.message


def test_policies_not_a_list_is_an_error_at_its_line(malformed: tuple[Document, list[InputError]]) -> None:
    error = _error_at(malformed[1], line_of(MALFORMED, "# <not-a-list>"))
    assert error.path == "bad.yaml"
    assert "Policies" in error.message and "must be a list" in error.message


def test_malformed_pieces_do_not_stop_the_other_roles(malformed: tuple[Document, list[InputError]]) -> None:
    doc, errors = malformed
    assert len(errors) == 3
    assert [role.name for role in doc.roles] == ["BreakglassBad", "BreakglassNotList", "BreakglassGood"]
    bad = role_named(doc, "BreakglassBad")
    (policy,) = bad.policies
    # The two broken statements are skipped, the good one is kept at its line.
    assert [(s.effect, s.actions) for s in policy.statements] == [("Allow", ("s3:ListBucket",))]
    assert policy.statements[0].loc.line == line_of(MALFORMED, "# <good-statement>")
    assert role_named(doc, "BreakglassNotList").policies == []
    good = role_named(doc, "BreakglassGood")
    assert [p.name for p in good.policies] == ["ReadOnlyAccess"]


def test_every_error_is_one_line_naming_file_and_line(malformed: tuple[Document, list[InputError]]) -> None:
    for error in malformed[1]:
        text = str(error)
        assert "\n" not in text
        assert text.startswith(f"bad.yaml:{error.line}:{error.col}: error: ")


NO_TRUST = """\
Resources:
  BreakglassNoTrust:                               # <no-trust-role>
    Type: AWS::IAM::Role
    Properties:                                    # <no-trust-properties>
      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
  Other:
    Type: AWS::SNS::Topic
"""


def test_missing_trust_policy_error_points_into_the_role() -> None:
    """CloudFormation requires AssumeRolePolicyDocument; the error must say where the role is."""
    doc, errors = load(NO_TRUST, "notrust.yaml")
    assert [role.name for role in doc.roles] == ["BreakglassNoTrust"]
    (error,) = errors
    assert "AssumeRolePolicyDocument" in error.message
    assert line_of(NO_TRUST, "# <no-trust-role>") <= error.line <= line_of(NO_TRUST, "# <no-trust-properties>")


def test_resources_not_a_mapping_is_an_error() -> None:
    doc, errors = load("AWSTemplateFormatVersion: '2010-09-09'\nResources: [a, b]\n", "list.yaml")
    assert doc.roles == []
    (error,) = errors
    assert error.path == "list.yaml"
    assert error.line == 2
    assert "Resources" in error.message
