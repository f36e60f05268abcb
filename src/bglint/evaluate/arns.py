"""The ARNs a role and its policies get when deployed, as AWS names them.

A role's ARN carries its `Path` and its `RoleName`, or, without one, the name CloudFormation
generates (`<stack>-<logical id>-<suffix>`); a template's managed policy carries its `Path` and
`ManagedPolicyName` (or the generated name). Placeholders become one sample value, so a policy
`Resource` such as `role/${AWS::StackName}-*` (widened in an Allow) is matched against them.
"""

from typing import NamedTuple

from bglint.model import NUON_TEMPLATE, SUB_VARIABLE, PolicyOrigin, Role, SourceKind
from bglint.regex import Regex

SAMPLE_ACCOUNT = "123456789012"
_TEMPLATE = Regex(NUON_TEMPLATE)
_INSTALL_ID = Regex(r"\{\{-?\s*\.nuon\.install\.id\s*-?\}\}")
_VARIABLE = Regex(SUB_VARIABLE)
_PARTITION = Regex(r"^arn:([a-z][a-z-]*):")


def rendered_name(name: str) -> str:
    """A Nuon role name as deployed: the install id is 26 characters."""
    return _TEMPLATE.sub("", _INSTALL_ID.sub("x" * 26, name))


def _concrete(text: str) -> str:
    """A deployed value for a name with placeholders (`${AWS::StackName}` -> a stack name)."""
    return _VARIABLE.sub("sample", rendered_name(text))


class EscalationTargets(NamedTuple):
    """The resources escalation methods ask about, in every partition the role's policies name."""

    own_role: str
    boundary: list[str]
    own_policies: list[str]
    partitions: tuple[str, ...] = ("aws",)

    def resolve(self, on: str) -> list[str]:
        named = {"self": [self.own_role], "boundary": self.boundary, "own-policies": self.own_policies}
        arns = named.get(on, [on])
        return [_in_partition(arn, p) for arn in arns for p in self.partitions]


def _in_partition(arn: str, partition: str) -> str:
    return f"arn:{partition}:{arn[len('arn:aws:') :]}" if arn.startswith("arn:aws:") else arn


def role_iam_name(role: Role) -> str:
    """The role's IAM name: its RoleName, or the one CloudFormation generates; placeholders as samples."""
    generated = f"sample-{role.name}-GENERATEDSUFFIX" if role.source_kind == SourceKind.CLOUDFORMATION else role.name
    return _concrete(role.role_name or generated)


def own_role_arn(role: Role) -> str:
    """The role's ARN in the sample account (`deployed_value` turns a template's into the same form)."""
    path = role.role_path if role.role_path.startswith("/") else "/"
    return f"arn:aws:iam::{SAMPLE_ACCOUNT}:role{path}{role_iam_name(role)}"


def deployed_value(text: str) -> str:
    """A value with placeholders as deployed in the sample account (`${AWS::AccountId}` its id)."""
    return _concrete(text.replace("${AWS::AccountId}", SAMPLE_ACCOUNT).replace("${AWS::Partition}", "aws"))


def escalation_targets(role: Role) -> EscalationTargets:
    boundary = role.boundary.policies if role.boundary else ()
    partitions = {
        found.group(1)
        for policy in role.policies
        for statement in policy.statements
        for resource in statement.resources
        if (found := _PARTITION.match(resource))
    }
    return EscalationTargets(
        own_role=own_role_arn(role),
        boundary=[arn for policy in boundary if (arn := _policy_arn(policy.origin, policy.deployed_name, policy.arn))],
        own_policies=[
            arn for policy in role.policies if (arn := _policy_arn(policy.origin, policy.deployed_name, policy.arn))
        ],
        partitions=("aws", *sorted(partitions - {"aws"})),
    )


def _policy_arn(origin: PolicyOrigin, deployed_name: str, arn: str) -> str:
    """A customer-managed policy's ARN; "" for AWS-managed ones (their versions are AWS's)."""
    if origin is PolicyOrigin.AWS_MANAGED:
        return ""
    if deployed_name:
        return f"arn:aws:iam::{SAMPLE_ACCOUNT}:policy{_concrete(deployed_name)}"
    if arn.startswith("arn:"):
        return _concrete(arn)
    return ""
