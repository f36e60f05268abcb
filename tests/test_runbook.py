"""BG020 and the runbook loader: the runbook is found, read as Markdown, and judged topic by topic.

End-to-end cases run the real CLI once over many app directories written here (JSON report),
then look at each app's findings; loader details are tested on the parser directly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bglint.load.nuon.runbook import find_runbook, parse_runbook
from conftest import run_bglint, write_tree
from runbooks import BG020_TOPICS, ROOT, runbook

ROLE = "{{.nuon.install.id}}-sandbox-bg"
OTHER = "{{.nuon.install.id}}-network-admin"


def app(roles: tuple[str, ...] = (ROLE,), files: dict[str, str] | None = None) -> dict[str, str]:
    """A vendor-network Nuon app whose break-glass roles are read-only (no IAM findings)."""
    toml = "".join(
        f'[[role]]\nname = "{name}"\ndescription = "incident access"\n\n'
        '[[role.policies]]\nmanaged_policy_name = "ReadOnlyAccess"\n\n'
        for name in roles
    )
    return {
        "metadata.toml": 'version = "v2"\n',
        "stack.toml": 'name = "s"\ndescription = "d"\nvpc_nested_template_url = "https://x/vpc/eks/stack.yaml"\n',
        "break_glass.toml": toml,
        **(files or {}),
    }


COMPLETE = runbook({ROLE: "sandbox"})

# app dir -> files; every app is checked in one CLI run
APPS: dict[str, dict[str, str]] = {
    "complete": app(files={"RUNBOOK.md": COMPLETE}),
    "missing": app(),
    "no-break-glass": {"metadata.toml": 'version = "v2"\n'},
    **{
        f"without-{topic}": app(files={"RUNBOOK.md": runbook({ROLE: "sandbox"}, drop=(topic,))})
        for topic in BG020_TOPICS
    },
    "role-not-named": app((ROLE, OTHER), files={"RUNBOOK.md": COMPLETE}),
    "role-without-level": app(files={"RUNBOOK.md": runbook({}, extra=f"\nUse `{ROLE}` when the nodes are stuck.\n")}),
    # the level may sit under a heading that names the role
    "role-heading-then-level": app(
        files={"RUNBOOK.md": runbook({}, extra=f"\n### {ROLE}\n\nAccess level: sandbox. Restarts nodes.\n")}
    ),
    "todo-section": app(
        files={
            "RUNBOOK.md": runbook({ROLE: "sandbox"}, drop=("customer-uninstall",))
            + "\n## Uninstalling the stack\n\nTODO\n"
        }
    ),
    "heading-in-code-block": app(
        files={
            "RUNBOOK.md": runbook({ROLE: "sandbox"}, drop=("customer-uninstall",))
            + "\n```markdown\n## Uninstall\nsee above\n```\n"
        }
    ),
    "heading-in-comment": app(
        files={
            "RUNBOOK.md": runbook({ROLE: "sandbox"}, drop=("customer-uninstall",))
            + "\n<!--\n## Uninstalling the stack\nRun delete-stack.\n-->\n"
        }
    ),
    "docs-break-glass": app(files={"docs/break-glass-aws.md": COMPLETE}),
    "lower-case-name": app(files={"Runbook.md": COMPLETE}),
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    base = tmp_path_factory.mktemp("runbooks")
    for name, files in APPS.items():
        write_tree(base / name, files)
    result = run_bglint("check", "--format", "json", *APPS, cwd=base)
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    assert data["errors"] == []
    by_app: dict[str, list[dict[str, Any]]] = {name: [] for name in APPS}
    for finding in data["findings"]:
        by_app[finding["document"]].append(finding)
    return by_app


def bg020(findings: dict[str, list[dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    return [f for f in findings[name] if f["rule"] == "BG020"]


def workflow(findings: dict[str, list[dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    """The app's runbook and link findings (its read-only role has a BG002 note: no boundary)."""
    return [f for f in findings[name] if f["rule"] in ("BG020", "BG021", "BG022", "BG023")]


