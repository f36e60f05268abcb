"""AWS Lambda handler for deploy/stepfunctions/collect.asl.json: one account's IAM in bulk, to S3.

Event: {"account": "111122223333", "bucket": "...", "prefix": "dumps", "role_name": "BglintAuditor"}.
Assumes the auditor role in the account, reads GetAccountAuthorizationDetails (roles and
customer-managed policies, every page) and ListRoles (MaxSessionDuration, which the bulk call
lacks), and writes the JSON `aws iam get-account-authorization-details` would print to
s3://bucket/prefix/<account>.json, which `bglint audit --from DIR` judges. Read-only in the
audited account; needs s3:PutObject on the prefix and sts:AssumeRole into the role.
"""

from __future__ import annotations

import json
from typing import Any

import boto3


def handler(event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
    account, role_name = str(event["account"]), str(event.get("role_name") or "BglintAuditor")
    partition = boto3.client("sts").get_caller_identity()["Arn"].split(":")[1]
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:{partition}:iam::{account}:role/{role_name}", RoleSessionName="bglint-collect"
    )["Credentials"]
    iam = boto3.client(
        "iam",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    dump: dict[str, list[Any]] = {"RoleDetailList": [], "Policies": []}
    pages = iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["Role", "LocalManagedPolicy"], PaginationConfig={"PageSize": 1000}
    )
    for page in pages:
        dump["RoleDetailList"] += page.get("RoleDetailList", [])
        dump["Policies"] += page.get("Policies", [])
    durations = {
        role["RoleName"]: role["MaxSessionDuration"]
        for page in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1000})
        for role in page.get("Roles", [])
        if "MaxSessionDuration" in role
    }
    for role in dump["RoleDetailList"]:
        if role["RoleName"] in durations:
            role["MaxSessionDuration"] = durations[role["RoleName"]]
    key = f"{str(event.get('prefix') or 'dumps').strip('/')}/{account}.json"
    body = json.dumps(dump, default=str, indent=1).encode()
    boto3.client("s3").put_object(Bucket=str(event["bucket"]), Key=key, Body=body)
    return {"account": account, "key": key, "roles": len(dump["RoleDetailList"])}
