"""Nuon app config directories -> roles, references, network context and notes.

Library level: `load_app` for one app directory, `load_paths` for what a user passes.
Every fixture is written to a temporary directory; line numbers come from the fixture text.
"""

from __future__ import annotations

import pathlib
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bglint.errors import InputError
from bglint.load.discover import LoadOptions, load_paths
from bglint.load.nuon.app import load_app
from bglint.load.selection import Selection
from bglint.model import BoundaryState, Document, NetworkKind, PolicyOrigin, Role
from conftest import write_tree

METADATA = 'version = "v2"\n'

SANDBOX_REPO = """\
terraform_version = "1.9.0"

[public_repo]
repo      = "{repo}"
directory = "."
branch    = "main"
"""

ALLOW_S3_GET = (
    '{"Version": "2012-10-17", "Statement": [\n  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}\n]}\n'
)
ALLOW_S3_ALL = (
    '{"Version": "2012-10-17", "Statement": [\n  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}\n]}\n'
)
ALLOW_EVERYTHING = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}\n'


def line_of(text: str, marker: str, nth: int = 1) -> int:
    hits = [number for number, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) >= nth, f"{marker!r} occurs {len(hits)} times"
    return hits[nth - 1]


def make_app(root: Path, files: dict[str, str | bytes]) -> Path:
    return write_tree(root, {"metadata.toml": METADATA, **files})


def load(root: Path, selection: Selection | None = None) -> tuple[Document, list[InputError]]:
    return load_app(root, "app", selection or Selection(), None)


def load_clean(root: Path) -> Document:
    doc, errors = load(root)
    assert errors == [], [str(e) for e in errors]
    return doc


def role_named(doc: Document, name: str) -> Role:
    found = [role for role in doc.roles if role.name == name]
    assert len(found) == 1, [role.name for role in doc.roles]
    return found[0]


def one_policy_role(contents: str) -> str:
    """break_glass.toml with one role whose one policy has `contents` (TOML-quoted)."""
    return f"""\
[[role]]
name        = "bg"
description = "d"

[[role.policies]]
name     = "p"
contents = {contents}
"""


# -- break_glass.toml: managed and inline policies -------------------------------------

BREAK_GLASS = '''\
#:schema https://api.nuon.co/v1/general/config-schema?type=break-glass
[[role]]
name                 = "{{.nuon.install.id}}-sandbox-bg"
description          = "Incident access"
display_name         = "Sandbox break glass"

[[role.policies]]
managed_policy_name = "ReadOnlyAccess"

[[role.policies]]
name     = "{{.nuon.install.id}}-deny-secrets"
contents = """
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "NoSecrets",
      "Effect": "Deny",
      "Action": [
        "secretsmanager:GetSecretValue",
        "kms:Decrypt"
      ],
      "Resource": "*"
    },
    {"Effect": "Allow", "Action": "ec2:RebootInstances", "Resource": "*"}
  ]
}
"""
'''


@pytest.fixture
def main_app(tmp_path: Path) -> Document:
    return load_clean(make_app(tmp_path / "app", {"break_glass.toml": BREAK_GLASS}))


def test_break_glass_role_is_declared_break_glass(main_app: Document) -> None:
    assert main_app.kind == "app"
    assert main_app.path == "app"
    # No stack.toml or sandbox.toml: nothing says who owns the network.
    assert main_app.network.kind is NetworkKind.UNKNOWN
    assert main_app.network.loc is None
    role = role_named(main_app, "{{.nuon.install.id}}-sandbox-bg")
    assert role.break_glass
    assert role.break_glass_reason == "declared in break_glass.toml"
    assert role.source_kind == "nuon-break-glass"
    assert role.platform == "aws"
    assert role.loc.path == "app/break_glass.toml"
    assert role.loc.line == line_of(BREAK_GLASS, "[[role]]")
    assert role.role_name == "{{.nuon.install.id}}-sandbox-bg"
    assert role.boundary is None