@pytest.mark.slow
def test_complete_runbook_has_no_finding(findings: dict[str, list[dict[str, Any]]]) -> None:
    assert workflow(findings, "complete") == []


@pytest.mark.parametrize("topic", BG020_TOPICS)
def test_each_missing_topic_is_named(topic: str, findings: dict[str, list[dict[str, Any]]]) -> None:
    (finding,) = bg020(findings, f"without-{topic}")
    assert f"(topic '{topic}')" in finding["message"]
    assert finding["path"] == f"without-{topic}/RUNBOOK.md"
    assert finding["severity"] == "warning"
    assert " Fix: " in finding["message"] and finding["fix"]


def test_missing_uninstall_says_why_and_how(findings: dict[str, list[dict[str, Any]]]) -> None:
    (finding,) = bg020(findings, "without-customer-uninstall")
    message = finding["message"]
    assert "how the customer uninstalls the break-glass stack" in message
    assert "the vendor keeps access" in message
    assert "delete-stack" in finding["fix"]


def test_missing_roles_section_lists_the_roles_to_name(findings: dict[str, list[dict[str, Any]]]) -> None:
    (finding,) = bg020(findings, "without-access-levels")
    assert ROLE in finding["message"]


def test_missing_runbook_is_reported_at_the_app(findings: dict[str, list[dict[str, Any]]]) -> None:
    (finding,) = bg020(findings, "missing")
    assert finding["path"] == "missing/break_glass.toml" and finding["line"] == 1
    assert "no break-glass runbook" in finding["message"]
    assert "RUNBOOK.md" in finding["message"] and "docs/break-glass*.md" in finding["message"]
    assert f"with a section per topic ({', '.join(BG020_TOPICS)})" in finding["fix"]


def test_app_without_break_glass_roles_needs_no_runbook(findings: dict[str, list[dict[str, Any]]]) -> None:
    assert bg020(findings, "no-break-glass") == []


def test_a_role_of_break_glass_toml_not_named(findings: dict[str, list[dict[str, Any]]]) -> None:
    (finding,) = bg020(findings, "role-not-named")
    assert f"does not name break-glass role '{OTHER}'" in finding["message"]
    assert "(topic 'access-levels')" in finding["message"]
    # it points at the roles section of the runbook
    text = COMPLETE.splitlines()
    assert text[finding["line"] - 1] == "## Break-glass roles"


def test_a_role_named_without_its_access_level(findings: dict[str, list[dict[str, Any]]]) -> None:
    (finding,) = bg020(findings, "role-without-level")
    assert f"names break-glass role '{ROLE}' but not its access level" in finding["message"]


def test_the_level_may_be_under_the_roles_own_heading(findings: dict[str, list[dict[str, Any]]]) -> None:
    assert bg020(findings, "role-heading-then-level") == []


@pytest.mark.parametrize("name", ["todo-section", "heading-in-code-block", "heading-in-comment"])
def test_sections_that_say_nothing_do_not_count(name: str, findings: dict[str, list[dict[str, Any]]]) -> None:
    (finding,) = bg020(findings, name)
    assert "(topic 'customer-uninstall')" in finding["message"]


@pytest.mark.parametrize("name", ["docs-break-glass", "lower-case-name"])
def test_runbook_found_by_convention(name: str, findings: dict[str, list[dict[str, Any]]]) -> None:
    assert workflow(findings, name) == []


# -- the config names the runbook ---------------------------------------------------------


