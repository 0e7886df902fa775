"""``apitwin proxy --record DIR`` as users run it: the command, the openai SDK, then ``apitwin check-traffic DIR``."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import openai
import pytest

from tests.e2e.conftest import API_KEY, serving
from tests.e2e.proxying import proxy_process

pytestmark = pytest.mark.e2e

MESSAGES = [{"role": "user", "content": "Say hello"}]


def test_record_through_the_command_then_check_traffic_reads_the_directory(tmp_path):
    recordings = tmp_path / "recordings"
    reports = {kind: tmp_path / f"proxy.{kind}" for kind in ("json", "xml", "html")}
    with (
        serving("lmdeploy") as upstream,
        proxy_process(
            "lmdeploy",
            upstream,
            "--record",
            str(recordings),
            "--json",
            str(reports["json"]),
            "--junit",
            str(reports["xml"]),
            "--html",
            str(reports["html"]),
        ) as proxy,
    ):
        client = openai.OpenAI(
            base_url=f"{proxy.url}/v1",
            api_key=API_KEY,
            max_retries=0,
            default_headers={"X-Apitwin-Pacing": "ttft=0,tps=10000"},  # each event its own write, as gateways do
        )
        client.chat.completions.create(model="internlm2", messages=MESSAGES, max_tokens=30)
        streamed = list(
            client.chat.completions.create(model="internlm2", messages=MESSAGES, max_tokens=30, stream=True)
        )
        assert streamed
        bad = httpx.post(
            f"{proxy.url}/v1/chat/completions",
            json={"model": "internlm2", "messages": MESSAGES, "max_tokens": "many"},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert bad.status_code == 422  # forwarded: the upstream refused it

    assert proxy.returncode == 1, proxy.stderr
    violation_lines = [line for line in proxy.stderr.splitlines() if line.startswith("apitwin proxy: #")]
    assert len(violation_lines) == 1 and "max_tokens" in violation_lines[0], proxy.stderr
    assert "3 exchanges, 2 OK, 1 violating" in proxy.stderr

    files = sorted(recordings.glob("*.har"))
    assert len(files) == 3
    written = [path.read_text() for path in files] + [path.read_text() for path in reports.values()]
    assert all(API_KEY not in text for text in written), "a credential reached a recording or a report"
    stream_entry = json.loads(files[1].read_text())["log"]["entries"][0]
    assert {"name": "Authorization", "value": "Bearer [masked]"} in [
        {"name": h["name"].title(), "value": h["value"]} for h in stream_entry["request"]["headers"]
    ]
    chunks = stream_entry["response"]["content"]["_chunks"]
    assert len(chunks) > 1 and [c["offset_ms"] for c in chunks] == sorted(c["offset_ms"] for c in chunks)
    assert sum(c["size"] for c in chunks) == len(stream_entry["response"]["content"]["text"].encode())

    report = json.loads(reports["json"].read_text())
    assert [cause["check"] for cause in report["proxy"]["causes"]] == ["request_schema_conformance"]
    assert "request_schema_conformance" in reports["xml"].read_text()

    checked = subprocess.run(
        [sys.executable, "-m", "apitwin", "check-traffic", "lmdeploy", str(recordings), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 1, checked.stderr
    verdicts = json.loads(checked.stdout)
    assert verdicts["summary"]["exchanges"] == 3 and verdicts["summary"]["ok"] == 2
    [failing] = [item for item in verdicts["exchanges"] if not item["ok"]]
    assert failing["violations"][0]["pointer"] == "/max_tokens"
