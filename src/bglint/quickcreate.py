"""CloudFormation console Quick-create links: parse, check and build them.

The format, from AWS's "Create quick-create links for stacks" page: the console URL
`https://<region>.console.aws.amazon.com/cloudformation/home?region=<region>` with a fragment
`#/stacks/quickcreate?templateURL=...&stackName=...&param_<Name>=...` (older links use
`#/stacks/create/review` or `#/stacks/new`). `templateURL` is required; `stackName` may hold
only letters, digits and hyphens, starts with a letter and has at most 128 characters;
`param_<Name>` must match a template parameter exactly (case-sensitive); CloudFormation
ignores unknown and NoEcho parameters. Query names are case-sensitive; Nuon writes
`templateUrl`, which the console accepts as well.

One module for `bglint quickcreate` and for BG021, so both judge links alike. Values holding
a placeholder (`{{.nuon.install.id}}`, `<region>`, `${Region}`) are filled in when the link is
used: only their fixed parts are judged.
"""

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from bglint.model import Parameter
from bglint.regex import Regex

_CONSOLE_HOSTS = {
    "console.aws.amazon.com": "aws",
    "console.amazonaws.cn": "aws-cn",
    "console.amazonaws-us-gov.com": "aws-us-gov",
}
_FRAGMENTS = ("/stacks/quickcreate", "/stacks/create/review", "/stacks/new")
_TEMPLATE_KEYS = ("templateURL", "templateUrl")
_KNOWN_KEYS = {"templateurl": "templateURL", "stackname": "stackName"}
# bounded repeats: links are untrusted text, and Python's re cannot be interrupted
_PLACEHOLDER = Regex(r"\{\{[^{}]{0,200}\}\}|<[^<>]{0,200}>|\$\{[^{}]{0,200}\}|\{[A-Za-z_][\w.-]{0,200}\}")
_REGION = Regex(r"^(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|eusc)-[a-z]+-\d{1,2}$")
_ZONE = Regex(r"^((?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|eusc)-[a-z]+-\d{1,2})[a-z]$")
_SLOPPY_REGION = Regex(r"^([a-z]{2}(?:-gov)?)-?([a-z]+?)-?(\d{1,2})$")
_STACK_NAME = Regex(r"^[A-Za-z][A-Za-z0-9-]*$")
_SECRET_NAME = Regex(r"password|passwd|secret|token|private[-_]?key|access[-_]?key|credential|api[-_]?key", re.I)
MAX_STACK_NAME = 128
MAX_TEMPLATE_URL = 1024


class Link(NamedTuple):
    """A Quick-create link taken apart. Values are percent-decoded."""

    url: str
    host: str
    host_region: str  # from https://<region>.console...
    query_region: str  # from ?region=
    template_url: str | None
    stack_name: str | None
    params: tuple[tuple[str, str], ...]  # (name without param_, value)
    other_keys: tuple[str, ...]  # query names that are none of the above


class Problem(NamedTuple):
    key: str  # what distinguishes it among a link's problems (stable, for fingerprints)
    message: str  # what is wrong and why it matters, one sentence without a final period
    fix: str