@pytest.mark.slow
def test_config_names_the_runbook_for_every_app_and_per_app(tmp_path: Path) -> None:
    write_tree(tmp_path / "apps" / "one", app(files={"ops/incident.md": COMPLETE}))
    write_tree(tmp_path / "apps" / "two", app(files={"handbook.md": COMPLETE}))
    write_tree(
        tmp_path,
        {".bglint.yaml": "runbook: ops/incident.md\napps:\n  apps/two: {runbook: handbook.md}\n"},
    )
    result = run_bglint("check", "--format", "json", "apps", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert data["errors"] == [], result.stderr
    assert [f for f in data["findings"] if f["rule"] == "BG020"] == []


@pytest.mark.slow
def test_config_runbook_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    write_tree(tmp_path / "one", app(files={"RUNBOOK.md": COMPLETE}))
    write_tree(tmp_path, {".bglint.yaml": "runbook: docs/nope.md\n"})
    result = run_bglint("check", "one", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["one/docs/nope.md: error: runbook named in the bglint config not found"]
    assert " BG020 " not in result.stdout  # the input error says it once


@pytest.mark.slow
def test_runbook_that_is_a_symlink_out_of_the_app_is_not_read(tmp_path: Path) -> None:
    write_tree(tmp_path, {"elsewhere/notes.md": COMPLETE})
    write_tree(tmp_path / "one", app())
    (tmp_path / "one" / "RUNBOOK.md").symlink_to(tmp_path / "elsewhere" / "notes.md")
    result = run_bglint("check", "one", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("one/RUNBOOK.md: error: ")
    assert " BG020 " not in result.stdout


@pytest.mark.slow
def test_config_runbook_must_be_a_string(tmp_path: Path) -> None:
    write_tree(tmp_path / "one", app(files={"RUNBOOK.md": COMPLETE}))
    write_tree(tmp_path, {".bglint.yaml": "runbook: [a.md]\n"})
    result = run_bglint("check", "one", cwd=tmp_path)
    assert result.returncode == 2
    assert "runbook" in result.stderr and "Traceback" not in result.stderr


# -- a team's own topics -------------------------------------------------------------------


def _acme_rule(topics: list[dict[str, Any]]) -> str:
    rule = yaml.safe_load((ROOT / "rules" / "BG020.yaml").read_text())
    rule.update(id="ACME020", name="acme-runbook-topics", help="docs/acme/ACME020.md")
    rule["check"]["params"]["topics"] = topics
    return yaml.safe_dump(rule, sort_keys=False)


@pytest.mark.slow
def test_a_user_rule_with_its_own_topics(tmp_path: Path) -> None:
    """A copy of BG020 with another id and other topics works without Python."""
    topics = [
        {"id": "data-handling", "title": "how customer data is handled", "headings": ["customer data"]},
        {"id": "sign-off", "title": "who signs off", "headings": ["sign[- ]off"], "keywords": ["approved by"]},
    ]
    write_tree(tmp_path, {"acme/ACME020.yaml": _acme_rule(topics)})
    write_tree(tmp_path / "one", app(files={"RUNBOOK.md": COMPLETE + "\n## Customer data\n\nNever copied out.\n"}))
    result = run_bglint("check", "--format", "json", "--rules", "acme", "one", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert data["errors"] == [], result.stderr
    acme = [f for f in data["findings"] if f["rule"] == "ACME020"]
    assert [f["message"] for f in acme] == [
        "runbook one/RUNBOOK.md does not say who signs off (topic 'sign-off'). Fix: add a section '## Who signs off'."
    ]
    assert [f for f in data["findings"] if f["rule"] == "BG020"] == []


@pytest.mark.slow
def test_a_user_rule_with_a_broken_pattern_says_so(tmp_path: Path) -> None:
    write_tree(tmp_path, {"acme/ACME020.yaml": _acme_rule([{"id": "x", "title": "x", "headings": ["(unclosed"]}])})
    write_tree(tmp_path / "one", app(files={"RUNBOOK.md": COMPLETE}))
    result = run_bglint("check", "--format", "json", "--rules", "acme", "one", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "ACME020"]
    assert "topics[0].headings[0] is not a valid regular expression" in finding["message"]


@pytest.mark.slow
def test_without_a_runbook_the_rule_reports_it_missing_before_its_patterns(tmp_path: Path) -> None:
    """The patterns are only compiled (and so checked) to search a runbook: with none, the
    finding is the missing runbook, its fix naming the rule's topics."""
    topics = [{"id": "x", "title": "x", "headings": ["(unclosed"]}, {"id": "y", "title": "y"}]
    write_tree(tmp_path, {"acme/ACME020.yaml": _acme_rule(topics)})
    write_tree(tmp_path / "one", app())
    result = run_bglint("check", "--format", "json", "--rules", "acme", "one", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "ACME020"]
    assert "no break-glass runbook" in finding["message"]
    assert "with a section per topic (x, y)" in finding["fix"]


@pytest.mark.slow
def test_the_shipped_good_example_runbook_is_complete(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "good-app", tmp_path / "good-app")
    result = run_bglint("check", "--format", "json", "good-app", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert [f["rule"] for f in data["findings"] if f["rule"] in ("BG020", "BG021")] == []


# -- the Markdown reader ---------------------------------------------------------------------

MARKDOWN = """\
---
title: front matter is not text
---
Intro line with a [link](https://example.com/a "title") and https://example.com/b.

Setext title
============

## ATX title ##
body
```
# not a heading
https://example.com/in-code
```
<!-- ## hidden heading -->
Sub title
---------
[ref]: https://example.com/c
"""


def test_markdown_headings_sections_and_links() -> None:
    book = parse_runbook(MARKDOWN, "RUNBOOK.md")
    titled = [(s.title, s.level, s.loc.line) for s in book.sections if s.level]
    assert titled == [("Setext title", 1, 6), ("ATX title", 2, 9), ("Sub title", 2, 16)]
    preamble = book.sections[0]
    assert preamble.level == 0 and [n for n, _ in preamble.lines] == [4]
    atx = book.sections[2]
    assert [n for n, _ in atx.lines] == [10, 11, 12, 13, 14]  # the code block is body text
    assert "front matter" not in "\n".join(book.lines) and "hidden" not in "\n".join(book.lines)
    links = [(link.url, link.text, link.loc.line, link.loc.col) for link in book.links]
    lines = MARKDOWN.splitlines()
    assert links == [
        ("https://example.com/a", "link", 4, lines[3].index("https://example.com/a") + 1),
        ("https://example.com/b", "", 4, lines[3].index("https://example.com/b") + 1),  # the final "." is not the URL's
        ("https://example.com/in-code", "", 13, 1),
        ("https://example.com/c", "ref", 18, 8),
    ]


def test_find_runbook_by_convention_in_order(tmp_path: Path) -> None:
    assert find_runbook(tmp_path) is None
    write_tree(tmp_path, {"docs/runbook-aws.md": "x", "docs/break-glass.md": "x"})
    found = find_runbook(tmp_path)
    assert found is not None and found.name == "break-glass.md"
    write_tree(tmp_path, {"BREAK_GLASS.md": "x"})
    found = find_runbook(tmp_path)
    assert found is not None and found.name == "BREAK_GLASS.md"
    write_tree(tmp_path, {"RunBook.md": "x"})
    found = find_runbook(tmp_path)
    assert found is not None and found.name == "RunBook.md"


@pytest.mark.slow
@pytest.mark.parametrize(
    "hostile",
    [
        "[" * 200_000,  # an unclosed link text at every position
        "](" * 100_000 + "https://x",
        "<!--" * 100_000,  # comments that never close
        "# " + " " * 200_000 + "x",
        "## " + "when " * 40_000 + "\n" + "acknowledge " * 40_000,
        "https://console.aws.amazon.com/cloudformation/home#/stacks/quickcreate?stackName=" + "{{" * 100_000,
    ],
)
def test_hostile_runbooks_are_read_in_linear_time(hostile: str, tmp_path: Path) -> None:
    """Runbooks come from pull requests; no pattern may backtrack (quadratic here is minutes)."""
    write_tree(tmp_path / "one", app(files={"RUNBOOK.md": hostile}))
    # A time budget that minutes of backtracking overrun but a busy machine does not: the
    # default 2 s was overrun by this 400 KB runbook on a machine running several test suites.
    write_tree(tmp_path, {".bglint.yaml": "limits:\n  max-seconds: 30\n"})
    book = parse_runbook(hostile, "RUNBOOK.md")
    assert book.lines
    result = run_bglint("check", "--format", "json", "one", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