def test_managed_policy_name_reads_the_aws_managed_document(main_app: Document) -> None:
    managed = main_app.roles[0].policies[0]
    assert managed.origin is PolicyOrigin.AWS_MANAGED
    assert managed.name == managed.managed_policy_name == "ReadOnlyAccess"
    assert managed.arn == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert managed.document_known and managed.statements
    line = line_of(BREAK_GLASS, "managed_policy_name")
    assert managed.loc.line == line
    # AWS's document is parsed once per process and shared: its statements name the policy,
    # and findings about them point at the reference above (managed.loc).
    assert {s.loc.path for s in managed.statements} == {"aws-managed:ReadOnlyAccess"}


def test_inline_contents_statements_map_to_toml_lines(main_app: Document) -> None:
    inline = main_app.roles[0].policies[1]
    assert inline.origin is PolicyOrigin.INLINE
    assert inline.name == "{{.nuon.install.id}}-deny-secrets"
    assert inline.has_contents and inline.document_known
    assert inline.source == ""
    assert inline.loc.line == line_of(BREAK_GLASS, "contents =")
    deny, allow = inline.statements
    assert (deny.sid, deny.effect) == ("NoSecrets", "Deny")
    # The statement's "{" is on the line before its "Sid".
    assert deny.loc.line == line_of(BREAK_GLASS, '"Sid": "NoSecrets"') - 1
    assert [loc.line for loc in deny.action_locs] == [
        line_of(BREAK_GLASS, '"secretsmanager:GetSecretValue"'),
        line_of(BREAK_GLASS, '"kms:Decrypt"'),
    ]
    assert all(loc.path == "app/break_glass.toml" for loc in deny.action_locs)
    assert allow.loc.line == line_of(BREAK_GLASS, "ec2:RebootInstances")
    text_line = BREAK_GLASS.splitlines()[allow.loc.line - 1]
    assert allow.loc.col == text_line.index("{") + 1


def test_one_line_contents_columns_are_file_columns(tmp_path: Path) -> None:
    text = one_policy_role(
        """'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'"""
    )
    doc = load_clean(make_app(tmp_path / "app", {"break_glass.toml": text}))
    (statement,) = doc.roles[0].policies[0].statements
    line = line_of(text, "contents =")
    source_line = text.splitlines()[line - 1]
    assert statement.loc.line == line
    assert statement.loc.col == source_line.index('{"Effect"') + 1
    assert statement.action_locs[0].col == source_line.index('"s3:GetObject"') + 1


# -- contents references ---------------------------------------------------------------


def test_relative_contents_resolves_in_permissions_first(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {"break_glass.toml": one_policy_role('"./x.json"'), "permissions/x.json": ALLOW_S3_GET},
    )
    doc = load_clean(root)
    (policy,) = doc.roles[0].policies
    assert policy.source == "app/permissions/x.json"
    assert policy.document_known
    (statement,) = policy.statements
    assert statement.actions == ("s3:GetObject",)
    assert (statement.loc.path, statement.loc.line) == ("app/permissions/x.json", 2)
    assert [(loc.path, loc.line) for loc in statement.action_locs] == [("app/permissions/x.json", 2)]
    assert doc.references == [("./x.json", "app/permissions/x.json")]
    assert doc.notes == []


def test_relative_contents_falls_back_to_the_app_root(tmp_path: Path) -> None:
    root = make_app(tmp_path / "app", {"break_glass.toml": one_policy_role('"./x.json"'), "x.json": ALLOW_S3_ALL})
    doc = load_clean(root)
    (policy,) = doc.roles[0].policies
    assert policy.source == "app/x.json"
    assert [s.actions for s in policy.statements] == [("s3:*",)]
    assert doc.references == [("./x.json", "app/x.json")]


@pytest.mark.parametrize("written", ['"./permissions/x.json"', '"file://./permissions/x.json"', '"file://x.json"'])
def test_permissions_prefixed_and_file_url_references(tmp_path: Path, written: str) -> None:
    root = make_app(
        tmp_path / "app", {"break_glass.toml": one_policy_role(written), "permissions/x.json": ALLOW_S3_GET}
    )
    doc = load_clean(root)
    (policy,) = doc.roles[0].policies
    assert policy.source == "app/permissions/x.json"
    assert [s.actions for s in policy.statements] == [("s3:GetObject",)]
    assert doc.references == [(written.strip('"'), "app/permissions/x.json")]


