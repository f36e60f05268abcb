"""What bglint's analysis adds to an audit: bare boto3 reads vs the full `bglint audit`, same roles.

    python bench/audit.py [--roles 200] [--runs 5] [--jobs 8] [--latency-ms 0]

Starts a moto server on 127.0.0.1 (as the tests do), creates N break-glass roles through boto3
(a third AdministratorAccess, a third bounded and tag-scoped, a third ReadOnlyAccess, each with
an inline policy), then times, alternately and in this one process (imports already paid):

- bare: plain boto3 making exactly the calls bglint makes (ListRoles; per role GetRole,
  ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies; GetPolicy + GetPolicyVersion once
  per managed policy), with the same number of threads and the same client settings;
- full: `bglint audit -o <file>` (discovery, reads, the model, every rule, the report).

Prints the medians and the overhead of the analysis, (full - bare) / bare. Against moto on
localhost a call takes ~4 ms, far less than IAM's real latency, so this is the worst case;
`--latency-ms` adds a delay per request (through a local proxy) to see a more realistic one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from aws_support import (  # noqa: E402  (the tests' moto server and role helpers)
    ADMIN,
    FAKE_KEYS,
    READ_ONLY,
    RUNNER,
    TAG_SCOPED,
    FaultProxy,
    MotoServer,
    client,
    document,
    fault_proxy,
    session,
    trust,
)

DENY_SECRETS = {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}


def create_roles(endpoint: str, count: int) -> None:
    iam = client(session(endpoint), "iam", endpoint)
    boundary = iam.create_policy(PolicyName="install-boundary", PolicyDocument=document(TAG_SCOPED))["Policy"]["Arn"]

    def one(index: int) -> None:
        name = f"install{index:04d}-break-glass"
        kind = index % 3
        extra: dict[str, Any] = {"PermissionsBoundary": boundary} if kind == 1 else {}
        tags = [{"Key": "install.nuon.co/id", "Value": f"install{index:04d}"}]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(RUNNER), Tags=tags, **extra)
        if kind == 0:
            iam.attach_role_policy(RoleName=name, PolicyArn=ADMIN)
            iam.put_role_policy(RoleName=name, PolicyName="deny-secrets", PolicyDocument=document(DENY_SECRETS))
        elif kind == 1:
            iam.put_role_policy(RoleName=name, PolicyName="restart", PolicyDocument=document(TAG_SCOPED))
        else:
            iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
            iam.put_role_policy(RoleName=name, PolicyName="restart", PolicyDocument=document(TAG_SCOPED))

    for index in range(count):  # one at a time: moto's IAM is not safe for concurrent writes
        one(index)


def bare_reads(jobs: int) -> Callable[[], int]:
    """The calls bglint makes, made with plain boto3 and the same client settings."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 10}, max_pool_connections=max(10, jobs))

    def run() -> int:
        iam = boto3.Session().client("iam", config=config)
        managed: dict[str, Any] = {}
        lock = threading.Lock()

        def policy(arn: str) -> Any:
            with lock:
                if arn not in managed:
                    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                    managed[arn] = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
                return managed[arn]

        def read(name: str) -> None:
            role = iam.get_role(RoleName=name)["Role"]
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
                for policy_name in page["PolicyNames"]:
                    iam.get_role_policy(RoleName=name, PolicyName=policy_name)
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                for attached in page["AttachedPolicies"]:
                    policy(attached["PolicyArn"])
            if role.get("PermissionsBoundary"):
                policy(role["PermissionsBoundary"]["PermissionsBoundaryArn"])

        names = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(read, names))
        return len(names)

    return run


def full_audit(jobs: int, output: Path) -> Callable[[], int]:
    from bglint.cli.main import main

    def run() -> int:
        try:
            main(["audit", "-j", str(jobs), "--no-progress", "-o", str(output)], standalone_mode=False)
        except SystemExit as done:
            if done.code not in (0, 1):
                raise RuntimeError(f"bglint audit exited {done.code}") from None
        return sum(1 for line in output.read_text().splitlines() if ": BG" in line)

    return run


def latency_proxy(port: int, delay: float) -> tuple[str, multiprocessing.Process]:
    """A proxy adding `delay` to every request, in a child process; (endpoint, process)."""
    ready: multiprocessing.Queue[str] = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve_proxy, args=(port, delay, ready), daemon=True)
    process.start()
    return ready.get(timeout=30), process


def _serve_proxy(port: int, delay: float, ready: multiprocessing.Queue[str]) -> None:
    with fault_proxy(FaultProxy(port, delay=delay)) as endpoint:
        ready.put(endpoint)
        threading.Event().wait()


def timed(func: Callable[[], int]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roles", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        server = MotoServer().start(Path(scratch) / "moto.log")
        relay: multiprocessing.Process | None = None
        try:
            create_roles(server.endpoint, args.roles)
            endpoint = server.endpoint
            if args.latency_ms:  # in another process, so relaying does not compete with what is timed
                endpoint, relay = latency_proxy(server.port, args.latency_ms / 1000)
            os.environ.update(FAKE_KEYS, AWS_ENDPOINT_URL=endpoint, AWS_DEFAULT_REGION="us-east-1")
            bare, full = bare_reads(args.jobs), full_audit(args.jobs, Path(scratch) / "report.txt")
            assert bare() == args.roles, "bare reads saw other roles"
            print(f"{args.roles} roles, {full()} findings; {args.runs} runs each, alternating, jobs={args.jobs}")
            samples: dict[str, list[float]] = {"bare boto3 reads": [], "bglint audit": []}
            for _ in range(args.runs):
                samples["bare boto3 reads"].append(timed(bare))
                samples["bglint audit"].append(timed(full))
        finally:
            if relay is not None:
                relay.terminate()
            server.stop()
    for name, values in samples.items():
        print(f"  {name:17} median {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f})")
    bare_time, full_time = (statistics.median(v) for v in samples.values())
    print(f"  analysis overhead: {100 * (full_time - bare_time) / bare_time:+.1f}% of the bare reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
