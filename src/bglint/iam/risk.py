"""What makes a role dangerous, counted: admin, IAM write, network write, data access, grants
not scoped to the install, and where it reaches in the break-glass levels. The facts behind
`bglint permissions`; computed on action bit sets, never one action at a time."""

import functools
from typing import NamedTuple

from bglint.iam.catalog import Catalog
from bglint.iam.effective import Permissions, union
from bglint.iam.scoping import tag_scoping

_NETWORK_WORDS = ("vpc", "subnet", "route", "gateway", "securitygroup", "networkacl", "dhcpoptions", "peering")
# Services that hold the customer's data: their Read actions are data access.
DATA_SERVICES = frozenset(
    {"s3", "dynamodb", "rds", "rds-data", "secretsmanager", "ssm", "kms", "redshift", "redshift-data", "athena", "es"}
)
# The break-glass guidance's levels (network, sandbox, runner, component), by the services
# whose resources each level is about: an indication of where a role's writes land.
LEVEL_SERVICES = {
    "sandbox": frozenset({"eks", "ecs", "ecr", "autoscaling", "elasticloadbalancing", "route53", "acm"}),
    "runner": frozenset({"ssm", "ssmmessages", "ec2messages", "logs", "cloudwatch"}),
    "component": frozenset(
        {"s3", "rds", "dynamodb", "lambda", "sqs", "sns", "elasticache", "secretsmanager", "kms", "cloudformation"}
    ),
}
# Shown first, in this order: what an attacker with the role would reach for.
SERVICE_ORDER = ("iam", "sts", "organizations", "kms", "secretsmanager", "ec2", "s3", "rds", "eks", "ecs", "lambda")
_WRITE_LEVELS = ("Write", "Permissions management", "Tagging")
LEVEL_ORDER = ("Permissions management", "Write", "Tagging", "Read", "List")  # the most consequential first
ADMIN_SHARE = 0.9  # BG001's default: this share of every action on every resource is admin


@functools.cache
def iam_write_bits(catalog: Catalog) -> int:
    # From the stored level masks, as `_ec2_write_bits`: IAM's rows stay unread.
    return catalog.expand_bits("iam:*") & (catalog.level_bits("Write") | catalog.level_bits("Permissions management"))


@functools.cache
def change_bits(catalog: Catalog) -> int:
    """Actions at the access levels that change resources (Write, Permissions management,
    Tagging in the Service Authorization Reference); Read and List change nothing."""
    return union(catalog.level_bits(level) for level in _WRITE_LEVELS)


@functools.cache
def network_change_bits(catalog: Catalog) -> int:
    """EC2 writes to VPCs, subnets, routes, gateways and security groups (catalog keys are lowercase)."""
    writes = catalog.to_keys(_ec2_write_bits(catalog))
    return catalog.to_bits(k for k in writes if any(w in k for w in _NETWORK_WORDS))


@functools.cache
def _service_masks(catalog: Catalog) -> dict[str, tuple[tuple[tuple[str, int], ...], int, int]]:
    """Per service, shifted to its first action: its actions per access level, its Read
    actions, its write actions (Write, Permissions management, Tagging)."""
    levels = [(level, catalog.level_bits(level)) for level in LEVEL_ORDER]
    reads = catalog.level_bits("Read")
    writes = change_bits(catalog)
    masks = {}
    for name, start, run in catalog.by_service(catalog.all_bits):
        masks[name] = (
            tuple((level, (bits >> start) & run) for level, bits in levels),
            (reads >> start) & run,
            (writes >> start) & run,
        )
    return masks


@functools.cache
def _ec2_write_bits(catalog: Catalog) -> int:
    # From the stored level masks: EC2's rows, the largest in the catalog, stay unread.
    return catalog.expand_bits("ec2:*") & catalog.level_bits("Write")


class ServiceReach(NamedTuple):
    service: str
    actions: int
    by_level: tuple[tuple[str, int], ...]  # IAM access level -> actions, the most consequential first
    not_scoped: int  # of them, tag-scopable but not limited to the install


class RoleRisk(NamedTuple):
    actions: int  # held after Denies and the boundary, on some resource
    catalog_actions: int
    everywhere: int  # held on every resource with no condition
    admin: str  # why the role is admin-equivalent (all or nearly all actions, or full IAM write, everywhere), or ""
    iam_write: int
    network_write: int
    data_read: int
    not_scoped: int
    levels: tuple[tuple[str, int], ...]  # break-glass level -> write actions reaching it
    services: tuple[ServiceReach, ...]  # what matters first
    unknown_policies: tuple[str, ...]


def role_risk(perms: Permissions, tag_keys: tuple[str, ...]) -> RoleRisk:
    catalog = perms.catalog
    held = perms.all_effective_bits
    everywhere = perms.unconditional_bits
    scoping = tag_scoping(perms, tag_keys)
    scopable = catalog.tag_scopable_bits
    loose = union(scoping.loose(scope, perms.effective_bits(scope) & scopable) for scope in perms.allows)
    return _risk(catalog, held, everywhere, loose, tuple(p.arn or p.name for p in perms.unknown_policies))


@functools.lru_cache(maxsize=256)  # roles in many templates share their permissions
def _risk(catalog: Catalog, held: int, everywhere: int, loose: int, unknown: tuple[str, ...]) -> RoleRisk:
    total = catalog.all_bits.bit_count()
    iam_write = iam_write_bits(catalog)
    network = held & network_change_bits(catalog)
    services = []
    data_read = 0
    levels = dict.fromkeys(("network", *LEVEL_SERVICES), 0)
    levels["network"] = network.bit_count()
    loose_by = {name: run for name, _, run in catalog.by_service(loose)}
    masks = _service_masks(catalog)
    for name, _, run in catalog.by_service(held):
        by_level, reads, writes = masks[name]
        counted = tuple((level, n) for level, bits in by_level if (n := (run & bits).bit_count()))
        services.append(ServiceReach(name, run.bit_count(), counted, loose_by.get(name, 0).bit_count()))
        if name in DATA_SERVICES:
            data_read += (run & reads).bit_count()
        for level, names in LEVEL_SERVICES.items():
            if name in names:
                levels[level] += (run & writes).bit_count()
    levels["sandbox"] += (held & _ec2_write_bits(catalog) & ~network).bit_count()  # the sandbox's hosts
    rank = {name: i for i, name in enumerate(SERVICE_ORDER)}
    services.sort(key=lambda s: (rank.get(s.service, len(rank)), -s.actions, s.service))
    count = everywhere.bit_count()
    return RoleRisk(
        actions=held.bit_count(),
        catalog_actions=total,
        everywhere=count,
        admin=f"{count:,} of {total:,} actions on every resource, unconditionally"
        if count >= ADMIN_SHARE * total
        else "full IAM write on every resource: it can grant itself anything"
        if iam_write & ~everywhere == 0
        else "",
        iam_write=(held & iam_write).bit_count(),
        network_write=network.bit_count(),
        data_read=data_read,
        not_scoped=loose.bit_count(),
        levels=tuple((level, n) for level, n in levels.items() if n),
        services=tuple(services),
        unknown_policies=unknown,
    )
