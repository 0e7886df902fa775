"""Shards partition the operations; JUnit, HTML and JSON reports; merging; exit codes."""

from __future__ import annotations

import json
import re
from io import StringIO
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console

from apitwin.contracts.fuzz.events import OperationResult, RunReport
from apitwin.contracts.fuzz.shards import Shard, parse_shard, take_shard
from apitwin.contracts.reports import terminal
from tests.contracts.conftest import fuzz
from tests.contracts.faulty_gateway import faulty_gateway
from tests.e2e.conftest import API_KEY


@pytest.mark.parametrize("total", [1, 2, 3, 7])
def test_shards_are_disjoint_and_cover_everything(total):
    labels = [f"POST /op{index}" for index in range(20)]
    parts = [take_shard(labels, Shard(index, total)) for index in range(1, total + 1)]
    assert sorted(label for part in parts for label in part) == sorted(labels)
    assert sum(len(part) for part in parts) == len(labels)


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b"])
def test_bad_shard_is_refused(text):
    with pytest.raises(ValueError, match="--shard"):
        parse_shard(text)
    assert fuzz("aimlapi", "--dry-run", "--shard", text).exit_code == 2


def test_dry_run_shards_of_a_real_spec_partition_it():
    def operations(*extra: str) -> set[str]:
        output = fuzz("aimlapi", "--dry-run", "--max-examples", "1", "--phases", "examples", *extra).output
        return set(re.findall(r"│ ((?:GET|POST|PUT|DELETE|PATCH) /\S+)", output))

    everything = operations()
    shards = [operations("--shard", f"{index}/3") for index in (1, 2, 3)]
    assert len(everything) > 10
    assert set().union(*shards) == everything
    assert sum(len(shard) for shard in shards) == len(everything)


def test_unknown_operation_is_a_usage_error():
    result = fuzz("lmdeploy-proxy", "--dry-run", "--operations", "noSuchOperation")
    assert result.exit_code == 2 and "noSuchOperation" in result.output


@pytest.mark.e2e
def test_junit_html_and_exit_code_of_a_failing_run(mock_url, tmp_path):
    junit, page = tmp_path / "report.xml", tmp_path / "report.html"
    with faulty_gateway(mock_url("lmdeploy"), "drop-required", API_KEY) as (url, _):
        result = fuzz(
            "lmdeploy",
            "--base-url",
            url,
            "--operations",
            "POST /v1/chat/completions",
            "--max-examples",
            "5",
            "--junit",
            str(junit),
            "--html",
            str(page),
        )
    assert result.exit_code == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures")) == 1
    [testcase] = [case for case in suite.findall("testcase") if case.find("failure") is not None]
    [failure] = testcase.findall("failure")  # one per operation; CI tools show only the first of several
    assert "response_schema_conformance" in failure.get("message", "")
    assert "cause 1: " in (failure.text or "") and "reproduce: curl" in (failure.text or "")
    text = page.read_text()
    assert "curl -X POST" in text and "/v1/chat/completions" in text
    assert "JSON pointer" in text and "response_schema_conformance" in text
    assert API_KEY not in text and API_KEY not in junit.read_text()


@pytest.mark.e2e
def test_html_of_a_300_request_run_is_small_and_starts_with_the_summary(mock_url, tmp_path):
    page, report = tmp_path / "out" / "report.html", tmp_path / "report.json"
    page.parent.mkdir()
    with faulty_gateway(mock_url("lmdeploy"), "wrong-type", API_KEY) as (url, _):
        result = fuzz(
            "lmdeploy",
            "--base-url",
            url,
            "--max-requests",
            "300",
            "--max-examples",
            "12",
            "--phases",
            "examples,coverage,fuzzing",
            "--html",
            str(page),
            "--json",
            str(report),
        )
    assert result.exit_code == 1, result.output[-3000:]
    data = json.loads(report.read_text())
    assert data["requests_sent"] >= 280
    text = page.read_text()
    assert len(text.encode()) < 1_000_000
    counts = re.search(r"<p class='counts'>(.*?)</p>", text)
    assert counts is not None and text.index("<p class='counts'>") < text.index("<details")
    exercised = sum(1 for operation in data["operations"] if operation["answered"])
    assert f"<b>{exercised}</b> exercised" in counts.group(1)
    assert f"<b>{len(data['operations'])}</b> operations" in counts.group(1)
    assert "<details open" not in text  # causes start collapsed
    assert f"{data['duration']:.1f}s" in text and data["duration"] > 0
    cut = re.findall(r"more characters in <a href='([^']+)'>", text)
    assert cut and set(cut) == {"../report.json"}  # cut text points at the JSON report, relative to the page


@pytest.mark.e2e
def test_shard_reports_merge(mock_url, tmp_path):
    base = mock_url("lmdeploy-proxy")
    reports = []
    for index in (1, 2):
        report = tmp_path / f"shard{index}.json"
        junit = tmp_path / f"shard{index}.xml"
        result = fuzz(
            "lmdeploy-proxy",
            "--base-url",
            base,
            "--shard",
            f"{index}/2",
            "--max-examples",
            "2",
            "--json",
            str(report),
            "--junit",
            str(junit),
        )
        assert result.exit_code == 0, result.output
        reports.append((report, junit))
    merged = tmp_path / "merged.json"
    result = fuzz(
        "merge-reports",
        str(reports[0][0]),
        str(reports[1][0]),
        "--json",
        str(merged),
        "--junit",
        str(tmp_path / "merged.xml"),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(merged.read_text())
    assert len(data["operations"]) == 4 and data["shards"] == ["1/2", "2/2"]  # 9, less 5 unsafe ones
    assert len(data["unsafe"]) == 5 and all(item["reason"] for item in data["unsafe"])
    halves = [json.loads(path.read_text()) for path, _ in reports]
    assert data["requests_sent"] == sum(half["requests_sent"] for half in halves)
    from_xml = fuzz("merge-reports", str(reports[0][1]), str(reports[1][1]))
    assert from_xml.exit_code == 0 and "POST /v1/chat/completions" in from_xml.output
    missing = fuzz("merge-reports", str(reports[0][0]))
    assert missing.exit_code == 2 and "2/2 missing" in missing.output


def test_an_operation_error_is_printed_as_text_not_as_markup():
    """``[red]error[/]`` was printed literally (markup off, to keep the error's own brackets)."""
    result = OperationResult("POST /things", "make", planned=1, errors=["ConnectionError: [Errno 111] refused"])
    output = StringIO()
    terminal.print_summary(RunReport("api", "http://gw", 0, operations=[result]), Console(file=output, width=200))
    line = next(line for line in output.getvalue().splitlines() if line.startswith("error"))
    assert line == "error POST /things: ConnectionError: [Errno 111] refused"
