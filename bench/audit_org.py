"""An organisation's audit at scale: N simulated accounts of R roles each, at a given latency per call.

    python bench/audit_org.py [--accounts 500] [--roles 100] [--break-glass 5] [--latency-ms 100] [--jobs 8]
                              [--from-dumps]

One account is created in a moto server on 127.0.0.1 (R roles, the first B of them break-glass:
admin, bounded and tag-scoped, read-only; the others application roles with an inline policy and
an AWS-managed one). A proxy in another process makes it N accounts: sts:AssumeRole into any
account is answered for the template account and remembered by access key; every later answer
for those keys is the template's with the account id replaced (read-only calls, so one cached
answer per request serves every account, as if N accounts had the same roles). The proxy adds
the latency to every request and counts the requests. `bglint audit --accounts <N ids>
--assume-role ... -o report.json` then runs as a user runs it, in a subprocess; the benchmark
prints its wall time, its peak memory (max RSS of that process), the calls per account, and the
findings.

With `--from-dumps`, the template account's bulk read is saved as `aws iam
get-account-authorization-details` prints it, once per simulated account (its id replaced), and
`bglint audit --from DIR` judges the N files instead: the same roles, the same judgement, no
network (and no MaxSessionDuration, trails or rules, which a dump does not hold).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from aws_support import (  # noqa: E402  (the tests' moto server and role helpers)
    ADMIN,
    DEFAULT_ACCOUNT,
    FAKE_KEYS,
    READ_ONLY,
    RUNNER,
    TAG_SCOPED,
    MotoServer,
    client,
    document,
    session,
    trust,
)
from conftest import run_bglint_measured  # noqa: E402  (the tests' way to measure bglint's memory)

AUDITOR = "BglintAuditor"
APP_POLICY = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::app-data/*"}


def create_account(endpoint: str, roles: int, break_glass: int) -> None:
    iam = client(session(endpoint), "iam", endpoint)
    iam.create_role(RoleName=AUDITOR, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"))
    boundary = iam.create_policy(PolicyName="install-boundary", PolicyDocument=document(TAG_SCOPED))["Policy"]["Arn"]
    for index in range(roles):  # one at a time: moto's IAM is not safe for concurrent writes
        if index < break_glass:
            name, kind = f"install{index:04d}-break-glass", index % 3
            extra: dict[str, Any] = {"PermissionsBoundary": boundary} if kind == 1 else {}
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(RUNNER), **extra)
            iam.attach_role_policy(RoleName=name, PolicyArn=(ADMIN, boundary, READ_ONLY)[kind])
            iam.put_role_policy(RoleName=name, PolicyName="restart", PolicyDocument=document(TAG_SCOPED))
        else:
            name = f"app-{index:05d}"
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(RUNNER))
            iam.put_role_policy(RoleName=name, PolicyName="data", PolicyDocument=document(APP_POLICY))
            iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")


def _serve(moto_port: int, delay: float, ready: Any, counts: Any) -> None:
    """The proxy that turns the template account into many (runs in a child process)."""
    import http.client

    keys: dict[str, str] = {}  # access key id -> simulated account
    cache: dict[bytes, tuple[int, bytes]] = {}  # read-only answers, by operation and body
    lock = threading.Lock()
    template = DEFAULT_ACCOUNT.encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay)
            account = b""
            if b"Action=AssumeRole" in body:
                found = re.search(rb"RoleArn=arn%3Aaws%3Aiam%3A%3A(\d{12})%3A", body)
                account = found.group(1) if found else template
                body = body.replace(b"%3A" + account + b"%3A", b"%3A" + template + b"%3A")
                status, payload = self._forward(body)
                key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", payload)
                if key:
                    with lock:
                        keys[key.group(1).decode()] = account.decode()
            else:
                credential = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
                account = keys.get(credential.group(1), DEFAULT_ACCOUNT).encode() if credential else template
                key = self.headers.get("X-Amz-Target", "").encode() + b"|" + body  # JSON protocols: same body
                with lock:
                    cached = cache.get(key)
                if cached is None:
                    cached = self._forward(body)
                    with lock:
                        cache[key] = cached
                status, payload = cached
            with counts.get_lock():
                counts.value += 1
            payload = payload.replace(template, account) if account else payload
            self.send_response(status)
            json_protocol = bool(self.headers.get("X-Amz-Target"))
            self.send_header("Content-Type", "application/x-amz-json-1.1" if json_protocol else "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _forward(self, body: bytes) -> tuple[int, bytes]:
            upstream = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                upstream.request("POST", self.path, body=body, headers=headers)
                response = upstream.getresponse()
                return response.status, response.read()
            finally:
                upstream.close()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ready.put(f"http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


def write_dumps(endpoint: str, accounts: list[str], directory: Path) -> int:
    """One dump per account, the template's with the account id replaced; the bytes of one."""
    iam = client(session(endpoint), "iam", endpoint)
    found: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key in found:
            found[key] += page.get(key, [])
    text = json.dumps(found, indent=4, default=lambda value: value.isoformat())  # the CLI's dates
    directory.mkdir()
    for account in accounts:
        (directory / f"{account}.json").write_text(text.replace(DEFAULT_ACCOUNT, account))
    return len(text)