def test_missing_referenced_file_is_an_error_naming_the_toml_line(tmp_path: Path) -> None:
    text = one_policy_role('"./missing.json"')
    doc, errors = load(make_app(tmp_path / "app", {"break_glass.toml": text}))
    (error,) = errors
    assert error.path == "app/break_glass.toml"
    assert error.line == line_of(text, "contents =")
    assert "./missing.json" in error.message and "not found" in error.message
    (policy,) = doc.roles[0].policies
    assert not policy.document_known
    assert policy.statements == ()
    assert doc.references == []


def test_both_candidates_differing_is_an_ambiguous_reference_note(tmp_path: Path) -> None:
    text = one_policy_role('"./x.json"')
    root = make_app(
        tmp_path / "app",
        {"break_glass.toml": text, "permissions/x.json": ALLOW_S3_GET, "x.json": ALLOW_S3_ALL},
    )
    doc = load_clean(root)
    (note,) = doc.notes
    assert note.kind == "ambiguous-reference"
    assert (note.loc.path, note.loc.line) == ("app/break_glass.toml", line_of(text, "contents ="))
    assert "app/permissions/x.json" in note.message and "app/x.json" in note.message
    # Nuon's order decides which one is read.
    assert [s.actions for s in doc.roles[0].policies[0].statements] == [("s3:GetObject",)]


def test_both_candidates_identical_is_not_ambiguous(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {"break_glass.toml": one_policy_role('"./x.json"'), "permissions/x.json": ALLOW_S3_GET, "x.json": ALLOW_S3_GET},
    )
    assert load_clean(root).notes == []


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file whose bytes are read (bglint reads files through Path.read_bytes)."""
    seen: list[Path] = []
    original = pathlib.Path.read_bytes

    def spy(self: Path) -> bytes:
        seen.append(self.resolve())
        return original(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", spy)
    return seen


def _assert_nothing_read_outside(reads: list[Path], root: Path) -> None:
    outside = [p for p in reads if not p.is_relative_to(root.resolve())]
    assert outside == [], f"read outside the app directory: {outside}"


def test_dotdot_reference_escaping_the_app_is_an_error_and_not_read(tmp_path: Path, reads: list[Path]) -> None:
    # apps/demo/permissions/../../etc/passwd and apps/demo/../../etc/passwd both exist.
    write_tree(tmp_path, {"apps/etc/passwd": ALLOW_EVERYTHING, "etc/passwd": ALLOW_EVERYTHING})
    text = one_policy_role('"../../etc/passwd"')
    root = make_app(tmp_path / "apps" / "demo", {"break_glass.toml": text, "permissions/other.json": ALLOW_S3_GET})
    doc, errors = load(root)
    (error,) = errors
    assert error.path == "app/break_glass.toml"
    assert error.line == line_of(text, "contents =")
    assert "outside the app directory" in error.message
    assert doc.roles[0].policies[0].statements == ()
    assert doc.references == []
    _assert_nothing_read_outside(reads, root)


@pytest.mark.parametrize("written", ["/etc/passwd", "file:///etc/passwd"])
def test_absolute_reference_is_an_error_and_not_read(tmp_path: Path, reads: list[Path], written: str) -> None:
    text = one_policy_role(f'"{written}"')
    root = make_app(tmp_path / "app", {"break_glass.toml": text})
    doc, errors = load(root)
    (error,) = errors
    assert (error.path, error.line) == ("app/break_glass.toml", line_of(text, "contents ="))
    assert "outside the app directory" in error.message
    assert doc.roles[0].policies[0].statements == ()
    _assert_nothing_read_outside(reads, root)


def test_symlink_pointing_outside_is_an_error_and_not_read(tmp_path: Path, reads: list[Path]) -> None:
    secret = write_tree(tmp_path, {"outside/secret.json": ALLOW_EVERYTHING}) / "outside" / "secret.json"
    text = one_policy_role('"./link.json"')
    root = make_app(tmp_path / "app", {"break_glass.toml": text})
    (root / "permissions").mkdir()
    (root / "permissions" / "link.json").symlink_to(secret)
    doc, errors = load(root)
    (error,) = errors
    assert (error.path, error.line) == ("app/break_glass.toml", line_of(text, "contents ="))
    assert "outside the app directory" in error.message
    assert doc.roles[0].policies[0].statements == ()
    _assert_nothing_read_outside(reads, root)


def test_outside_symlink_as_second_candidate_is_not_read(tmp_path: Path, reads: list[Path]) -> None:
    """permissions/x.json is used; the root's x.json links outside and must not be opened to compare."""
    secret = write_tree(tmp_path, {"outside/secret.json": ALLOW_EVERYTHING}) / "outside" / "secret.json"
    root = make_app(
        tmp_path / "app", {"break_glass.toml": one_policy_role('"./x.json"'), "permissions/x.json": ALLOW_S3_GET}
    )
    (root / "x.json").symlink_to(secret)
    doc, _ = load(root)
    assert [s.actions for s in doc.roles[0].policies[0].statements] == [("s3:GetObject",)]
    _assert_nothing_read_outside(reads, root)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("bglint tried to fetch a remote reference")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.mark.parametrize(
    "written",
    [
        "https://example.com/policy.json",
        "http://example.com/policy.json",
        "git::https://github.com/example/policies//bg.json",
    ],
)
def test_remote_references_are_never_fetched(tmp_path: Path, no_network: None, written: str) -> None:
    text = f'''\
[[role]]
name                 = "bg"
description          = "d"
permissions_boundary = "{written}"

[[role.policies]]
name     = "p"
contents = "{written}"
'''
    doc, errors = load(make_app(tmp_path / "app", {"break_glass.toml": text}))
    # A remote reference is valid Nuon config, so it is no input error; its document is
    # unknown (BG009 reports it) and nothing was fetched (the no_network fixture).
    assert errors == []
    role = doc.roles[0]
    assert not role.policies[0].document_known
    assert role.policies[0].arn == written
    assert role.boundary is not None and role.boundary.state is BoundaryState.UNKNOWN
    assert role.boundary.reference == written
    assert doc.references == []


