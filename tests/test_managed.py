"""AWS-managed policy documents pinned from moto: all of them, compact, read lazily."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bglint.iam.managed import (
    POLICIES_FILE,
    ManagedPolicies,
    find_managed,
    load_managed,
    managed_policy,
    managed_provenance,
    pack,
    suggest_managed,
)

ROOT = Path(__file__).resolve().parent.parent

REQUIRED = [
    "AdministratorAccess",
    "PowerUserAccess",
    "IAMFullAccess",
    "ReadOnlyAccess",
    "ViewOnlyAccess",
    "SecurityAudit",
    "AmazonEC2FullAccess",
    "AmazonVPCFullAccess",
    "AmazonS3FullAccess",
    "AmazonRDSFullAccess",
    "AmazonEKSClusterPolicy",
    "CloudWatchReadOnlyAccess",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
    "AWSCloudFormationFullAccess",
    "AmazonDynamoDBFullAccess",
    "AWSLambda_FullAccess",
    "AmazonECS_FullAccess",
    "CloudWatchLogsFullAccess",
    "SecretsManagerReadWrite",
    "AmazonEKSServicePolicy",
    "AmazonEKSVPCResourceController",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_pinned_by_name(name: str) -> None:
    document = managed_policy(name)
    assert document is not None
    assert document["Version"] == "2012-10-17"
    assert document["Statement"]


def test_administrator_access_is_allow_all() -> None:
    assert managed_policy("AdministratorAccess") == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws-cn:iam::aws:policy/AdministratorAccess",
        "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
        "arn:aws-iso-b:iam::aws:policy/AdministratorAccess",
    ],
)
def test_arn_in_any_partition(arn: str) -> None:
    assert managed_policy(arn) == managed_policy("AdministratorAccess")


def test_arn_with_path() -> None:
    lambda_basic = managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert lambda_basic is not None
    assert lambda_basic == managed_policy("AWSLambdaBasicExecutionRole")
    view_only = managed_policy("arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess")
    assert view_only is not None
    assert view_only == managed_policy("ViewOnlyAccess")


@pytest.mark.parametrize(
    "name_or_arn",
    [
        "NoSuchPolicy",
        "administratoraccess",  # names are case-sensitive
        "arn:aws:iam::aws:policy/administratoraccess",
        "arn:aws:iam::aws:policy/service-role/AdministratorAccess",  # wrong path
        "arn:aws:iam::aws:policy/ViewOnlyAccess",  # path is /job-function/
        "arn:aws:iam::123456789012:policy/AdministratorAccess",  # customer-managed
        "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess",  # caller substitutes
        "arn:aws:iam::aws:policy/",
        "",
    ],
)
def test_not_found(name_or_arn: str) -> None:
    assert managed_policy(name_or_arn) is None


def test_result_is_a_copy() -> None:
    document = managed_policy("AdministratorAccess")
    assert document is not None
    document["Statement"].clear()
    assert managed_policy("AdministratorAccess") == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }


def test_provenance() -> None:
    prov = managed_provenance()
    assert prov["source"] == "moto"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", prov["version"])
    assert prov["file"] == "moto/iam/aws_managed_policies.py"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", prov["date"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", prov["built"])
    assert prov["date"] <= prov["built"]


def _build_module() -> Any:
    path = ROOT / "scripts" / "build_managed_policies.py"
    spec = importlib.util.spec_from_file_location("build_managed_policies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("moto") is None, reason="needs moto")
def test_build_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _build_module()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = module.build()
    assert first == module.build()
    assert ManagedPolicies(first).provenance["built"] == "2023-11-14"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("moto") is None, reason="needs moto")
def test_the_shipped_file_is_every_policy_of_the_installed_moto() -> None:
    """The shipped file holds every policy moto bundles, with its path, version and document."""
    module = _build_module()
    bundled = module.moto_policies()
    if managed_provenance()["version"] != importlib.metadata.version("moto"):
        pytest.skip("the shipped file was built from another moto release")
    store = load_managed()
    assert store.names() == sorted(bundled) and len(bundled) > 1500
    for name, entry in bundled.items():
        policy = find_managed(f"arn:aws:iam::aws:policy{entry['Path']}{name}")
        assert policy is not None and (policy.path, policy.version) == (entry["Path"], entry["DefaultVersionId"])
        assert store.document(policy) == entry["Document"]


# -- all of them: read-only policies a break-glass role is often given instead of admin ------------


@pytest.mark.parametrize(
    ("name", "grants"),
    [
        ("AmazonS3ReadOnlyAccess", "s3:Get*"),
        ("AmazonEC2ReadOnlyAccess", "ec2:Describe*"),
        ("IAMReadOnlyAccess", "iam:Get*"),
        ("AWSLambda_ReadOnlyAccess", "lambda:Get*"),
    ],
)
def test_read_only_policies_are_known(name: str, grants: str) -> None:
    document = managed_policy(f"arn:aws:iam::aws:policy/{name}")
    assert document is not None
    allowed = [
        action
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    assert grants in allowed


@pytest.mark.parametrize(
    ("arn", "path"),
    [
        ("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "/job-function/"),
        ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "/service-role/"),
        ("arn:aws:iam::aws:policy/aws-service-role/AmazonEKSServiceRolePolicy", "/aws-service-role/"),
        ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "/"),
    ],
)
def test_paths_are_kept(arn: str, path: str) -> None:
    policy = find_managed(arn)
    assert policy is not None and policy.path == path and policy.arn == arn
    assert f"arn:aws:iam::aws:policy/{policy.path_and_name}" == arn


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("ViewOnlyAccess", "job-function/ViewOnlyAccess"),  # the name without its path
        ("DatabaseAdministrator", "job-function/DatabaseAdministrator"),
        ("AmazonS3ReadOnlyAcess", "AmazonS3ReadOnlyAccess"),  # a letter missing
        ("amazons3readonlyaccess", "AmazonS3ReadOnlyAccess"),  # names are case-sensitive
        ("AmazonS3ReadOnly", "AmazonS3ReadOnlyAccess"),  # the name cut short
        ("IAMReadOnlyAcces", "IAMReadOnlyAccess"),
        ("job-function/ViewOnlyAcess", "job-function/ViewOnlyAccess"),
        ("service-role/AWSLambdaBasicExecution", "service-role/AWSLambdaBasicExecutionRole"),
    ],
)
def test_suggestions(written: str, meant: str) -> None:
    hint = suggest_managed(written)
    assert hint is not None and hint.path_and_name == meant


@pytest.mark.parametrize("written", ["OurBreakGlassPolicy", "Xyzzy", ""])
def test_no_suggestion_for_names_far_from_any_policy(written: str) -> None:
    assert suggest_managed(written) is None


# -- the file is compact and read lazily ------------------------------------------------------------


def test_the_shipped_file_is_compact() -> None:
    # ~3.6 MB of JSON documents; one gzip member for all of them would be ~530 KB.
    assert (ROOT / "src" / "bglint" / "data" / POLICIES_FILE).stat().st_size < 700_000


def test_a_lookup_inflates_one_member() -> None:
    store = ManagedPolicies((ROOT / "src" / "bglint" / "data" / POLICIES_FILE).read_bytes())
    assert store.provenance["source"] == "moto" and store.inflated_members() == 0
    policy = store.find("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert policy is not None and store.inflated_members() == 0  # the index alone names it
    assert store.document(policy)["Statement"]
    neighbour = store.find(store.names()[store.names().index(policy.name) + 1])
    assert neighbour is not None and neighbour.member == policy.member
    store.document(neighbour)
    assert store.inflated_members() == 1


def test_pack_round_trip() -> None:
    policies = {
        f"P{index}": {"path": "/job-function/" if index % 2 else "/", "version": f"v{index}", "document": {"I": index}}
        for index in range(7)
    }
    store = ManagedPolicies(pack({"source": "test"}, policies, member_size=20))
    assert store.provenance == {"source": "test"} and store.names() == sorted(policies)
    for name, entry in policies.items():
        policy = store.find(f"arn:aws:iam::aws:policy{entry['path']}{name}")
        assert policy is not None and policy.version == entry["version"]
        assert store.document(policy) == entry["document"]
    members = {policy.member for policy in map(store.get, policies) if policy is not None}
    assert len(members) > 1  # 20 characters a member: the documents are spread over several


# A driver that runs the real CLI in this process, then says what it read of the managed policies.
_DRIVER = """
import sys
from bglint.cli.main import main
from bglint.iam.managed import load_managed
try:
    main(sys.argv[1:])
