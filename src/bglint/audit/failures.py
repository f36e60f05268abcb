"""An account that could not be audited, as one clear line with no credential in it."""

from __future__ import annotations

import re

from bglint.audit.sessions import Secrets
from bglint.regex import Regex

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
}
_CREDENTIALS = {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException"}


def is_denied(exc: BaseException) -> bool:
    """Whether AWS refused the call for lack of permission (not throttling, not a fault)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in _DENIED or response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403


def describe(exc: BaseException, secrets: Secrets) -> str:
    """`access denied: iam:ListRoles: ...`, `throttled ...`, `unreachable ...` or the error as AWS gave it."""
    return secrets.redact(_describe(exc))


def _describe(exc: BaseException) -> str:
    import botocore.exceptions as errors  # type: ignore[import-untyped]

    if isinstance(exc, errors.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")).strip()
        operation = _operation(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if code in _CREDENTIALS:
            return f"credentials rejected ({code}): {operation}: {message}"
        if code in _DENIED or status == 403:  # an error body the client could not parse is still a 403
            return f"access denied: {operation}: {_inner_message(message) or code}"
        if code in _THROTTLED:
            return f"throttled: {operation} still throttled after {attempts + 1} attempts: {message or code}"
        if isinstance(status, int) and status >= 500:
            return f"server error {status} ({code}): {operation} failed after {attempts + 1} attempts: {message}"
        return f"{code}: {operation}: {message}" if message else f"{code}: {operation}"
    if isinstance(exc, errors.EndpointConnectionError | errors.ConnectTimeoutError | errors.ConnectionClosedError):
        return f"unreachable: {exc}"
    if isinstance(exc, errors.ReadTimeoutError):
        return f"unreachable (timed out): {exc}"
    if isinstance(exc, errors.NoCredentialsError | errors.PartialCredentialsError):
        return f"no credentials: {exc} (configure a profile, environment variables or an instance role)"
    if isinstance(exc, errors.ProfileNotFound):
        return f"no such profile: {exc}"
    if isinstance(exc, errors.BotoCoreError):
        return f"AWS client error: {exc}"
    return f"{type(exc).__name__}: {exc}"


_XML_MESSAGE = Regex(r"<Message>(.*?)</Message>", re.DOTALL)


def _inner_message(message: str) -> str:
    """The <Message> of an XML error body a client passed through whole, else the message."""
    found = _XML_MESSAGE.search(message)
    return found.group(1).strip() if found else message


# The audit calls IAM, and these of STS, Organizations, CloudTrail and EventBridge.
_SERVICE = {
    "AssumeRole": "sts",
    "GetCallerIdentity": "sts",
    **dict.fromkeys(("ListAccounts", "ListParents", "ListPoliciesForTarget", "DescribePolicy"), "organizations"),
    "DescribeTrails": "cloudtrail",
    **dict.fromkeys(("ListRules", "ListTargetsByRule"), "events"),
}


def _operation(exc: BaseException) -> str:
    """`iam:ListRoles`: the IAM action a denied call needs."""
    name = getattr(exc, "operation_name", "") or "request"
    return f"{_SERVICE.get(name, 'iam')}:{name}"
