"""What Nuon will deploy, judged end to end: the real CLI on app configs and templates written here.

Grounded in Nuon's stack generator (Enable<L> parameters defaulting to `enabled_in_stack`,
else "false"; CamelCased logical ids in one namespace; `arn:aws:iam::aws:policy/<name>` per
managed entry), its parser (`role`/`break_glass_role`, manual-only triggers for break-glass
roles, the boundary stored as a JSON document) and IAM's documented limits (10 managed
policies per role, names of `[\\w+=,.@-]`, policy names up to 128 characters).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_rules import (
    CUSTOMER_FLAG,
    ROLE,
    VENDOR,
    VENDOR_FLAG,
    Case,
    Never,
    Reports,
    Want,
    allow,
    app,
    assert_expectations,
    bglint,
    deny,
    template,
    write,
)

ACTION = """\
name = "debug"
{key} = "{role}"

[[triggers]]
type = "{trigger}"

[[steps]]
name = "look"
command = "true"
"""
NAMED = 'name = "{name}"\ncontents = """{{"Version": "2012-10-17", "Statement": [{statement}]}}"""\n'


def action(role: str = ROLE, trigger: str = "manual", key: str = "break_glass_role") -> str:
    return ACTION.format(key=key, role=role, trigger=trigger)


def inline(name: str, statement: str) -> str:
    return f'\n[[role.policies]]\nname = "{name}"\ncontents = \'{{"Version": "2012-10-17", "Statement": [{statement}]}}\'\n'


def gated_template(default: str) -> dict[str, str]:
    head = f"""\
    Parameters:
      EnableBreakGlass: {{Type: String, Default: "{default}", AllowedValues: ["true", "false"]}}
    Conditions:
      BreakGlassOn: !Equals [!Ref EnableBreakGlass, "true"]
    """
    return template(
        allow("s3:GetObject", "arn:aws:s3:::install-bucket/*"), head=head, metadata="Condition: BreakGlassOn\n"
    )


def many_managed(count: int) -> tuple[str, ...]:
    known = (
        "ReadOnlyAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonEC2ReadOnlyAccess",
        "IAMReadOnlyAccess",
        "AWSLambda_ReadOnlyAccess",
        "AmazonRDSReadOnlyAccess",
        "CloudWatchReadOnlyAccess",
        "AmazonDynamoDBReadOnlyAccess",
        "AmazonEKSClusterPolicy",
        "AmazonSQSReadOnlyAccess",
        "AmazonSNSReadOnlyAccess",
    )
    return known[:count]


def signal_only(files: dict[str, str]) -> dict[str, str]:
    """An app with no stack.toml: the network kind comes from the sandbox files given."""
    return app(network=None, boundary='""', managed=("ReadOnlyAccess",), files=files)


def with_var_file(tfvars: str) -> dict[str, str]:
    return {"sandbox.toml": SANDBOX + '[[var_file]]\ncontents = "./sandbox.tfvars"\n', "sandbox.tfvars": tfvars}


SANDBOX = 'terraform_version = "1.11.3"\n[public_repo]\nrepo = "o/r"\ndirectory = "."\nbranch = "main"\n'
S3_GET = allow("s3:GetObject", "arn:aws:s3:::install-bucket/*")

CASES: list[Case] = [
    # BG024 standing access -------------------------------------------------------------
    Case(
        "BG024-enabled-in-stack-customer-network",
        app(role_extra="enabled_in_stack = true\n", policies={"read": [S3_GET]}),
        want=(Want("BG024", "error", "break_glass.toml", "[[role]]", ("enabled_in_stack = true", "install time")),),
    ),
    Case(
        "BG024-enabled-in-stack-vendor-network",
        app(network=VENDOR, role_extra="enabled_in_stack = true\n", policies={"read": [S3_GET]}),
        want=(Want("BG024", "warning", "break_glass.toml", "[[role]]"),),
    ),
    Case(
        "BG024-not-when-enabled-in-stack-is-false-or-unset",
        app(role_extra="enabled_in_stack = false\n", policies={"read": [S3_GET]}),
        never=(Never("BG024"),),
    ),
    Case(
        "BG024-template-enable-parameter-defaults-true",
        gated_template("true"),
        want=(Want("BG024", "warning", "template.yaml", "  BreakGlassRole:", ("EnableBreakGlass",)),),
        flags=VENDOR_FLAG,
    ),
    Case(
        "BG024-template-enable-parameter-defaults-false",
        gated_template("false"),
        never=(Never("BG024"),),
        flags=VENDOR_FLAG,
    ),
    Case(
        "BG024-template-ungated-role-in-an-install-stack",
        template(
            S3_GET,
            resources="""\
            RunnerAutoScalingGroup:
              Type: AWS::CloudFormation::Stack
              Properties: {TemplateURL: "https://example.com/runner.yaml"}
            """,
        ),
        want=(Want("BG024", "error", "template.yaml", "  BreakGlassRole:", ("install stack",)),),
        flags=CUSTOMER_FLAG,
    ),
    Case(
        # A hand-written break-glass stack is created when the glass is broken: no standing access.
        "BG024-not-for-an-ungated-role-in-a-break-glass-stack",
        template(S3_GET),
        never=(Never("BG024"),),
        flags=CUSTOMER_FLAG,
    ),
    # BG026 managed-policy quota ---------------------------------------------------------
    Case(
        "BG026-eleven-managed-policies",
        app(network=VENDOR, managed=many_managed(11)),
        want=(Want("BG026", "error", "break_glass.toml", '"AmazonSNSReadOnlyAccess"', ("11 managed policies",)),),
    ),
    Case("BG026-ten-managed-policies", app(network=VENDOR, managed=many_managed(10)), never=(Never("BG026"),)),
    Case(
        "BG026-named-policies-count-too",
        app(
            network=VENDOR,
            managed=many_managed(9),
            role_extra="",
            more_roles='\n[[role.named_policies]]\nname = "one"\n\n[[role.named_policies]]\nname = "two"\n',
            files={
                "permissions/policies/one.toml": NAMED.format(name="one", statement=S3_GET),
                "permissions/policies/two.toml": NAMED.format(name="two", statement=S3_GET),
            },
        ),
        want=(Want("BG026", "error", "permissions/policies/two.toml", "contents", ("11 managed policies",)),),
    ),
    # BG027 logical-id collisions --------------------------------------------------------
    Case(
        "BG027-dash-and-underscore-collide",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            more_roles=inline("deny-secrets", deny("secretsmanager:*")) + inline("deny_secrets", deny("ssm:*")),
        ),
        # The name makes the logical id: the finding is placed at the later one's name.
        want=(Want("BG027", "error", "break_glass.toml", 'name = "deny_secrets"', ("DenySecrets", "replaces")),),
    ),
    Case(
        "BG027-different-names-do-not-collide",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            more_roles=inline("deny-secrets", deny("secretsmanager:*")) + inline("deny-params", deny("ssm:*")),
        ),
        never=(Never("BG027"),),
    ),
    Case(
        "BG027-two-roles-with-one-name",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            more_roles=f'\n[[role]]\nname = "{ROLE}"  # the second\ndescription = "again"\n\n[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n',
        ),
        want=(Want("BG027", "error", "break_glass.toml", "the second", ("role '",)),),
    ),
    # BG028 break-glass role run by automation -------------------------------------------
    Case(
        "BG028-break-glass-role-on-role-enabled",
        app(network=VENDOR, managed=("ReadOnlyAccess",), files={"actions/debug.toml": action(trigger="role-enabled")}),
        want=(Want("BG028", "error", "actions/debug.toml", 'type = "role-enabled"', ("plan time",)),),
    ),
    Case(
        "BG028-role-key-naming-a-break-glass-role-on-cron",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            files={"actions/debug.toml": action(trigger="cron", key="role")},
        ),
        want=(Want("BG028", "error", "actions/debug.toml", 'type = "cron"'),),
    ),
    Case(
        "BG028-manual-trigger-is-fine",
        app(network=VENDOR, managed=("ReadOnlyAccess",), files={"actions/debug.toml": action()}),
        never=(Never("BG028"), Never("BG013")),
    ),
    # BG029 names IAM refuses ------------------------------------------------------------
    Case(
        "BG029-policy-name-with-a-space",
        app(network=VENDOR, more_roles=inline("deny secrets", deny("secretsmanager:*")), managed=("ReadOnlyAccess",)),
        # The name is what IAM refuses: the finding is placed at it, not at the contents.
        want=(Want("BG029", "error", "break_glass.toml", 'name = "deny secrets"', ("' '",)),),
    ),
    Case(
        "BG029-policy-name-over-128-characters",
        app(
            network=VENDOR,
            more_roles=inline("{{.nuon.install.id}}-" + "x" * 110, deny("ssm:*")),
            managed=("ReadOnlyAccess",),
        ),
        want=(Want("BG029", "error", "break_glass.toml", "-" + "x" * 110, ("137 characters",)),),
    ),
    Case(
        "BG029-role-name-with-a-space",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            more_roles='\n[[role]]\nname = "ops break glass"\ndescription = "d"\n\n[[role.policies]]\n'
            'managed_policy_name = "ReadOnlyAccess"\n',
        ),
        want=(Want("BG029", "error", "break_glass.toml", 'name = "ops break glass"', ("role names (' ')",)),),
    ),
    Case(
        "BG029-named-policy-name-with-a-space",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            more_roles='\n[[role.named_policies]]\nname = "deny secrets"\n',
            files={"permissions/policies/deny.toml": NAMED.format(name="deny secrets", statement=deny("ssm:*"))},
        ),
        want=(Want("BG029", "error", "permissions/policies/deny.toml", 'name = "deny secrets"', ("named policy",)),),
    ),
    Case(
        "BG029-valid-names",
        app(
            network=VENDOR,
            more_roles=inline("{{.nuon.install.id}}-deny_secrets.v2", deny("ssm:*")),
            managed=("ReadOnlyAccess",),
        ),
        never=(Never("BG029"),),
    ),
    # BG013 for `role` --------------------------------------------------------------------
    Case(
        "BG013-role-key-names-no-role",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            files={"actions/debug.toml": action(role="{{.nuon.install.id}}-brak-glass", key="role")},
        ),
        want=(Want("BG013", "error", "actions/debug.toml", 'role = "', ("names no role",)),),
    ),
    Case(
        "BG013-role-key-may-name-a-permissions-role",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            files={
                "actions/debug.toml": action(role="{{.nuon.install.id}}-maint", key="role"),
                "permissions/maintenance.toml": 'type = "maintenance"\nname = "{{.nuon.install.id}}-maint"\n'
                'description = "d"\n\n[[policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n',
            },
        ),
        never=(Never("BG013"),),
    ),
    # BG014 with Nuon's template functions ----------------------------------------------
    Case(
        "BG014-upper-keeps-26-characters",
        app(network=VENDOR, name="{{ .nuon.install.id | upper }}-" + "b" * 40, managed=("ReadOnlyAccess",)),
        want=(Want("BG014", "error", "break_glass.toml", "[[role]]", ("67 characters",)),),
    ),
    Case(
        "BG014-trunc-shortens-the-id",
        app(network=VENDOR, name="{{ .nuon.install.id | trunc 8 }}-" + "b" * 40, managed=("ReadOnlyAccess",)),
        never=(Never("BG014"),),
    ),
    # A boundary given as an ARN bounds nothing -------------------------------------------
    Case(
        "BG002-boundary-arn-bounds-nothing",
        app(boundary='"arn:aws:iam::aws:policy/ReadOnlyAccess"', managed=("AdministratorAccess",)),
        want=(
            Want("BG002", "error", "break_glass.toml", "permissions_boundary", ("an ARN", "nothing bounds")),
            Want("BG001", "error", "break_glass.toml", '"AdministratorAccess"'),
        ),
        never=(Never("BG009"),),
    ),
    # BG015 only for keys Nuon lacks ------------------------------------------------------
    Case(
        "BG015-not-for-keys-nuon-has",
        app(
            network=VENDOR,
            managed=("ReadOnlyAccess",),
            role_extra='type = "breakglass"\n',
            files={
                "stack.toml": 'name = "s"\ndescription = "d"\ntype = "aws-cloudformation"\ndeployment_scope = "install"\n'
            },
        ),
        never=(Never("BG015"),),
    ),
    # Network kind from the spellings and files Nuon reads ---------------------------------
    Case(
        "network-from-nuon-inputs-inputs",
        signal_only({"sandbox.toml": SANDBOX + '[vars]\nvpc_id = "{{ .nuon.inputs.inputs.vpc_id }}"\n'}),
        want=(Want("BG002", "error", "break_glass.toml", "permissions_boundary", ("customer-managed",)),),
    ),
    Case(
        "network-from-a-var-file",
        signal_only(with_var_file('private_subnet_ids = "{{.nuon.install.inputs.private_subnets}}"\n')),
        want=(Want("BG002", "error", "break_glass.toml", "permissions_boundary", ("customer-managed",)),),
    ),
    Case(
        # The vendor's stack outputs are not the customer's inputs: no signal, so a note.
        "network-var-file-from-stack-outputs-is-no-signal",
        signal_only(with_var_file('vpc_id = "{{.nuon.install_stack.outputs.vpc_id}}"\n')),
        want=(Want("BG002", "note", "break_glass.toml", "permissions_boundary"),),
    ),
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """Every case in its own dir; one CLI run per set of flags."""
    base = tmp_path_factory.mktemp("deploy")
    by_flags: dict[tuple[str, ...], list[Case]] = {}
    for case in CASES:
        write(base / case.id, case.files)
        by_flags.setdefault(case.flags, []).append(case)
    result: Reports = {}
    for flags, cases in by_flags.items():
        _, report, _ = bglint(*(base / case.id for case in cases), *flags)
        for case in cases:
            root = (base / case.id).resolve()
            mine = [f for f in report["findings"] if Path(f["path"]).resolve().is_relative_to(root)]
            errors = [e for e in report["errors"] if Path(e["path"]).resolve().is_relative_to(root)]
            result[case.id] = (base / case.id, mine, errors)
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_deploy_case(case: Case, reports: Reports) -> None:
    root, findings, errors = reports[case.id]
    assert not errors, errors
    assert_expectations(case, root, findings)


def test_every_new_rule_has_positive_and_negative_cases() -> None:
    new = {"BG024", "BG026", "BG027", "BG028", "BG029"}
    assert new <= {w.rule for c in CASES for w in c.want}
    assert new <= {n.rule for c in CASES for n in c.never}
