"""Proof that `apitwin fuzz` catches real defects: one defect at a time, through a faulty gateway."""

from __future__ import annotations

import json

import pytest

from tests.contracts.conftest import fuzz
from tests.contracts.faulty_gateway import faulty_gateway
from tests.e2e.conftest import API_KEY

CHAT = ("lmdeploy", "POST /v1/chat/completions")
RESPONSES = ("openresponses", "createResponse")

# defect → (api, operation, the checks of which one must name it)
CASES = {
    "drop-required": (*CHAT, {"response_schema_conformance"}),
    "wrong-type": (*CHAT, {"response_schema_conformance"}),
    "model-null": (*CHAT, {"response_schema_conformance", "sse_event_schema"}),
    "strip-sequence-number": (*RESPONSES, {"sse_event_schema"}),
    "reorder-events": (*RESPONSES, {"sse_event_order"}),
    "buffer-stream": (*CHAT, {"sse_buffered"}),
    "server-error": (*CHAT, {"not_a_server_error"}),
    "accept-invalid": (*CHAT, {"negative_data_rejection"}),
    "ignore-auth": (*RESPONSES, {"ignored_auth"}),
    "wrong-content-type": (*CHAT, {"content_type_conformance"}),
    "drop-choice-index": (*CHAT, {"sse_event_schema"}),
}


def run_through(
    upstream: str, defect: str, api: str, operation: str, tmp_path, *extra: str
) -> tuple[int, set[str], str]:
    report = tmp_path / f"{defect}.json"
    with faulty_gateway(upstream, defect, API_KEY) as (url, _app):
        result = fuzz(
            api,
            "--base-url",
            url,
            "--operations",
            operation,
            "--max-examples",
            "8",
            "--seed",
            "3",
            "--json",
            str(report),
            *extra,
        )
    checks = {
        check
        for operation in json.loads(report.read_text())["operations"]
        for failure in operation["failures"]
        for check in failure.get("checks") or [failure["check"]]
    }
    return result.exit_code, checks, result.output


@pytest.mark.e2e
@pytest.mark.parametrize("defect", sorted(CASES))
def test_each_defect_is_caught_by_the_right_check(defect, mock_url, tmp_path):
    api, operation, expected = CASES[defect]
    _, healthy_checks, _ = run_through(mock_url(api), "none", api, operation, tmp_path)
    assert not expected & healthy_checks, f"the healthy mock already fails {expected & healthy_checks}"
    code, checks, output = run_through(mock_url(api), defect, api, operation, tmp_path)
    assert code == 1, output
    assert expected & checks, f"{defect}: expected one of {expected}, got {checks}\n{output[-3000:]}"
    assert any(name in output for name in expected)
    causes = [
        failure
        for entry in json.loads((tmp_path / f"{defect}.json").read_text())["operations"]
        for failure in entry["failures"]
    ]
    assert len(causes) == 1, f"{defect}: one defect, {len(causes)} causes\n{output[-3000:]}"


VIDEO_JOB = ("aimlapi", "POST /v2/video/generations,GET /v2/video/generations")
STORED_RESPONSE = ("openresponses", "createResponse")
# (defect, api, operations) → the one lifecycle check that must name it
LIFECYCLE_CASES = {
    "job-never-completes": (*VIDEO_JOB, "lifecycle_completes"),
    "poll-loses-job": (*VIDEO_JOB, "lifecycle_found"),
    "stored-response-vanishes": (*STORED_RESPONSE, "lifecycle_found"),
    "cancel-loses-batch": ("aimlapi", "POST /v1/batches,POST /v1/batches/cancel/{batch_id}", "lifecycle_found"),
}
GATEWAY_DEFECT = {
    "poll-loses-job": "lose-created",
    "stored-response-vanishes": "lose-created",
    "cancel-loses-batch": "lose-created",
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(LIFECYCLE_CASES))
def test_each_lifecycle_defect_is_one_grouped_failure(case, mock_url, tmp_path):
    api, operations, expected = LIFECYCLE_CASES[case]
    lifecycle_checks = {"lifecycle_found", "lifecycle_completes", "lifecycle_same_object"}
    args = ("--max-polls", "12", "--poll-interval", "0")
    _, healthy_checks, output = run_through(mock_url(api), "none", api, operations, tmp_path, *args)
    assert not lifecycle_checks & healthy_checks, output[-3000:]
    code, _, output = run_through(mock_url(api), GATEWAY_DEFECT.get(case, case), api, operations, tmp_path, *args)
    assert code == 1, output[-3000:]
    data = json.loads((tmp_path / f"{GATEWAY_DEFECT.get(case, case)}.json").read_text())
    lifecycle = [
        failure
        for operation in data["operations"]
        for failure in operation["failures"]
        if failure["check"] in lifecycle_checks
    ]
    assert [failure["check"] for failure in lifecycle] == [expected], output[-3000:]
    assert "reproduce" in output and "lifecycle" in lifecycle[0]["message"]
