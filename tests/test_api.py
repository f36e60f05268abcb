"""bglint.api, the stable Python API: load, list roles, ask `can`, read findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bglint import api

ROOT = Path(__file__).resolve().parent.parent
GOOD_APP = ROOT / "examples" / "good-app"
BAD_TEMPLATE = ROOT / "examples" / "templates" / "bad-break-glass.yaml"
INSTANCE = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"
TAG = "aws:ResourceTag/install.nuon.co/id"
INSTALL = "{{.nuon.install.id}}"  # as the good example's policy writes the install id


def test_the_public_names_are_the_documented_ones() -> None:
    assert sorted(api.__all__) == ["Condition", "Decision", "Finding", "Loaded", "Role", "load"]


def test_good_example_role_can_restart_the_install_nodes_only() -> None:
    loaded = api.load([GOOD_APP])
    assert loaded.errors == ()
    role = loaded.role(f"{INSTALL}-sandbox-bg")
    assert role.break_glass and role.path.endswith("break_glass.toml")
    # For some request: allowed, under the install-tag condition (role policy and boundary).
    some = role.can("ec2:RebootInstances", INSTANCE)
    assert some.allowed and not some.unconditional
    assert {c.key for c in some.conditions} == {TAG}
    # For one request: the condition is evaluated.
    assert role.can("ec2:RebootInstances", INSTANCE, {TAG: INSTALL}).unconditional
    assert not role.can("ec2:RebootInstances", INSTANCE, {TAG: "someone-else"}).allowed
    assert not role.can("ec2:RebootInstances", INSTANCE, {}).allowed  # an untagged instance
    assert not role.can("ec2:TerminateInstances", INSTANCE, {TAG: INSTALL}).allowed
    assert role.can("ec2:DescribeInstances").unconditional
    assert loaded.findings == ()


def test_findings_and_roles_of_a_bad_template() -> None:
    loaded = api.load([BAD_TEMPLATE], network="customer-managed")
    assert loaded.roles and all(isinstance(r, api.Role) for r in loaded.roles)
    rules = {f.rule for f in loaded.findings}
    assert "BG001" in rules
    first = loaded.findings[0]
    assert (
        first.path.endswith("bad-break-glass.yaml")
        and first.line > 0
        and first.severity in ("error", "warning", "note")
    )


def test_unreadable_input_is_an_error_line_not_an_exception(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n", encoding="utf-8")
    loaded = api.load([broken])
    assert len(loaded.errors) == 1 and loaded.errors[0].startswith(str(broken)) and ": error: " in loaded.errors[0]


def test_role_lookup_by_name_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        api.load([GOOD_APP]).role("nope")


def test_conditions_that_always_hold_make_no_condition(tmp_path: Path) -> None:
    """aws:CurrentTime is in every request (IAM User Guide, global condition keys): after a past date it always holds."""
    template = tmp_path / "t.yaml"
    template.write_text(
        """\
Resources:
  Ops:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: "*"
                Resource: "*"
                Condition: {DateGreaterThan: {aws:CurrentTime: "2001-01-01T00:00:00Z"}}
""",
        encoding="utf-8",
    )
    role = api.load([template], all_roles=True).role("Ops")
    assert role.can("iam:CreateRole", "arn:aws:iam::111122223333:role/x").unconditional
    assert role.can("ec2:RebootInstances", INSTANCE, {"aws:CurrentTime": "2000-01-01T00:00:00Z"}).allowed is False