except SystemExit:
    pass
store = load_managed()
print("index-read" if "_index" in vars(store) else "index-unread", store.inflated_members())
"""


def _what_check_reads(tmp_path: Path, template: str) -> str:
    (tmp_path / "t.yaml").write_text(template, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, "check", "-j1", "--format", "json", "t.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert '"aws_managed_policies"' in proc.stdout, proc.stderr  # the provenance is in every report
    return proc.stdout.strip().splitlines()[-1]


TEMPLATE = """\
Resources:
  BreakGlassRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {AWS: arn:aws:iam::123456789012:root}, Action: "sts:AssumeRole"}]}
"""


def test_a_template_without_managed_policies_inflates_no_document(tmp_path: Path) -> None:
    inline = TEMPLATE + (
        "      Policies:\n        - PolicyName: ops\n          PolicyDocument:\n"
        '            Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]\n'
    )
    assert _what_check_reads(tmp_path, inline) == "index-unread 0"


def test_a_template_with_one_managed_policy_inflates_its_member_only(tmp_path: Path) -> None:
    managed = TEMPLATE + "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n"
    assert _what_check_reads(tmp_path, managed) == "index-read 1"


def test_version_names_the_managed_policy_data(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bglint", "--version"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    prov = managed_provenance()
    line = next(line for line in proc.stdout.splitlines() if line.startswith("AWS-managed policies:"))
    assert f"{len(load_managed().names()):,} from moto {prov['version']} {prov['file']}" in line
    assert f"(data {prov['date']}, built {prov['built']})" in line
