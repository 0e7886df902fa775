"""JUnit XML: one testsuite per API run, one testcase per operation; a failing operation has one
``<failure>`` (CI tools show only the first of several) whose text lists every cause."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from apitwin.contracts.fuzz.events import Failure, OperationResult, RunReport


def render(report: RunReport) -> str:
    suites = ET.Element("testsuites", name="apitwin fuzz")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=report.api,
        tests=str(len(report.operations)),
        failures=str(sum(1 for op in report.operations if op.status == "failed")),
        errors=str(sum(1 for op in report.operations if op.status == "error")),
        skipped=str(sum(1 for op in report.operations if op.status == "skipped")),
        time=f"{report.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("base_url", report.base_url),
        ("seed", str(report.seed)),
        ("shards", ",".join(report.shards)),
        ("requests_sent", str(report.requests_sent)),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for operation in report.operations:
        testcase = ET.SubElement(
            suite, "testcase", classname=report.api, name=operation.label, time=f"{operation.duration:.3f}"
        )
        if operation.failures:
            _failure(testcase, operation)
        for error in operation.errors:
            ET.SubElement(testcase, "error", message=error[:500]).text = error
        if operation.status == "skipped":
            ET.SubElement(testcase, "skipped", message=operation.skipped or "not exercised")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _failure(testcase: ET.Element, operation: OperationResult) -> None:
    causes = operation.failures
    first = causes[0]
    summary = f"{' + '.join(first.all_checks())}: {first.title}"
    if len(causes) > 1:
        summary = f"{len(causes)} causes; first {summary}"
    element = ET.SubElement(testcase, "failure", type=first.check, message=summary)
    element.text = "\n\n".join(_cause(number, cause) for number, cause in enumerate(causes, start=1))


def _cause(number: int, failure: Failure) -> str:
    lines = [
        f"cause {number}: {' + '.join(failure.all_checks())}: {failure.title}",
        failure.message,
        f"seen in {failure.occurrences} requests" if failure.occurrences > 1 else "",
        f"pointer: {failure.pointer}" if failure.pointer else "",
        f"reproduce: {failure.curl}",
    ]
    return "\n".join(line for line in lines if line)
