"""BG021: Quick-create links in app configs and runbooks are valid and leak no secret.

The links were read by the loaders; `bglint.quickcreate` judges them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bglint.evaluate.registry import predicate
from bglint.evaluate.subject import Subject
from bglint.findings import Hit


@predicate
def quickcreate_link_invalid(subject: Subject, params: dict[str, Any]) -> Iterator[Hit]:
    """Quick-create links in the runbook or app config that would fail, mislead or leak a secret."""
    if not subject.document.quickcreate_links:
        return
    from bglint.quickcreate import parse, problems  # only app configs and runbooks hold links

    for link in subject.document.quickcreate_links:
        template = f" (template {link.template})" if link.template else ""
        for problem in problems(parse(link.url), link.parameters):
            yield Hit(
                link.loc,
                f"the Quick-create link{template} {problem.message}",
                problem.fix,
                f"{problem.key}@{link.url}",
            )
