"""The dashboard in a real browser: Debian's chromium, headless, driven by playwright (which downloads nothing:
it is given the system binary). ``apitwin serve`` runs as a real process; traffic comes from httpx.

Every wait is on a condition of the page (a row, a text, a status), never on a timer.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apitwin.contracts.fuzz.events import Exchange, Failure, OperationResult, RunReport
from tests.contracts.conftest import mock_url  # noqa: F401  (session fixture: one mock per API)
from tests.e2e.conftest import API_KEY, serving
from tests.e2e.proxying import proxy_in_thread

pytestmark = pytest.mark.e2e

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # never fetch a browser; chromium is Debian's

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
ADMIN_KEY = "browser-admin-key-0123"
"""The mock is keyed (--api-key), so only --admin-key's holder sees bodies: the browser signs in with it."""
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello from the browser test"}]}
WAIT_MS = 20_000
"""Upper bound of any one wait on a busy shared machine; a passing run waits far less."""
expect.set_options(timeout=WAIT_MS)


def chromium_path() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is missing: `make system-packages` installs Debian's package"
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def dashboard(browser: Browser) -> Iterator[tuple[Page, str]]:
    with serving("aimlapi", "--admin-key", ADMIN_KEY) as base:
        page = browser.new_page()
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/_apitwin/?token={ADMIN_KEY}")
        assert page.url == f"{base}/_apitwin/#apis"  # signed in: the key went into a cookie, out of the address
        expect(page.locator("#live")).to_have_text("live")  # the journal's event stream is open
        page.click("nav button[data-view=journal]")
        yield page, base
        page.close()  # before the server stops: the live stream would hold its shutdown
        assert errors == []


def test_rows_appear_live_a_row_opens_the_exchange_and_a_fault_changes_the_next_answer(
    dashboard: tuple[Page, str],
) -> None:
    page, base = dashboard
    assert httpx.post(f"{base}/v1/chat/completions", json=CHAT, headers=HEADERS).status_code == 200
    row = page.locator("#journal-rows tr[data-sequence]", has_text="/v1/chat/completions")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("200")

    row.click()
    expect(page.locator("#exchange-request-body")).to_contain_text("Say hello from the browser test")
    expect(page.locator("#exchange-response-body")).to_contain_text('"chat.completion"')
    expect(page.locator("#exchange-curl")).to_contain_text(f"{base}/v1/chat/completions")
    expect(page.locator("#exchange")).to_contain_text("Bearer [masked]")

    page.click("nav button[data-view=settings]")
    form = page.locator("form[data-api=aimlapi]")
    form.locator("input[name=faults]").fill("429:1")
    form.locator("button[type=submit]").click()
    expect(form.locator(".settings-status")).to_have_text("applied")

    refused = httpx.post(f"{base}/v1/chat/completions", json=CHAT, headers=HEADERS)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    page.click("nav button[data-view=journal]")
    expect(page.locator("#journal-rows tr[data-sequence]", has_text="429")).to_have_count(1)


def test_a_bad_request_shows_its_violation_at_its_pointer(dashboard: tuple[Page, str]) -> None:
    page, base = dashboard
    bad = {**CHAT, "max_tokens": "ten"}
    assert httpx.post(f"{base}/v1/chat/completions", json=bad, headers=HEADERS).status_code == 400
    page.locator("#journal-rows tr[data-sequence]", has_text="violations").click()
    marked = page.locator('#exchange-request-body .mark[data-pointer="/max_tokens"]')
    expect(marked).to_contain_text('"max_tokens": "ten"')
    expect(page.locator("#exchange-violations")).to_contain_text("body /max_tokens")

    assert httpx.post(f"{base}/v1/chat/completions", json=CHAT, headers=HEADERS).status_code == 200
    rows = page.locator("#journal-rows tr[data-sequence]")
    expect(rows).to_have_count(2)
    page.fill("#filter-status", "4xx")
    page.press("#filter-status", "Enter")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("400")
    page.fill("#filter-status", "4x")  # not a status: the page says which parameter, from the server's 400
    page.press("#filter-status", "Enter")
    expect(page.locator("#live")).to_contain_text("status must be an HTTP status")


def test_coverage_state_with_its_reset_and_a_report_opened_in_the_page(
    dashboard: tuple[Page, str], tmp_path: Path
) -> None:
    page, base = dashboard
    video = {"model": "kling-video/v1/standard/text-to-video", "prompt": "a fox in the snow"}
    job = httpx.post(f"{base}/v2/video/generations", json=video, headers=HEADERS)
    assert job.status_code == 200

    page.click("nav button[data-view=coverage]")
    called = page.locator("#view-coverage [data-api=aimlapi] tr.called")
    expect(called).to_have_count(1)
    expect(called).to_contain_text("/v2/video/generations")
    expect(page.locator("#view-coverage [data-api=aimlapi] h2")).to_contain_text("1 of")

    page.click("nav button[data-view=state]")
    jobs = page.locator("[data-kind=jobs]")
    expect(jobs).to_contain_text(job.json()["id"])
    jobs.get_by_role("button", name="Reset jobs").click()
    expect(page.locator("#state-message")).to_have_text("removed 1 jobs")
    expect(jobs).to_contain_text("none")

    exchange = Exchange(
        "POST", f"{base}/v1/chat/completions", {"X-Test": "1"}, '{"model": "gpt-4o"}', 500, {}, "{}", 0.2
    )
    failure = Failure(
        "POST /v1/chat/completions", "not_a_server_error", "Server error", "500 answered", "", "curl …", exchange
    )
    report = RunReport(
        "aimlapi",
        base,
        0,
        requests_sent=3,
        operations=[OperationResult("POST /v1/chat/completions", "x", failures=[failure])],
    )
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(report.to_dict()))
    page.click("nav button[data-view=report]")
    page.set_input_files("#report-file", str(path))
    expect(page.locator("#report-message")).to_contain_text("3 requests, 1 failure(s)")
    page.locator(".report-failure", has_text="not_a_server_error").click()
    expect(page.locator("#report-exchange #exchange-request-body")).to_contain_text('"model": "gpt-4o"')
    expect(page.locator("#report-exchange")).to_contain_text("500 answered")


def test_the_proxy_serves_the_page_over_its_journal(browser: Browser, mock_url) -> None:  # noqa: F811
    upstream = mock_url("lmdeploy")
    with proxy_in_thread("lmdeploy", upstream) as proxy:
        page = browser.new_page()
        page.set_default_timeout(WAIT_MS)
        try:
            page.goto(f"{proxy.url}/_apitwin/")
            expect(page.locator("#live")).to_have_text("live")
            expect(page.locator("nav button[data-view=settings]")).to_be_hidden()  # the mock's, not the proxy's
            page.click("nav button[data-view=journal]")
            chat = {"model": "internlm2", "messages": [{"role": "user", "content": "Through the proxy"}]}
            assert httpx.post(f"{proxy.url}/v1/chat/completions", json=chat, headers=HEADERS).status_code == 200
            page.locator("#journal-rows tr[data-sequence]", has_text="/v1/chat/completions").click()
            expect(page.locator("#exchange")).to_contain_text("proxy")
            expect(page.locator("#exchange-request-body")).to_contain_text("Through the proxy")
        finally:
            page.close()
