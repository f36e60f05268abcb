"""AWS-managed policy documents pinned from moto."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from bglint.iam.managed import managed_policy, managed_provenance

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
    assert re.fullmatch(r"moto \d+\.\d+\.\d+\S* moto/iam/aws_managed_policies\.py", prov["source"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", prov["built"])


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("moto") is None, reason="needs moto")
def test_build_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    path = ROOT / "scripts" / "build_managed_policies.py"
    spec = importlib.util.spec_from_file_location("build_managed_policies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = module.build()
    assert first == module.build()
    assert '"built": "2023-11-14"' in first
