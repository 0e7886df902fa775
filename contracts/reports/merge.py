"""Merging the reports of shard runs (``--shard i/n`` on n CI machines) into one run."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from apitwin.contracts.fuzz.events import Failure, OperationResult, RunReport


class MergeError(ValueError):
    """Reports that do not belong together (different APIs, overlapping or missing shards)."""


def merge_files(paths: list[Path]) -> RunReport:
    return merge([read_report(path) for path in paths])


def read_report(path: Path) -> RunReport:
    """A JSON report as written by ``--json``, or a JUnit XML report as written by ``--junit``."""
    text = path.read_text(encoding="utf-8")
    try:
        if text.lstrip().startswith("<"):
            return _from_junit(text)
        return RunReport.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError, ET.ParseError) as error:
        raise MergeError(f"{path}: not an apitwin fuzz report ({error})") from error


def merge(reports: list[RunReport]) -> RunReport:
    if not reports:
        raise MergeError("nothing to merge")
    apis = sorted({report.api for report in reports})
    if len(apis) > 1:
        raise MergeError(f"the reports are of different APIs: {', '.join(apis)}")
    _check_shards(reports)
    operations: dict[str, OperationResult] = {}
    for report in reports:
        for operation in report.operations:
            if operation.label in operations:
                raise MergeError(f"{operation.label} is in more than one report: the shards overlap")
            operations[operation.label] = operation
    budgets = [report.max_requests for report in reports if report.max_requests is not None]
    unsafe = {item.label: item for report in reports for item in report.unsafe}
    return RunReport(
        api=apis[0],
        base_url=reports[0].base_url,
        seed=reports[0].seed,
        shards=sorted(shard for report in reports for shard in report.shards),
        max_requests=sum(budgets) if budgets else None,
        requests_sent=sum(report.requests_sent for report in reports),
        budget_exhausted=any(report.budget_exhausted for report in reports),
        duration=round(max(report.duration for report in reports), 3),
        operations=[operations[label] for label in sorted(operations)],
        unsafe=[unsafe[label] for label in sorted(unsafe)],
    )


def _check_shards(reports: list[RunReport]) -> None:
    shards = [shard for report in reports for shard in report.shards]
    if not shards:
        return
    totals = {shard.split("/")[1] for shard in shards}
    if len(totals) > 1 or len(shards) != len(set(shards)):
        raise MergeError(f"the shards do not belong to one split: {', '.join(shards)}")
    total = int(totals.pop())
    missing = [f"{index}/{total}" for index in range(1, total + 1) if f"{index}/{total}" not in shards]
    if missing:
        raise MergeError(f"shard(s) {', '.join(missing)} missing: a merged report would hide untested operations")


def _from_junit(text: str) -> RunReport:
    root = ET.fromstring(text)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        raise ValueError("no <testsuite>")
    properties = {item.get("name"): item.get("value") or "" for item in suite.iter("property")}
    report = RunReport(
        api=suite.get("name", ""),
        base_url=properties.get("base_url", ""),
        seed=int(properties.get("seed") or 0),
        shards=[shard for shard in properties.get("shards", "").split(",") if shard],
        requests_sent=int(properties.get("requests_sent") or 0),
        duration=float(suite.get("time") or 0),
    )
    for testcase in suite.iter("testcase"):
        label = testcase.get("name", "")
        operation = OperationResult(label=label, operation_id="", duration=float(testcase.get("time") or 0))
        for element in testcase.findall("failure"):
            check = element.get("type", "")
            named, _, title = (element.get("message") or "").partition(": ")
            checks = named.split(" + ") if title else [check]
            body = element.text or ""
            lines = body.splitlines()
            pointer = next((line.removeprefix("pointer: ") for line in lines if line.startswith("pointer: ")), "")
            seen = next((line for line in lines if line.startswith("seen in ")), "")
            curl = body.split("reproduce: ", 1)[1] if "reproduce: " in body else ""
            message = body.split("\nseen in ")[0].split("\npointer: ")[0].split("\nreproduce: ")[0]
            operation.failures.append(
                Failure(
                    label,
                    check,
                    title or named,
                    message,
                    pointer,
                    curl,
                    checks=checks,
                    occurrences=int(seen.split()[2]) if seen else 1,
                )
            )
        operation.errors = [element.text or element.get("message") or "" for element in testcase.findall("error")]
        skipped = testcase.find("skipped")
        operation.skipped = skipped.get("message", "skipped") if skipped is not None else ""
        operation.answered = 0 if skipped is not None else 1  # JUnit keeps no counts: a run testcase was answered
        report.operations.append(operation)
    return report