def is_quickcreate(url: str) -> bool:
    """Whether `url` is a CloudFormation console link that creates a stack from a template."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        _partition_of(parts.hostname or "") is not None
        and parts.path.rstrip("/").endswith("/cloudformation/home")
        and parts.fragment.split("?", 1)[0].rstrip("/") in _FRAGMENTS
    )


def _partition_of(host: str) -> str | None:
    for suffix, partition in _CONSOLE_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return partition
    return None


def parse(url: str) -> Link:
    parts = urlsplit(url)
    host = parts.hostname or ""
    partition_host = next((s for s in _CONSOLE_HOSTS if host.endswith("." + s)), "")
    host_region = host[: -len(partition_host) - 1] if partition_host else ""
    query_region = next((v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k == "region"), "")
    fragment_query = parts.fragment.split("?", 1)[1] if "?" in parts.fragment else ""
    template_url = stack_name = None
    params, other = [], []
    for key, value in parse_qsl(fragment_query, keep_blank_values=True):
        if key in _TEMPLATE_KEYS:
            template_url = value
        elif key == "stackName":
            stack_name = value
        elif key.startswith("param_"):
            params.append((key.removeprefix("param_"), value))
        else:
            other.append(key)
    return Link(url, host, host_region, query_region, template_url, stack_name, tuple(params), tuple(other))


def build(region: str, template_url: str, stack_name: str, params: Iterable[tuple[str, str]]) -> str:
    """A Quick-create link; every value percent-encoded (the template URL too, so its own `?`/`&` survive)."""
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    host = next(h for h, p in _CONSOLE_HOSTS.items() if p == partition)
    host = f"{region}.{host}" if partition == "aws" else host
    query = [("templateURL", template_url), ("stackName", stack_name), *((f"param_{k}", v) for k, v in params)]
    fragment = "&".join(f"{key}={quote(value, safe='')}" for key, value in query)
    return f"https://{host}/cloudformation/home?region={quote(region, safe='')}#/stacks/quickcreate?{fragment}"


def has_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.search(unquote(value)))


def problems(link: Link, parameters: tuple[Parameter, ...] | None) -> list[Problem]:
    """Everything wrong with a link; `parameters` are its template's, None when the template is unknown."""
    found = [*template_url_problems(link.template_url), *_region_problems(link)]
    found += _stack_name_problems(link.stack_name)
    found += _key_problems(link.other_keys)
    found += parameter_problems(link.params, parameters)
    return found


def template_url_problems(url: str | None) -> list[Problem]:
    if url is None or not url.strip():
        return [
            Problem(
                "template-url",
                "has no templateURL, so the console opens an empty Create stack page",
                "add templateURL=<the https URL of the break-glass template in S3>",
            )
        ]
    if has_placeholder(url) and not re.match(r"^[a-z]+://", url):
        return []
    scheme = urlsplit(url).scheme.lower()
    if scheme != "https":
        return [
            Problem(
                "template-url-scheme",
                f"has a templateURL that is not https ({_short(url)}): the template the customer installs "
                "could be swapped in transit for one that grants more",
                "use the https:// S3 URL of the template",
            )
        ]
    if len(url) > MAX_TEMPLATE_URL:
        return [
            Problem(
                "template-url-length",
                f"has a templateURL of {len(url)} characters; CloudFormation accepts at most {MAX_TEMPLATE_URL}",
                "shorten the template's S3 key",
            )
        ]
    return []


def _region_problems(link: Link) -> list[Problem]:
    regions = [r for r in (link.host_region, link.query_region) if r]
    if not regions:
        return [
            Problem(
                "region-missing",
                "names no region, so the stack is created in whatever region the customer's console last used, "
                "maybe not the install's",
                "add ?region=<the install's region> (and use https://<region>.console.aws.amazon.com)",
            )
        ]
    found = [p for region in dict.fromkeys(regions) for p in region_problems(region, "region")]
    if not found and len(set(regions)) > 1:
        found.append(
            Problem(
                "region-mismatch",
                f"names two regions ({link.host_region} in the host, {link.query_region} in ?region=)",
                "use the install's region in both places",
            )
        )
    if not found:
        region = regions[0]
        partition = _partition_of(link.host)
        wanted = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
        if partition and not has_placeholder(region) and partition != wanted:
            found.append(
                Problem(
                    "region-partition",
                    f"opens the {partition} console ({link.host}) for region {region}, which lives in the {wanted} "
                    "partition: the link cannot work",
                    f"use the {wanted} console host",
                )
            )
    return found


def region_problems(region: str, key: str) -> list[Problem]:
    """Problems with one region name (the same check for links and `bglint quickcreate --region`)."""
    if has_placeholder(region) or _REGION.match(region):
        return []
    zone = _ZONE.match(region)
    if zone:
        hint = f"use the region {zone.group(1)}"
        return [Problem(key, f"names '{region}' as its region, which is an availability zone, not a region", hint)]
    sloppy = _SLOPPY_REGION.match(region.lower())
    guess = "-".join(sloppy.groups()) if sloppy else ""
    hint = f"did you mean '{guess}'?" if guess and _REGION.match(guess) else "e.g. us-east-1, eu-west-1"
    return [
        Problem(
            key,
            f"names '{region}' as its region, which is not an AWS region name",
            f"use the install's region ({hint})",
        )
    ]


