"""A real moto server on 127.0.0.1 for the audit tests and the audit benchmark, and a fault proxy.

`MotoServer` starts `python -m moto.server` as a subprocess on a free port, waits until it
answers and stops it at the end. `FaultProxy` forwards to it but answers some requests with
throttling or server errors, deterministically (every k-th of the first n requests). Roles
are created through boto3 as a deployment would create them.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
AUDITOR_POLICY = ROOT / "policies" / "bglint-auditor.json"
DEFAULT_ACCOUNT = "123456789012"
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"
_START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoServer:
    """`python -m moto.server` on 127.0.0.1, AWS-managed policies loaded (AdministratorAccess...)."""

    env: Mapping[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log: Path) -> MotoServer:
        for _ in range(3):  # a port picked free can be taken before the server binds it
            self.port = free_port()
            env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", **self.env}
            with log.open("ab") as out:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            if self._wait():
                return self
            self.stop()
        raise RuntimeError(f"moto server did not start; see {log}")

    def _wait(self) -> bool:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextmanager
def moto_with(log: Path, setup: Callable[[str], Any] | None = None) -> Iterator[MotoServer]:
    """A moto server, `setup(endpoint)` run on it first; stopped at the end."""
    server = MotoServer().start(log)
    try:
        if setup is not None:
            setup(server.endpoint)
        yield server
    finally:
        server.stop()


def session(endpoint: str, keys: Mapping[str, str] | None = None) -> boto3.Session:
    keys = keys or FAKE_KEYS
    return boto3.Session(
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys.get("AWS_SESSION_TOKEN"),
        region_name=REGION,
    )


# One attempt: setup must not retry behind the tests' back (the auth tests count its calls).
SETUP_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def client(sess: boto3.Session, service: str, endpoint: str) -> Any:
    return sess.client(service, endpoint_url=endpoint, region_name=REGION, config=SETUP_CONFIG)


def into_account(endpoint: str, account: str, keys: Mapping[str, str] | None = None) -> boto3.Session:
    """A session in `account`: moto switches account on sts:AssumeRole into it (one call)."""
    sts = client(session(endpoint, keys), "sts", endpoint)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return session(
        endpoint,
        {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        },
    )


def trust(*principals: str, conditions: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
RUNNER = "arn:aws:iam::111122223333:role/nuon-runner"
INSTALL_TAG = {"StringEquals": {"aws:ResourceTag/install.nuon.co/id": "inst123"}}
TAG_SCOPED = {
    "Effect": "Allow",
    "Action": ["ec2:RebootInstances", "ec2:StartInstances", "ec2:StopInstances"],
    "Resource": "*",
    "Condition": INSTALL_TAG,
}


# -- the CLI ---------------------------------------------------------------------------


def audit(
    endpoint: str, *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bglint audit ARGS` against `endpoint`, with fake credentials and nothing from ~/.aws."""
    aws = dict(
        FAKE_KEYS,
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(cwd / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(cwd / "no-aws-credentials"),
    )
    return bglint("audit", *args, cwd=cwd, env={**aws, **(env or {})})


def bglint(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bglint ARGS`, with no AWS setting of the environment but those in `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONWARNINGS"}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bglint", *map(str, args)],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def by_role(report: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for doc in report["documents"]:
        for role in doc["roles"]:
            found[role["name"]] = set()
    for finding in report["findings"]:
        found.setdefault(finding["role"], set()).add(finding["rule"])
    return found


# -- a proxy that throttles and fails ---------------------------------------------------

_THROTTLE = (
    b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
    b"<Message>Rate exceeded</Message></Error><RequestId>bglint-fault</RequestId></ErrorResponse>"
)
_UNAVAILABLE = (
    b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>'
    b"<Message>Service is unavailable</Message></Error><RequestId>bglint-fault</RequestId></ErrorResponse>"
)
_INTERNAL = (
    b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code>'
    b"<Message>We encountered an internal error</Message></Error><RequestId>bglint-fault</RequestId></ErrorResponse>"
)
_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>'
    b"<Message>User is not authorized to perform: sts:AssumeRole on that account</Message></Error>"
    b"<RequestId>bglint-fault</RequestId></ErrorResponse>"
)
_FAULTS = ((400, _THROTTLE), (503, _UNAVAILABLE), (500, _INTERNAL))


@dataclass
class FaultProxy:
    """Forwards to moto; every `every`-th of the first `first` requests fails (400 Throttling, 503, 500 in
    turn), and an sts:AssumeRole into an account of `deny_accounts` is always denied."""

    target_port: int
    first: int = 0
    every: int = 3
    deny_accounts: tuple[str, ...] = ()
    drop_accounts: tuple[str, ...] = ()  # an AssumeRole into these gets no answer: the connection closes
    delay: float = 0.0  # seconds added to every request (the benchmark's simulated latency)
    requests: int = 0
    injected: dict[int, int] = field(default_factory=dict)  # status -> count
    lock: threading.Lock = field(default_factory=threading.Lock)

    def decide(self, body: bytes) -> tuple[int, bytes] | None:
        """None: forward; (0, b"") drop the connection; else the status and body to answer."""
        if self._assumes(body, self.drop_accounts):
            return 0, b""
        if self._assumes(body, self.deny_accounts):
            return 403, _DENIED
        with self.lock:
            self.requests += 1
            number = self.requests
            if number > self.first or number % self.every:
                return None
            fault = _FAULTS[(number // self.every) % len(_FAULTS)]
            self.injected[fault[0]] = self.injected.get(fault[0], 0) + 1
            return fault

    @staticmethod
    def _assumes(body: bytes, accounts: tuple[str, ...]) -> bool:
        """An sts:AssumeRole into one of `accounts` (the query protocol's form body)."""
        return b"Action=AssumeRole" in body and any(
            f"arn%3Aaws%3Aiam%3A%3A{account}%3A".encode() in body for account in accounts
        )


def _as_json_error(xml: bytes) -> bytes:
    """The same error as a JSON-protocol service (EventBridge, CloudTrail...) writes it."""
    code = xml.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode()
    message = xml.split(b"<Message>", 1)[1].split(b"</Message>", 1)[0].decode()
    code = {"Throttling": "ThrottlingException", "InternalError": "InternalException"}.get(code, code)
    return json.dumps({"__type": code, "message": message}).encode()


@contextmanager
def fault_proxy(proxy: FaultProxy) -> Iterator[str]:
    """Serve `proxy` on 127.0.0.1; yields its endpoint URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = proxy.decide(body)
            if proxy.delay:
                time.sleep(proxy.delay)
            if fault is not None:
                status, payload = fault
                if not status:
                    self.close_connection = True
                    return
                if self.headers.get("X-Amz-Target"):  # a JSON-protocol service answers errors in JSON
                    self._answer(status, {"Content-Type": "application/x-amz-json-1.1"}, _as_json_error(payload))
                    return
                self._answer(status, {"Content-Type": "text/xml"}, payload)
                return
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                kept = {
                    k: v
                    for k, v in response.getheaders()
                    if k.lower() not in ("connection", "transfer-encoding", "content-length")
                }
                self._answer(response.status, kept, payload)
            finally:
                upstream.close()

        def _answer(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
