"""Screenshots of each view of the dashboard, for the README: ``.venv/bin/python scripts/dashboard_screenshots.py``.

Starts ``apitwin serve`` on a free loopback port, sends some traffic (valid, invalid, streamed, a stored response, a
job, a short ``apitwin fuzz`` run against injected faults for the report view), then drives Debian's chromium with
playwright (no browser download) and writes ``docs/dashboard-<view>.png``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from playwright.sync_api import Page, expect, sync_playwright

DOCS = Path(__file__).resolve().parents[1] / "docs"
APITWIN = [sys.executable, "-m", "apitwin"]
HEADERS = {"Authorization": "Bearer sk-demo-key"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Write a haiku about mocks"}], "max_tokens": 60}
VIEWPORT = {"width": 1400, "height": 860}


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served() -> Iterator[str]:
    port = free_port()
    command = [*APITWIN, "serve", "aimlapi", "openai-responses", "--state", "memory", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/_apitwin/apis").status_code == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def traffic(base: str, report: Path) -> None:
    aiml, responses = f"{base}/aimlapi/v1", f"{base}/openai-responses/v1"
    httpx.post(f"{aiml}/chat/completions", json=CHAT, headers=HEADERS)
    httpx.post(f"{aiml}/chat/completions", json={**CHAT, "max_tokens": "sixty", "temperature": 7}, headers=HEADERS)
    httpx.put(f"{base}/_apitwin/settings/aimlapi", json={"ttft_ms": 250, "tokens_per_second": 200})
    httpx.post(f"{aiml}/chat/completions", json={**CHAT, "stream": True}, headers=HEADERS)  # paced: timings show
    httpx.put(f"{base}/_apitwin/settings/aimlapi", json={"ttft_ms": 0, "tokens_per_second": 0})
    httpx.get(f"{aiml}/models", headers=HEADERS)
    httpx.post(f"{responses}/responses", json={"model": "gpt-4o", "input": "hi", "store": True}, headers=HEADERS)
    video = {"model": "kling-video/v1/standard/text-to-video", "prompt": "a fox in the snow"}
    httpx.post(f"{base}/aimlapi/v2/video/generations", json=video, headers=HEADERS)
    httpx.put(f"{base}/_apitwin/settings/aimlapi", json={"faults": "500:0.3"})
    fuzz = ["fuzz", "run", "aimlapi", "--base-url", f"{base}/aimlapi", "--api-key", "sk-demo-key"]
    budget = ["--operations", "_v1_chat_completions", "--max-requests", "12", "--json", str(report)]
    subprocess.run([*APITWIN, *fuzz, *budget], check=False, capture_output=True)
    httpx.put(f"{base}/_apitwin/settings/aimlapi", json={"faults": "429:0.05", "ttft_ms": 300, "tokens_per_second": 40})


def shoot(page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    path = DOCS / f"dashboard-{name}.png"
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def views(page: Page, base: str, report: Path) -> None:
    page.goto(f"{base}/_apitwin/")
    expect(page.locator("[data-api=aimlapi] pre").first).to_contain_text("curl")
    shoot(page, "apis")
    page.click("nav button[data-view=journal]")
    page.locator('#journal-rows tr[data-sequence="2"]').click()  # the invalid chat completion sent above
    expect(page.locator("#exchange-request-body .mark").first).to_be_visible()
    shoot(page, "journal")
    page.locator('#journal-rows tr[data-sequence="3"]').click()  # the streamed one
    page.locator("#exchange-events").evaluate("events => events.scrollIntoView()")
    shoot(page, "stream")
    for view in ("coverage", "state", "settings"):
        page.click(f"nav button[data-view={view}]")
        expect(page.locator(f"#view-{view} .card").first).to_be_visible()
        shoot(page, view)
    page.click("nav button[data-view=report]")
    page.set_input_files("#report-file", str(report))
    failure = page.locator(".report-failure").first
    failure.click()
    expect(page.locator("#report-exchange h2")).to_be_visible()
    shoot(page, "report")


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is missing: `make system-packages` installs Debian's package")
    with tempfile.TemporaryDirectory() as scratch, served() as base, sync_playwright() as playwright:
        report = Path(scratch) / "fuzz.json"
        traffic(base, report)
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            views(browser.new_page(viewport=VIEWPORT), base, report)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
