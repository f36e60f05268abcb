"""JUnit XML (GitLab, Jenkins): one test case per rule and document; findings are failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bglint.findings import Finding
from bglint.report import Report, visible
from bglint.report.escape import for_terminal


def render_junit(report: Report) -> str:
    shown = visible(report)
    suites = ET.Element("testsuites", name="bglint")
    failures = [f for f in shown if f.severity == "error"]
    suite = ET.SubElement(suites, "testsuite", name="bglint")
    # Findings about a document go to its test cases; the others (a suppression's own
    # findings, BG040-BG042, whose document is "") to test cases of the file they point at.
    paths = [doc.path for doc in report.documents]
    by_place: dict[str, list[Finding]] = {}
    for finding in shown:
        place = finding.document if finding.document in paths else finding.loc.path
        by_place.setdefault(place, []).append(finding)
    extra = [place for place in by_place if place not in paths]
    for place in paths + extra:
        found = by_place.get(place, [])
        # Every rule for a document (passed or failed); only the failing ones elsewhere.
        rules = report.rules if place in paths else [r for r in report.rules if any(f.rule.id == r.id for f in found)]
        for rule in rules:
            case = ET.SubElement(suite, "testcase", classname=rule.id, name=_xml(f"{place} {rule.title}"))
            for finding in (f for f in found if f.rule.id == rule.id):
                where = f"{finding.loc.path}:{finding.loc.line}" if finding.loc.line else finding.loc.path
                if finding.severity == "error":
                    node = ET.SubElement(case, "failure", message=_xml(finding.message), type=rule.id)
                    node.text = _xml(f"{where}: {finding.message}")
                else:
                    ET.SubElement(case, "system-out").text = _xml(f"{finding.severity}: {where}: {finding.message}")
    for error in report.errors:
        case = ET.SubElement(suite, "testcase", classname="bglint", name=_xml(error.path))
        ET.SubElement(case, "error", message=_xml(error.message)).text = _xml(str(error))
    suite.set("tests", str(len(suite.findall("testcase")) or 1))
    suite.set("failures", str(len(failures)))
    suite.set("errors", str(len(report.errors)))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _xml(text: str) -> str:
    """XML 1.0 allows no control characters (but tab and newlines): show them escaped."""
    return for_terminal(text)
