"""The budget is exact (a counting proxy sees no request beyond N), the rate holds, dry runs send nothing."""

from __future__ import annotations

import json
import re
import time

import pytest

from apitwin.contracts.fuzz.budget import Budget, BudgetExhausted, parse_rate
from tests.contracts.conftest import fuzz
from tests.contracts.faulty_gateway import faulty_gateway
from tests.e2e.conftest import API_KEY


def test_budget_refuses_the_request_after_the_last():
    budget = Budget(max_requests=3)
    for _ in range(3):
        budget.acquire()
    with pytest.raises(BudgetExhausted):
        budget.acquire()
    assert budget.sent == 3


def test_rate_spaces_requests():
    budget = Budget(rate=50.0)
    started = time.monotonic()
    for _ in range(11):
        budget.acquire()
    assert time.monotonic() - started >= 10 / 50.0 - 0.01


@pytest.mark.parametrize(("text", "per_second"), [("5/s", 5.0), ("120/m", 2.0), ("2.5", 2.5)])
def test_parse_rate(text, per_second):
    assert parse_rate(text) == per_second


@pytest.mark.parametrize("text", ["fast", "0/s", "5/fortnight"])
def test_bad_rate_is_a_usage_error(text, mock_url):
    result = fuzz("lmdeploy-proxy", "--base-url", mock_url("lmdeploy-proxy"), "--rate", text)
    assert result.exit_code == 2 and "rate" in result.output


@pytest.mark.e2e
@pytest.mark.parametrize("limit", [1, 7])
def test_max_requests_is_a_hard_limit_counted_at_the_wire(limit, mock_url, tmp_path):
    report = tmp_path / "run.json"
    with faulty_gateway(mock_url("openresponses"), "none", API_KEY) as (url, proxy):
        fuzz(
            "openresponses",
            "--base-url",
            url,
            "--max-requests",
            str(limit),
            "--max-examples",
            "5",
            "--json",
            str(report),
        )
    data = json.loads(report.read_text())
    assert proxy.requests == limit
    assert data["requests_sent"] == limit and data["budget_exhausted"]


@pytest.mark.e2e
def test_auth_probes_are_counted_too(mock_url, tmp_path):
    report = tmp_path / "run.json"
    with faulty_gateway(mock_url("openresponses"), "none", API_KEY) as (url, proxy):
        fuzz("openresponses", "--base-url", url, "--max-examples", "3", "--json", str(report))
    data = json.loads(report.read_text())
    planned = data["operations"][0]["planned"]
    assert proxy.requests == data["requests_sent"] == data["operations"][0]["sent"]
    assert proxy.requests > planned  # ignored_auth sent its probes, and they were counted


@pytest.mark.e2e
def test_rate_limit_holds_end_to_end(mock_url):
    started = time.monotonic()
    result = fuzz(
        "lmdeploy-proxy",
        "--base-url",
        mock_url("lmdeploy-proxy"),
        "--rate",
        "20/s",
        "--max-requests",
        "9",
        "--max-examples",
        "2",
    )
    assert "9 of 9 requests" in result.output
    assert time.monotonic() - started >= 8 / 20 - 0.01


@pytest.mark.e2e
def test_dry_run_sends_nothing(mock_url):
    with faulty_gateway(mock_url("openresponses"), "none", API_KEY) as (url, proxy):
        result = fuzz("openresponses", "--base-url", url, "--dry-run", "--max-examples", "4")
    assert result.exit_code == 0
    assert proxy.requests == 0
    planned = re.search(r"would send (\d+) requests to 1 operations", result.output)
    assert planned and int(planned.group(1)) >= 4
    assert "createResponse" in result.output