# -- permissions boundaries ------------------------------------------------------------


def boundary_role(boundary: str) -> str:
    return f"""\
[[role]]
name                 = "bg"
description          = "d"
permissions_boundary = {boundary}

[[role.policies]]
managed_policy_name = "ReadOnlyAccess"
"""


@pytest.mark.parametrize(
    ("written", "files"),
    [
        ('""', {}),
        ('"{}"', {}),
        ('" { } "', {}),
        ('"./empty_boundary.json"', {"permissions/empty_boundary.json": "{}\n"}),
    ],
)
def test_empty_boundaries(tmp_path: Path, written: str, files: dict[str, str]) -> None:
    text = boundary_role(written)
    doc = load_clean(make_app(tmp_path / "app", {"break_glass.toml": text, **files}))
    boundary = doc.roles[0].boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.EMPTY
    assert boundary.policies == ()
    assert (boundary.loc.path, boundary.loc.line) == ("app/break_glass.toml", line_of(text, "permissions_boundary"))


def test_boundary_file_is_read_from_permissions(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {"break_glass.toml": boundary_role('"./bg_boundary.json"'), "permissions/bg_boundary.json": ALLOW_S3_GET},
    )
    doc = load_clean(root)
    boundary = doc.roles[0].boundary
    assert boundary is not None
    assert boundary.state is BoundaryState.DOCUMENT
    assert boundary.reference == "./bg_boundary.json"
    (policy,) = boundary.policies
    assert policy.source == "app/permissions/bg_boundary.json"
    assert [(s.actions, s.loc.path, s.loc.line) for s in policy.statements] == [
        (("s3:GetObject",), "app/permissions/bg_boundary.json", 2)
    ]
    assert doc.references == [("./bg_boundary.json", "app/permissions/bg_boundary.json")]


