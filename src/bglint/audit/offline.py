"""`bglint audit --from DIR`: judge saved bulk reads offline, so collection and judgement can run apart.

Each `*.json` file of DIR is one account: the JSON `aws iam get-account-authorization-details`
prints (or the snapshot a SARIF audit writes). The account is the 12-digit id in the file
name, else the one in its roles' ARNs. Nothing is fetched: an AWS-managed policy bglint has
not pinned and the dump does not carry is unknown (BG009). A file that is not such a dump is
one input error; the other files are still judged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bglint.audit.run import AccountAudit, AuditOptions, AuditResult, judge_account
from bglint.audit.sessions import Secrets
from bglint.errors import InputError
from bglint.load.aws import Documents
from bglint.load.aws_details import collect, raw_roles, unknown_policy
from bglint.regex import Regex

_ACCOUNT_IN_NAME = Regex(r"(?<!\d)(\d{12})(?!\d)")
_ACCOUNT_IN_ARN = Regex(r"^arn:[^:]+:iam::(\d{12}):")


def run_offline(options: AuditOptions, directory: Path) -> AuditResult:
    errors: list[InputError] = []
    # account -> its file; a file without the account in its name is read twice (to find the
    # account, then to judge it): one account's JSON is in memory at a time
    dumps: dict[str, Path] = {}
    for path in sorted(p for p in directory.iterdir() if p.suffix == ".json" and p.is_file()):
        named = _ACCOUNT_IN_NAME.search(path.stem)
        data = None if named else _read(path, errors)
        account = named.group(1) if named else _account_in(data)
        if not account:
            if data is not None:
                errors.append(InputError(str(path), "no account: no 12-digit id in the file name or its roles' ARNs"))
            continue
        if account in dumps:
            errors.append(InputError(str(path), f"account {account} is also in {dumps[account]}"))
            continue
        dumps[account] = path
    documents = Documents()
    accounts = []
    for account in sorted(dumps):
        path = dumps[account]
        if options.shard is not None and not options.shard.takes(account):
            continue
        data = _read(path, errors)
        if data is None:
            accounts.append(AccountAudit(account, error=errors[-1]))
            continue
        try:
            result = _judge(account, data, options, documents)
        except Exception as exc:  # a dump of a shape bglint did not foresee: this file only
            error = InputError(str(path), f"bglint failed on this dump ({type(exc).__name__}: {exc}); please report it")
            result = AccountAudit(account, error=error)
        result.source = str(path)
        accounts.append(result)
        if result.error is not None:
            errors.append(result.error)
    return AuditResult(accounts, errors, Secrets(), sorted(dumps))


def _judge(account: str, data: dict[str, Any], options: AuditOptions, documents: Documents) -> AccountAudit:
    records = raw_roles(collect([data], options.discovery.choose, options.discovery.path_prefix), unknown_policy)
    return judge_account(lambda: account, records, options, documents)


def _read(path: Path, errors: list[InputError]) -> dict[str, Any] | None:
    """The dump's JSON, or None after recording why it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        errors.append(InputError(str(path), f"not JSON: {exc.msg}", exc.lineno, exc.colno))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(InputError(str(path), f"cannot read: {exc}"))
        return None
    except RecursionError:  # json's decoder recurses once per level
        errors.append(InputError(str(path), "not a dump: JSON nested too deeply"))
        return None
    if not isinstance(data, dict) or not isinstance(data.get("RoleDetailList"), list):
        errors.append(InputError(str(path), "not a get-account-authorization-details dump (no RoleDetailList list)"))
        return None
    return data


def _account_in(data: dict[str, Any] | None) -> str:
    for role in (data or {}).get("RoleDetailList") or ():
        found = _ACCOUNT_IN_ARN.match(str(role.get("Arn", ""))) if isinstance(role, dict) else None
        if found:
            return found.group(1)
    return ""
