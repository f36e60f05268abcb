"""JUnit XML (GitLab, Jenkins): one test case per role and rule; a test case with an error
finding is one failure, so `failures` counts failing test cases, as JUnit readers do."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bglint.findings import Finding
from bglint.report import Report, visible
from bglint.report.escape import for_terminal

_ROLE_RULES = ("break-glass-roles", "all-roles")


def render_junit(report: Report) -> str:
    shown = visible(report)
    suites = ET.Element("testsuites", name="bglint")
    suite = ET.SubElement(suites, "testsuite", name="bglint")
    # (place, role, rule id) -> findings; place is the document, or for findings about no
    # document (a suppression's own, BG040-BG042) the file they point at.
    paths = {doc.path for doc in report.documents}
    found: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in shown:
        place = finding.document if finding.document in paths else finding.loc.path
        found.setdefault((place, finding.role, finding.rule.id), []).append(finding)
    cases = list(found)
    # The checks that passed: each role-rule of each break-glass role, each document rule.
    for doc in report.documents:
        for rule in report.rules:
            if rule.applies_to == "document":
                cases.append((doc.path, "", rule.id))
            elif rule.applies_to in _ROLE_RULES:
                cases += [
                    (doc.path, role.name, rule.id)
                    for role in doc.roles
                    if role.break_glass or rule.applies_to == "all-roles"
                ]
    titles = {rule.id: rule.title for rule in report.rules}
    failures = 0
    for place, role, rule_id in sorted(dict.fromkeys(cases)):
        name = f"{role}: {titles.get(rule_id, rule_id)}" if role else titles.get(rule_id, rule_id)
        case = ET.SubElement(suite, "testcase", classname=_xml(f"{place} {rule_id}"), name=_xml(name))
        here = found.get((place, role, rule_id), [])
        errors = [f for f in here if f.severity == "error"]
        if errors:
            failures += 1
            text = "\n".join(_xml(f"{_where(f)}: {f.message}") for f in errors)
            ET.SubElement(case, "failure", message=_xml(errors[0].message), type=rule_id).text = text
        lesser = [f for f in here if f.severity != "error"]
        if lesser:
            ET.SubElement(case, "system-out").text = "\n".join(
                _xml(f"{f.severity}: {_where(f)}: {f.message}") for f in lesser
            )
    for error in report.errors:
        case = ET.SubElement(suite, "testcase", classname="bglint", name=_xml(error.path))
        ET.SubElement(case, "error", message=_xml(error.message)).text = _xml(str(error))
    suite.set("tests", str(len(suite.findall("testcase")) or 1))
    suite.set("failures", str(failures))
    suite.set("errors", str(len(report.errors)))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _where(finding: Finding) -> str:
    return f"{finding.loc.path}:{finding.loc.line}" if finding.loc.line else finding.loc.path


def _xml(text: str) -> str:
    """XML 1.0 allows no control characters (but tab and newlines): show them escaped."""
    return for_terminal(text)