def test_boundary_literal_json(tmp_path: Path) -> None:
    text = boundary_role(
        """'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}'"""
    )
    doc = load_clean(make_app(tmp_path / "app", {"break_glass.toml": text}))
    boundary = doc.roles[0].boundary
    assert boundary is not None and boundary.state is BoundaryState.DOCUMENT
    assert [s.actions for p in boundary.policies for s in p.statements] == [("ec2:*",)]
    assert boundary.policies[0].statements[0].loc.line == line_of(text, "permissions_boundary")


@pytest.mark.parametrize(
    ("arn", "state", "origin"),
    [
        ("arn:aws:iam::aws:policy/PowerUserAccess", BoundaryState.DOCUMENT, PolicyOrigin.AWS_MANAGED),
        ("arn:aws:iam::111122223333:policy/their-boundary", BoundaryState.UNKNOWN, PolicyOrigin.EXTERNAL),
    ],
)
def test_boundary_arn(tmp_path: Path, arn: str, state: BoundaryState, origin: PolicyOrigin) -> None:
    doc = load_clean(make_app(tmp_path / "app", {"break_glass.toml": boundary_role(f'"{arn}"')}))
    boundary = doc.roles[0].boundary
    assert boundary is not None
    assert boundary.state is state
    (policy,) = boundary.policies
    assert (policy.origin, policy.arn) == (origin, arn)
    assert bool(policy.statements) is (state is BoundaryState.DOCUMENT)


# -- named policies --------------------------------------------------------------------

NAMED_ROLE = """\
[[role]]
name        = "bg"
description = "d"

[[role.named_policies]]
name = "{{.nuon.install.id}}-eks-upgrade"

[[role.named_policies]]
name = "never-defined"
"""

NAMED_POLICY = '''\
name        = "{{.nuon.install.id}}-eks-upgrade"
description = "Upgrade the cluster"
contents    = """
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "eks:UpdateClusterVersion", "Resource": "*"}
]}
"""
'''


def test_named_policies_resolve_and_undefined_is_an_error(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {"break_glass.toml": NAMED_ROLE, "permissions/policies/eks.toml": NAMED_POLICY},
    )
    doc, errors = load(root)
    (error,) = errors
    assert error.path == "app/break_glass.toml"
    assert error.line == line_of(NAMED_ROLE, '"never-defined"')
    assert "never-defined" in error.message and "permissions/policies" in error.message
    (policy,) = doc.roles[0].policies
    assert policy.name == "{{.nuon.install.id}}-eks-upgrade"
    assert policy.loc.path == "app/permissions/policies/eks.toml"
    (statement,) = policy.statements
    assert statement.actions == ("eks:UpdateClusterVersion",)
    assert (statement.loc.path, statement.loc.line) == (
        "app/permissions/policies/eks.toml",
        line_of(NAMED_POLICY, "eks:UpdateClusterVersion"),
    )
    # A named policy file is not an operation role.
    assert [role.name for role in doc.roles] == ["bg"]


# -- permissions/ and permissions.toml -------------------------------------------------

PROVISION = """\
type                 = "provision"
name                 = "{{.nuon.install.id}}-provision"
description          = "Provision the install"
permissions_boundary = "./provision_boundary.json"

[[policies]]
managed_policy_name = "PowerUserAccess"
"""

LEGACY = """\
[provision_role]
name        = "prov"
description = "d"

[[provision_role.policies]]
managed_policy_name = "PowerUserAccess"

[maintenance_role]
name        = "maint"
description = "d"

[[maintenance_role.policies]]
managed_policy_name = "ReadOnlyAccess"

[deprovision_role]
name        = "deprov"
description = "d"

[[custom_roles]]
name        = "custom-one"
description = "d"
"""


def test_permissions_folder_roles_are_not_break_glass(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {"permissions/provision.toml": PROVISION, "permissions/provision_boundary.json": ALLOW_S3_GET},
    )
    doc = load_clean(root)
    role = role_named(doc, "{{.nuon.install.id}}-provision")
    assert role.source_kind == "nuon-permissions"
    assert role.break_glass is False
    assert role.loc.path == "app/permissions/provision.toml"
    assert [p.name for p in role.policies] == ["PowerUserAccess"]
    assert role.boundary is not None and role.boundary.state is BoundaryState.DOCUMENT