def _stack_name_problems(name: str | None) -> list[Problem]:
    if name is None or not name.strip():
        return [
            Problem(
                "stack-name-missing",
                "sets no stackName, so the customer has to invent one, and the uninstall steps cannot say which "
                "stack to delete",
                "add stackName=<a fixed name, e.g. <app>-break-glass>",
            )
        ]
    return stack_name_problems(name, "stack-name")


def stack_name_problems(name: str, key: str) -> list[Problem]:
    concrete = _PLACEHOLDER.sub("x", name)
    if len(concrete) > MAX_STACK_NAME:
        return [
            Problem(
                key,
                f"has a stack name of {len(concrete)} characters; at most {MAX_STACK_NAME} are allowed",
                "shorten it",
            )
        ]
    if not _STACK_NAME.match(concrete):
        return [
            Problem(
                key,
                f"has stack name '{name}', which CloudFormation rejects (letters, digits and hyphens only, "
                "starting with a letter)",
                f"use e.g. '{_stack_name_hint(concrete)}'",
            )
        ]
    return []


def _stack_name_hint(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")
    return cleaned if cleaned[:1].isalpha() else f"bg-{cleaned}".rstrip("-")


def _key_problems(keys: tuple[str, ...]) -> list[Problem]:
    found = []
    for key in keys:
        meant = _KNOWN_KEYS.get(key.lower())
        if meant:
            found.append(
                Problem(
                    f"key:{key}",
                    f"writes '{key}', which the console ignores: query names are case-sensitive",
                    f"write '{meant}'",
                )
            )
        elif key.lower().startswith("param") and not key.startswith("param_"):
            found.append(
                Problem(f"key:{key}", f"writes '{key}', which the console ignores", "write param_<ParameterName>")
            )
    return found


def parameter_problems(given: tuple[tuple[str, str], ...], parameters: tuple[Parameter, ...] | None) -> list[Problem]:
    """Parameters that do not exist, carry secrets, break AllowedValues, or are required and absent."""
    known = {p.name: p for p in parameters} if parameters is not None else None
    found = []
    for name, value in given:
        spec = known.get(name) if known is not None else None
        if known is not None and spec is None:
            import difflib  # only when a name is wrong: it costs ~5 ms to import

            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"the template has {_names(known)}"
            found.append(
                Problem(
                    f"param-unknown:{name}",
                    f"sets param_{name}, which the template does not define; CloudFormation silently ignores it",
                    f"remove it or fix the name ({hint})",
                )
            )
        elif spec is not None and spec.no_echo:
            found.append(
                Problem(
                    f"param-noecho:{name}",
                    f"puts a value for NoEcho parameter {name} in the URL, where browser history, chat logs and "
                    "tickets keep it (and CloudFormation ignores it anyway)",
                    f"remove param_{name}; the customer types it into the console",
                )
            )
        elif _SECRET_NAME.search(name):
            found.append(
                Problem(
                    f"param-secret:{name}",
                    f"puts a value for {name}, which by its name is a secret, in the URL, where browser history, "
                    "chat logs and tickets keep it",
                    f"remove param_{name} and make the parameter NoEcho; the customer types it into the console",
                )
            )
        elif (
            spec is not None and spec.allowed_values and value not in spec.allowed_values and not has_placeholder(value)
        ):
            found.append(
                Problem(
                    f"param-value:{name}",
                    f"sets param_{name}={value!r}, which the template's AllowedValues "
                    f"({', '.join(spec.allowed_values)}) reject: the stack fails to create",
                    f"use one of {', '.join(spec.allowed_values)}",
                )
            )
    if known is not None:
        names = {name for name, _ in given}
        for spec in known.values():
            if spec.default is None and not spec.no_echo and spec.name not in names:
                found.append(
                    Problem(
                        f"param-required:{spec.name}",
                        f"does not set required parameter {spec.name} (it has no Default), so the customer must "
                        "find the right value during the incident",
                        f"add param_{spec.name}=<value>",
                    )
                )
    return found


def _names(known: dict[str, Parameter]) -> str:
    names = sorted(known)
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "") if names else "no parameters"


def _short(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."
