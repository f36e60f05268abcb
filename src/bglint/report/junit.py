"""JUnit XML (GitLab, Jenkins): one test case per rule and document; findings are failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bglint.report import Report, visible


def render_junit(report: Report) -> str:
    shown = visible(report)
    suites = ET.Element("testsuites", name="bglint")
    failures = [f for f in shown if f.severity == "error"]
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="bglint",
        tests=str(len(report.documents) * len(report.rules) or 1),
        failures=str(len(failures)),
        errors=str(len(report.errors)),
    )
    for doc in report.documents:
        for rule in report.rules:
            case = ET.SubElement(suite, "testcase", classname=rule.id, name=f"{doc.path} {rule.title}")
            for finding in (f for f in shown if f.rule.id == rule.id and f.document == doc.path):
                kind = "failure" if finding.severity == "error" else "system-out"
                where = f"{finding.loc.path}:{finding.loc.line}" if finding.loc.line else finding.loc.path
                if kind == "failure":
                    node = ET.SubElement(case, "failure", message=finding.message, type=rule.id)
                    node.text = f"{where}: {finding.message}"
                else:
                    ET.SubElement(case, "system-out").text = f"{finding.severity}: {where}: {finding.message}"
    for error in report.errors:
        case = ET.SubElement(suite, "testcase", classname="bglint", name=error.path)
        ET.SubElement(case, "error", message=error.message).text = str(error)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
