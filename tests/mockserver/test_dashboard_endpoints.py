"""The dashboard's page and the admin JSON it reads: APIs, coverage, state and its reset, live settings, the
journal as server-sent events."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.journal import Entry, Journal
from apitwin.mockserver.journal_query import Filters
from apitwin.mockserver.journal_stream import _events

AUTH = {"Authorization": "Bearer k"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def test_the_page_is_one_self_contained_file_that_fetches_nothing_elsewhere() -> None:
    answer = TestClient(create_app(["aimlapi"])).get("/_apitwin/")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "script-src 'sha256-" in policy and "style-src 'sha256-" in policy
    page = answer.text
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"(?!data:)|@import|https?://(?!127)", page)
    assert "EventSource" in page and "/journal/stream" in page


def test_apis_say_where_to_call_and_which_models_a_chat_accepts() -> None:
    info = TestClient(create_app(["aimlapi"])).get("/_apitwin/apis").json()["aimlapi"]
    assert info["sdk_base_path"] == "/v1" and info["models"] and info["chat_models"]
    assert ["POST", "/v1/chat/completions", "_v1_chat_completions"] in info["endpoints"]


def test_coverage_counts_calls_and_lists_operations_never_called() -> None:
    mock = TestClient(create_app(["aimlapi"]))
    mock.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    mock.post("/v1/chat/completions", json={**CHAT, "max_tokens": "x"}, headers=AUTH)
    view = mock.get("/_apitwin/coverage").json()["aimlapi"]
    assert view["called"] == 1 and view["total"] == len(view["operations"]) > 1
    first, second = view["operations"][:2]
    assert (first["operation"], first["calls"], first["statuses"]) == ("_v1_chat_completions", 2, {"200": 1, "400": 1})
    assert second["calls"] == 0


def test_state_lists_stored_objects_by_api_and_owner_and_resets_them() -> None:
    mock = TestClient(create_app(["openai-responses"], state="memory"))
    made = mock.post("/v1/responses", json={"model": "gpt-4o", "input": "hi", "store": True}, headers=AUTH)
    assert made.status_code == 200
    [stored] = mock.get("/_apitwin/state").json()["responses"]
    assert stored["api"] == "openai-responses" and stored["id"] == made.json()["id"] and len(stored["owner"]) == 24
    assert stored["value"]["id"] == stored["id"] and stored["summary"]["status"] == "completed"
    assert mock.delete("/_apitwin/state?kind=jobs").json() == {"jobs": 0}
    assert mock.delete("/_apitwin/state").json() == {"jobs": 0, "responses": 1, "sessions": 0}
    assert mock.get("/_apitwin/state").json()["responses"] == []
    refused = mock.delete("/_apitwin/state?kind=cats")
    assert refused.status_code == 400 and refused.json()["parameter"] == "kind"


def test_faults_and_pacing_change_live_per_api_and_bad_values_name_their_field() -> None:
    mock = TestClient(create_app(["aimlapi", "lmdeploy"], faults="500:0"))
    assert mock.get("/_apitwin/settings").json()["aimlapi"]["faults"] == "500:0"
    changed = mock.put("/_apitwin/settings/aimlapi", json={"faults": "429:1", "ttft_ms": 5})
    assert changed.status_code == 200 and changed.json()["faults"] == "429:1" and changed.json()["ttft_ms"] == 5
    refused = mock.post("/aimlapi/v1/chat/completions", json=CHAT, headers=AUTH)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert mock.get("/_apitwin/settings/lmdeploy").json()["faults"] == "500:0"  # only the API changed
    assert mock.put("/_apitwin/settings/aimlapi", json={"faults": ""}).status_code == 200
    assert mock.post("/aimlapi/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
    for body, field in [
        ({"faults": "429:2"}, "faults"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"ttft_ms": "fast"}, "ttft_ms"),
        ({"tokens_per_second": 0.01}, "tokens_per_second"),
        ({"cut_stream_after": 1.5}, "cut_stream_after"),
        ({"colour": "red"}, "colour"),
        ([], ""),
    ]:
        answer = mock.put("/_apitwin/settings/aimlapi", json=body)
        assert answer.status_code == 400 and answer.json()["field"] == field, body
    assert mock.put("/_apitwin/settings/aimlapi", content=b"{not json").status_code == 400
    assert mock.put("/_apitwin/settings/nope", json={}).status_code == 404
    assert mock.post("/_apitwin/settings/aimlapi", json={}).status_code == 405


def test_unknown_admin_paths_and_methods_are_clear_errors() -> None:
    mock = TestClient(create_app(["aimlapi"]))
    assert mock.get("/_apitwin/nothing").status_code == 404
    assert mock.post("/_apitwin/").status_code == 405
    assert mock.get("/_apitwin/journal/other").status_code == 404
    bad = mock.get("/_apitwin/journal/stream?valid=perhaps")
    assert bad.status_code == 400 and bad.json()["error"]["parameter"] == "valid"


async def collect(journal: Journal, filters: Filters, count: int) -> list[dict]:
    frames = _events(journal, filters, True)
    found: list[dict] = []
    async for frame in frames:
        text = frame.decode()
        if text.startswith("id:"):
            found.append(json.loads(text.split("data: ", 1)[1]))
            if len(found) == count:
                break
            if len(found) == 1:
                journal.append(Entry(0, "GET", "/live", "b", 200))  # arrives while the viewer listens
    await frames.aclose()
    return found


def test_the_journal_stream_sends_the_backlog_then_live_entries_matching_the_filters() -> None:
    journal = Journal()
    journal.append(Entry(0, "GET", "/old", "a", 200))
    journal.append(Entry(0, "GET", "/other", "x", 500))
    found = asyncio.run(collect(journal, Filters(status_class=2), 2))
    assert [(entry["sequence"], entry["path"]) for entry in found] == [(1, "/old"), (3, "/live")]
    assert journal._subscribers == []  # the viewer left: nothing is kept for it


@pytest.mark.parametrize("path", ["/_apitwin/requests", "/_apitwin/coverage", "/_apitwin/state", "/_apitwin/settings"])
def test_every_json_endpoint_answers_json(path: str) -> None:
    answer = TestClient(create_app(["aimlapi"])).get(path)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"


def test_a_jobs_status_is_the_one_its_latest_poll_showed() -> None:
    mock = TestClient(create_app(["aimlapi"], state="memory", job_polls=1))
    video = {"model": "kling-video/v1/standard/text-to-video", "prompt": "a fox in the snow"}
    job = mock.post("/v2/video/generations", json=video, headers=AUTH).json()
    [listed] = mock.get("/_apitwin/state").json()["jobs"]
    assert (listed["id"], listed["summary"]["status"]) == (job["id"], job["status"])
    polled = mock.get("/v2/video/generations", params={"generation_id": job["id"]}, headers=AUTH).json()
    [listed] = mock.get("/_apitwin/state").json()["jobs"]
    assert (listed["summary"]["status"], listed["summary"]["polls"]) == (polled["status"], 1)
    assert polled["status"] != job["status"]  # the job moved on


def test_a_settings_change_is_said_in_the_servers_log(caplog: pytest.LogCaptureFixture) -> None:
    mock = TestClient(create_app(["aimlapi"]))
    with caplog.at_level("WARNING", logger="apitwin.mock"):
        assert mock.put("/_apitwin/settings/aimlapi", json={"faults": "503:0.5"}).status_code == 200
    assert any("aimlapi changed" in line and "503:0.5" in line for line in caplog.messages)