def measured(args: list[str], env: dict[str, str], cwd: str) -> tuple[int, str, float, float, float]:
    """`bglint ARGS`: (exit code, stderr, wall seconds, CPU seconds, peak RSS in MB of its process).
    The peak is the process's own (VmHWM), not its rusage, which also counts this one's memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc, peak = run_bglint_measured(*args, cwd=Path(cwd), env=env, timeout=None)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return proc.returncode, proc.stderr, elapsed, cpu, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--roles", type=int, default=100, help="roles per account")
    parser.add_argument("--break-glass", type=int, default=5, help="of which break-glass")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="delay added to every request")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--format", default="json", choices=("json", "sarif"))
    parser.add_argument("--from-dumps", action="store_true", help="judge saved bulk reads (--from) instead")
    args = parser.parse_args()
    accounts = [f"{100000000000 + n:012d}" for n in range(1, args.accounts + 1)]
    with tempfile.TemporaryDirectory() as scratch:
        server = MotoServer().start(Path(scratch) / "moto.log")
        ready: Any = multiprocessing.Queue()
        counts: Any = multiprocessing.Value("l", 0)
        proxy = multiprocessing.Process(
            target=_serve, args=(server.port, args.latency_ms / 1000, ready, counts), daemon=True
        )
        try:
            started = time.perf_counter()
            create_account(server.endpoint, args.roles, args.break_glass)
            print(
                f"template account: {args.roles} roles ({args.break_glass} break-glass) in "
                f"{time.perf_counter() - started:.0f} s"
            )
            out = Path(scratch) / f"report.{args.format}"
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            common = ["-j", str(args.jobs), "--no-progress", "--format", args.format, "-o", str(out)]
            if args.from_dumps:
                size = write_dumps(server.endpoint, accounts, Path(scratch) / "dumps")
                print(f"{args.accounts} dumps of {size / 1e6:.1f} MB written")
                env.update(FAKE_KEYS, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_DEFAULT_REGION="us-east-1")  # unused
                command = ["audit", "--from", str(Path(scratch) / "dumps"), *common]
            else:
                proxy.start()
                (Path(scratch) / "accounts.txt").write_text("\n".join(accounts) + "\n")
                env.update(FAKE_KEYS, AWS_ENDPOINT_URL=ready.get(timeout=30), AWS_DEFAULT_REGION="us-east-1")
                listed = ["--accounts", str(Path(scratch) / "accounts.txt"), "--assume-role", AUDITOR]
                command = ["audit", *listed, *common]
            code, stderr, elapsed, cpu, peak = measured(command, env, scratch)
            if code not in (0, 1) or not out.is_file():
                print(stderr[-3000:])
                return 1
            if args.format == "json":
                report = json.loads(out.read_text())
                documents, findings = len(report["documents"]), len(report["findings"])
            else:
                documents = args.accounts
                findings = len(json.loads(out.read_text())["runs"][0]["results"])
        finally:
            if proxy.is_alive():
                proxy.terminate()
            server.stop()
    how = "from dumps (--from)" if args.from_dumps else f"{args.latency_ms:.0f} ms per call"
    print(
        f"{args.accounts} accounts x {args.roles} roles, {how}, jobs={args.jobs}: "
        f"{elapsed:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak:.0f} MB"
    )
    if not args.from_dumps:
        calls = counts.value
        print(f"  {calls} calls ({(calls - 1) / args.accounts:.2f} per account, plus one sts:GetCallerIdentity)")
    print(f"  {documents} accounts audited, {findings} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
