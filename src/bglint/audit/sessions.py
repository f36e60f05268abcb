"""boto3 sessions and clients, configured the standard AWS way.

boto3 is imported here on first use, never by `bglint check` (importing it costs ~0.2 s).
Profiles, regions, `AWS_ENDPOINT_URL`, the credential chain and the retry settings are
boto3's own. bglint adds only defaults where the user configured nothing: retries in
botocore's `standard` mode (throttling and 5xx, exponential backoff with jitter) with 10
attempts, unless `AWS_RETRY_MODE`/`AWS_MAX_ATTEMPTS` or the profile's
`retry_mode`/`max_attempts` say otherwise; and region us-east-1 when none is set (IAM is
global; STS and Organizations need one).

Every credential value this module sees is remembered in `Secrets`, so that any message
bglint prints can be scrubbed of it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from bglint.regex import Regex

SESSION_NAME = "bglint-audit"
DEFAULT_REGION = "us-east-1"
DEFAULT_ATTEMPTS = 10


@dataclass
class Secrets:
    """Credential values seen so far; `redact` removes them (and anything shaped like one) from text."""

    values: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *values: str | None) -> None:
        with self.lock:
            self.values.update(v for v in values if v and len(v) >= 4)

    def redact(self, text: str) -> str:
        with self.lock:
            known = sorted(self.values, key=len, reverse=True)
        for value in known:
            text = text.replace(value, "[redacted]")
        return _KEY_ID.sub("[redacted]", text)


# Access key ids (AKIA... long-term, ASIA... temporary) never appear in output either.
_KEY_ID = Regex(r"\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b")


class Sessions:
    """The caller's session, one session per audited account, and clients made under a lock."""

    def __init__(self, profile: str | None, region: str | None, jobs: int) -> None:
        import boto3  # type: ignore[import-untyped]
        import botocore.session  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        self._boto3 = boto3
        self._botocore_session = botocore.session.Session
        self.profile = profile
        self.secrets = Secrets()
        self._lock = threading.Lock()
        core = botocore.session.Session(profile=profile)
        self._loader = core.get_component("data_loader")
        self.region = region or core.get_config_variable("region") or DEFAULT_REGION
        self.base = boto3.Session(botocore_session=core, region_name=self.region)
        self.config = Config(
            retries=_retries(core),
            max_pool_connections=max(10, jobs),
            user_agent_extra="bglint-audit",
        )
        self._remember(self.base)
        self._sts: Any = None

    def client(self, service: str, session: Any = None) -> Any:
        with self._lock:  # creating clients from one session is not thread-safe; using them is
            return (session or self.base).client(service, region_name=self.region, config=self.config)

    def caller(self) -> tuple[str, str]:
        """(account id, partition) of the caller's credentials (sts:GetCallerIdentity needs no permission)."""
        identity = self.sts().get_caller_identity()
        partition = identity["Arn"].split(":", 2)[1]
        return identity["Account"], partition

    def sts(self) -> Any:
        if self._sts is None:
            self._sts = self.client("sts")
        return self._sts

    def assume(self, account: str, role_name: str, partition: str) -> Any:
        """A session in `account` through sts:AssumeRole of `role_name` (a name, with its path if any)."""
        arn = f"arn:{partition}:iam::{account}:role/{role_name.strip('/')}"
        credentials = self.sts().assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)["Credentials"]
        self.secrets.add(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
        with self._lock:
            core = self._botocore_session(profile=self.profile)  # the profile's other settings still apply
            core.register_component("data_loader", self._loader)  # service models parsed once, not per account
            return self._boto3.Session(
                botocore_session=core,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=self.region,
            )

    def _remember(self, session: Any) -> None:
        try:
            credentials = session.get_credentials()
        except Exception:  # a broken profile is reported when the first call fails
            return
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            self.secrets.add(frozen.access_key, frozen.secret_key, frozen.token)


def _retries(core: Any) -> dict[str, Any]:
    """Retry defaults only where neither the environment nor the profile set them."""
    scoped = core.get_scoped_config()
    retries: dict[str, Any] = {}
    if not (os.environ.get("AWS_RETRY_MODE") or scoped.get("retry_mode")):
        retries["mode"] = "standard"
    if not (os.environ.get("AWS_MAX_ATTEMPTS") or scoped.get("max_attempts")):
        retries["total_max_attempts"] = DEFAULT_ATTEMPTS
    return retries
