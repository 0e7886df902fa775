"""Shrinking: a failing request is cut down to the smallest body that still shows the same cause."""

from __future__ import annotations

import json

import pytest

from apitwin.contracts.fuzz.shrink import candidates, fields, shrink
from tests.contracts.conftest import fuzz
from tests.contracts.faulty_gateway import faulty_gateway
from tests.e2e.conftest import API_KEY


def test_shrink_keeps_only_what_the_failure_needs() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there"}] * 3, "temperature": 1.7}
    sent: list[dict] = []

    def still_fails(candidate: dict) -> bool:  # the "gateway" breaks whenever a temperature above 1 is sent
        sent.append(candidate)
        return candidate.get("temperature", 0) > 1

    smallest, tried = shrink(body, still_fails, attempts=50)
    assert smallest == {"temperature": 1.7}
    assert tried == len(sent) <= 50


def test_shrink_stops_at_its_attempts_and_never_grows() -> None:
    body = {f"field{index}": "x" * index for index in range(20)}
    calls: list[dict] = []
    smallest, tried = shrink(body, lambda candidate: calls.append(candidate) or True, attempts=5)
    assert tried == len(calls) == 5
    assert [len(candidate) for candidate in calls] == [10, 5, 2, 1, 0]  # halves first: delta debugging
    assert smallest == calls[-1]
    assert all(fields(candidate) <= fields(body) for candidate in candidates(body))


def test_candidates_drop_largest_first_then_simplify_nested_values() -> None:
    body = {"a": "x", "b": {"c": "long text", "d": [1, 2, 3]}}
    found = list(candidates(body))
    assert found[0] == {"a": "x"}  # the biggest field goes first
    assert {"a": "x", "b": {"d": [1, 2, 3]}} in found  # nested: a field dropped
    assert {"a": "x", "b": {"c": "long text", "d": [1]}} in found  # nested: a list cut to its first item


@pytest.mark.e2e
def test_a_fuzz_failure_is_reported_with_its_shrunk_request(mock_url, tmp_path):
    report = tmp_path / "report.json"
    with faulty_gateway(mock_url("lmdeploy"), "wrong-type", API_KEY) as (url, _):
        result = fuzz(
            "lmdeploy", "--base-url", url, "--operations", "POST /v1/chat/completions", "--max-examples", "4",
            "--seed", "5", "--shrink-requests", "40", "--json", str(report),
        )  # fmt: skip
    assert result.exit_code == 1, result.output[-3000:]
    operations = json.loads(report.read_text())["operations"]
    [failure] = [failure for operation in operations for failure in operation["failures"]]
    assert failure["shrunk"], result.output[-3000:]
    assert "shrunk: " in result.output
    body = json.loads(failure["exchange"]["request_body"])
    print(failure["shrunk"], failure["cause"], failure["exchange"]["request_body"][:3000])
    assert set(body) == {"model", "messages"}  # lmdeploy's required fields: nothing else is needed to see the fault
    assert len(body["messages"]) == 1
    assert "--data-binary" in failure["curl"] and '"messages"' in failure["curl"]