def test_permission_roles_become_break_glass_by_selector(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {"permissions/provision.toml": PROVISION, "permissions/provision_boundary.json": ALLOW_S3_GET},
    )
    doc, errors = load(root, Selection(patterns=("*-provision",)))
    assert errors == []
    role = doc.roles[0]
    assert role.break_glass
    assert role.break_glass_reason == "matches selector '*-provision'"


def test_legacy_permissions_toml_roles(tmp_path: Path) -> None:
    doc = load_clean(make_app(tmp_path / "app", {"permissions.toml": LEGACY}))
    assert [(r.name, r.source_kind, r.break_glass) for r in doc.roles] == [
        ("prov", "nuon-permissions", False),
        ("maint", "nuon-permissions", False),
        ("deprov", "nuon-permissions", False),
        ("custom-one", "nuon-permissions", False),
    ]
    assert all(r.loc.path == "app/permissions.toml" for r in doc.roles)
    assert role_named(doc, "maint").loc.line == line_of(LEGACY, "[maintenance_role]")
    assert [p.name for p in role_named(doc, "prov").policies] == ["PowerUserAccess"]


def test_legacy_and_folder_together_is_an_error(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {
            "permissions.toml": LEGACY,
            "permissions/provision.toml": PROVISION,
            "permissions/provision_boundary.json": ALLOW_S3_GET,
        },
    )
    doc, errors = load(root)
    (error,) = errors
    assert error.path == "app/permissions.toml"
    assert "permissions.toml" in error.message and "permissions/" in error.message
    # Both are still read, so their roles are still checked.
    assert {r.name for r in doc.roles} == {"{{.nuon.install.id}}-provision", "prov", "maint", "deprov", "custom-one"}


# -- network context -------------------------------------------------------------------


def stack(url: str) -> str:
    return f'name = "s"\ndescription = "d"\nvpc_nested_template_url = "{url}"\n'


SANDBOX_VARS = """\
terraform_version = "1.9.0"

[public_repo]
repo      = "example/aws-eks-sandbox"
directory = "."
branch    = "main"

[vars]
cluster_name = "c"
vpc_id       = "{{ .nuon.install.inputs.vpc_id }}"
"""


@pytest.mark.parametrize(
    ("name", "text", "kind", "signal_words", "marker"),
    [
        (
            "stack.toml",
            stack("https://example.com/t/v0.4.0/byo-vpc/default/stack.yaml"),
            NetworkKind.CUSTOMER_MANAGED,
            "stack.toml",
            "vpc_nested_template_url",
        ),
        (
            "stack.toml",
            stack("https://example.com/t/v0.4.0/vpc/eks/stack.yaml"),
            NetworkKind.VENDOR_MANAGED,
            "stack.toml",
            "vpc_nested_template_url",
        ),
        (
            "sandbox.toml",
            SANDBOX_REPO.format(repo="nuonco/aws-byo-eks-sandbox"),
            NetworkKind.CUSTOMER_MANAGED,
            "byo-eks",
            "repo      =",
        ),
        ("sandbox.toml", SANDBOX_VARS, NetworkKind.CUSTOMER_MANAGED, "vars.vpc_id", "vpc_id       ="),
    ],
)
def test_network_signals(
    tmp_path: Path, name: str, text: str, kind: NetworkKind, signal_words: str, marker: str
) -> None:
    root = make_app(tmp_path / "app", {"break_glass.toml": boundary_role('""'), name: text})
    network = load_clean(root).network
    assert network.kind is kind
    assert name in network.signal and signal_words in network.signal
    assert network.loc is not None
    assert (network.loc.path, network.loc.line) == (f"app/{name}", line_of(text, marker))


def test_stack_signal_beats_sandbox(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {
            "stack.toml": stack("https://example.com/t/vpc/eks/stack.yaml"),
            "sandbox.toml": SANDBOX_REPO.format(repo="nuonco/aws-byovpc-sandbox"),
        },
    )
    assert load_clean(root).network.kind is NetworkKind.VENDOR_MANAGED


def test_no_signal_is_unknown(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {
            "stack.toml": 'name = "s"\ndescription = "d"\n',
            "sandbox.toml": SANDBOX_REPO.format(repo="example/aws-eks-sandbox"),
        },
    )
    network = load_clean(root).network
    assert network.kind is NetworkKind.UNKNOWN
    assert network.loc is None
    assert network.signal


def test_stated_network_overrides_every_signal(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "app",
        {
            "stack.toml": stack("https://example.com/t/vpc/eks/stack.yaml"),
            "break_glass.toml": boundary_role('""'),
        },
    )
    loaded = load_paths([root], LoadOptions(network="customer-managed"))
    assert loaded.errors == []
    (doc,) = loaded.documents
    assert doc.network.kind is NetworkKind.CUSTOMER_MANAGED
    assert doc.network.signal == "stated in the bglint config"


# -- other clouds, actions, unknown keys, schema errors --------------------------------


def test_gcp_role_and_azure_app_platforms(tmp_path: Path) -> None:
    gcp_roles = """\
[[role]]
name           = "gcp-bg"
description    = "d"
cloud_platform = "gcp"

[[role.policies]]
gcp_permissions = ["logging.logs.list"]

[[role]]
name        = "aws-bg"
description = "d"

[[role.policies]]
managed_policy_name = "ReadOnlyAccess"
"""
    doc = load_clean(make_app(tmp_path / "gcp", {"break_glass.toml": gcp_roles}))
    assert [(r.name, r.platform) for r in doc.roles] == [("gcp-bg", "gcp"), ("aws-bg", "aws")]
    (gcp_policy,) = role_named(doc, "gcp-bg").policies
    assert gcp_policy.statements == ()  # never read as an AWS document

    azure_roles = """\
[[role]]
name        = "azure-bg"
description = "d"

[[role.policies]]
azure_built_in_roles = ["Reader"]
"""
    azure = make_app(
        tmp_path / "azure",
        {"stack.toml": 'type = "azure-bicep"\nname = "s"\ndescription = "d"\n', "break_glass.toml": azure_roles},
    )
    doc = load_clean(azure)
    assert [(r.name, r.platform) for r in doc.roles] == [("azure-bg", "azure")]


ACTION = """\
name             = "restart"
break_glass_role = "{{.nuon.install.id}}-sandbox-bg"

[[triggers]]
type = "manual"

[[steps]]
name    = "restart"
command = "./restart.sh"
"""


def test_action_break_glass_role_is_recorded(tmp_path: Path) -> None:
    root = make_app(tmp_path / "app", {"break_glass.toml": BREAK_GLASS, "actions/restart.toml": ACTION})
    doc = load_clean(root)
    (reference,) = doc.role_references
    assert reference.name == "{{.nuon.install.id}}-sandbox-bg"
    assert (reference.loc.path, reference.loc.line) == ("app/actions/restart.toml", line_of(ACTION, "break_glass_role"))


def test_unknown_key_is_a_note_not_an_error(tmp_path: Path) -> None:
    text = """\
[[role]]
name                = "bg"
description         = "d"
permission_boundary = ""

[[role.policies]]
managed_policy_name = "ReadOnlyAccess"
"""
    doc = load_clean(make_app(tmp_path / "app", {"break_glass.toml": text}))
    (note,) = doc.notes
    assert note.kind == "unknown-key"
    assert (note.loc.path, note.loc.line) == ("app/break_glass.toml", line_of(text, "permission_boundary"))
    assert "permission_boundary" in note.message and "permissions_boundary" in note.message
    assert doc.roles[0].boundary is None


def test_schema_type_error_is_an_input_error_with_line(tmp_path: Path) -> None:
    text = """\
[[role]]
name        = "bg"
description = 42

[[role.policies]]
managed_policy_name = "ReadOnlyAccess"
"""
    doc, errors = load(make_app(tmp_path / "app", {"break_glass.toml": text}))
    (error,) = errors
    assert (error.path, error.line) == ("app/break_glass.toml", line_of(text, "description"))
    assert "description" in error.message and "string" in error.message
    # The role is still loaded and checked.
    assert [p.name for p in doc.roles[0].policies] == ["ReadOnlyAccess"]


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    text = '[[role]]\nname = "bg"\ndescription = "unterminated\n'
    doc, errors = load(make_app(tmp_path / "app", {"break_glass.toml": text}))
    (error,) = errors
    assert error.path == "app/break_glass.toml"
    assert error.line == 3
    assert doc.roles == []


# -- load_paths: what a user passes ----------------------------------------------------

BG_TEMPLATE = """\
Resources:
  BreakglassSupport:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: arn:aws:iam::111122223333:root}
            Action: sts:AssumeRole
      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
"""


def test_template_inside_the_app_gets_the_app_network(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "apps" / "demo",
        {
            "stack.toml": stack("https://example.com/t/byo-vpc/stack.yaml"),
            "break_glass.toml": boundary_role('""'),
            "cloudformation/bg/stack.yaml": BG_TEMPLATE,
        },
    )
    loaded = load_paths([root], LoadOptions())
    assert loaded.errors == []
    kinds = {doc.kind: doc for doc in loaded.documents}
    assert set(kinds) == {"app", "template"}
    template = kinds["template"]
    assert template.path == str(root / "cloudformation" / "bg" / "stack.yaml")
    assert template.network == kinds["app"].network
    assert template.network.kind is NetworkKind.CUSTOMER_MANAGED
    assert [r.name for r in template.roles] == ["BreakglassSupport"]


def test_template_outside_any_app_has_unknown_network(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"stack.yaml": BG_TEMPLATE}) / "stack.yaml"
    loaded = load_paths([path], LoadOptions())
    (doc,) = loaded.documents
    assert doc.network.kind is NetworkKind.UNKNOWN
    assert "--app-config" in doc.network.signal


def test_an_app_config_also_checked_gives_loose_templates_its_network_and_loads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_app(
        tmp_path / "apps" / "demo",
        {"stack.toml": stack("https://example.com/t/byo-vpc/stack.yaml"), "break_glass.toml": boundary_role('""')},
    )
    loose = write_tree(tmp_path / "loose", {"stack.yaml": BG_TEMPLATE}) / "stack.yaml"
    calls: list[Path] = []

    def counted(app: Path, *args: Any) -> tuple[Document, list[InputError]]:
        calls.append(app)
        return load_app(app, *args)

    monkeypatch.setattr("bglint.load.nuon.app.load_app", counted)
    loaded = load_paths([root, loose], LoadOptions(app_config=root))
    assert loaded.errors == []
    template = next(doc for doc in loaded.documents if doc.kind == "template")
    assert template.network.kind is NetworkKind.CUSTOMER_MANAGED
    assert calls == [root.resolve()]  # as the app checked, not a second time as the context


def test_one_file_of_an_app_loads_the_whole_app(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "apps" / "demo",
        {
            "stack.toml": stack("https://example.com/t/byo-vpc/stack.yaml"),
            "break_glass.toml": BREAK_GLASS,
            "permissions/provision.toml": PROVISION,
            "permissions/provision_boundary.json": ALLOW_S3_GET,
        },
    )
    loaded = load_paths([root / "permissions" / "provision.toml"], LoadOptions())
    assert loaded.errors == []
    (doc,) = loaded.documents
    assert doc.kind == "app"
    assert Path(doc.path).resolve() == root.resolve()
    assert {r.name for r in doc.roles} == {"{{.nuon.install.id}}-sandbox-bg", "{{.nuon.install.id}}-provision"}
    assert doc.network.kind is NetworkKind.CUSTOMER_MANAGED


def test_nonexistent_path_is_an_error(tmp_path: Path) -> None:
    loaded = load_paths([tmp_path / "nope"], LoadOptions())
    (error,) = loaded.errors
    assert error.path == str(tmp_path / "nope")
    assert loaded.documents == []
