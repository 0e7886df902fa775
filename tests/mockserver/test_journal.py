"""The journal: bodies and headers (credentials masked), stream events timed by the injected clock, bounds,
and the filters of GET /_apitwin/requests with their 400s."""

from __future__ import annotations

import asyncio
import json
import tracemalloc

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.journal import Body, Entry, EventSplitter, Journal, StreamTrace
from apitwin.mockserver.request_log import RequestLog
from apitwin.mockserver.violations import Violation

AUTH = {"Authorization": "Bearer sk-very-secret"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}
BAD_CHAT = {**CHAT, "max_tokens": "10"}


class Clock:
    """Time that moves only when the server sleeps: stream timings become exact."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def client(**options: object) -> TestClient:
    return TestClient(create_app(["aimlapi"], **options))


def test_an_exchange_keeps_headers_bodies_verdict_and_latency_with_credentials_masked() -> None:
    mock = client()
    headers = {**AUTH, "api-key": "k-123", "x-api-key": "k-456", "Cookie": "session=abc", "X-Trace": "t1"}
    assert mock.post("/v1/chat/completions", json=CHAT, headers=headers).status_code == 200
    mock.post("/v1/chat/completions?api_key=q-789", json=CHAT, headers=headers)  # an unknown parameter: a 400
    entry, with_query = mock.get("/_apitwin/requests").json()
    sent = dict(entry["request"]["headers"])
    assert sent["authorization"] == "Bearer [masked]"
    assert sent["api-key"] == sent["x-api-key"] == sent["cookie"] == "[masked]"
    assert sent["x-trace"] == "t1" and with_query["query"] == "api_key=%5Bmasked%5D"
    for text in ("secret", "k-123", "k-456", "abc", "q-789"):
        assert text not in str(entry) and text not in str(with_query)
    assert entry["request"]["body"]["text"] == mock.app.server.request_log.records()[0].request_body.text
    assert '"gpt-4o"' in entry["request"]["body"]["text"] and entry["request"]["body"]["truncated"] is False
    answer = entry["response"]["body"]["text"]
    assert '"chat.completion"' in answer and entry["response"]["events"] is None
    assert (entry["api"], entry["source"], entry["verdict"], entry["complete"]) == ("aimlapi", "mock", "valid", True)
    assert entry["latency_ms"] >= 0


def test_violations_carry_their_json_pointer_and_the_verdict_says_so() -> None:
    mock = client()
    assert mock.post("/v1/chat/completions", json=BAD_CHAT, headers=AUTH).status_code == 400
    [entry] = mock.get("/_apitwin/requests").json()
    assert entry["verdict"] == "violations" and entry["valid"] is False
    assert [(v["location"], v["pointer"]) for v in entry["violations"]] == [("body", "/max_tokens")]
    assert json.loads(entry["request"]["body"]["text"]) == BAD_CHAT


def test_stream_events_are_kept_one_by_one_with_their_time_from_the_injected_clock() -> None:
    clock = Clock()
    mock = client(clock=clock, sleep=clock.sleep, ttft_ms=250)
    with mock.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH) as answer:
        frames = answer.read().decode()
    [entry] = mock.get("/_apitwin/requests").json()
    events = entry["response"]["events"]
    assert len(events) >= 2 and "".join(event["data"] for event in events) == frames
    assert events[0]["at_ms"] == pytest.approx(250.0)  # the first event waited the ttft, nothing else did
    assert all(event["at_ms"] == pytest.approx(250.0) for event in events)
    assert events[-1]["data"].startswith("data: [DONE]") and entry["latency_ms"] == pytest.approx(250.0)
    assert entry["response"]["body"]["size"] == len(frames.encode())


def test_bodies_past_the_limit_are_cut_and_marked() -> None:
    mock = client(journal_body_bytes=40)
    assert mock.post("/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
    [entry] = mock.get("/_apitwin/requests").json()
    request_body = entry["request"]["body"]
    assert len(request_body["text"]) == 40 and request_body["truncated"] is True and request_body["size"] > 40
    assert entry["response"]["body"]["truncated"] is True


def test_the_journal_is_bounded_in_entries_and_in_bytes() -> None:
    by_count = Journal(limit=3)
    for number in range(5):
        by_count.append(Entry(0, "GET", f"/{number}", "", 200))
    assert [entry.path for entry in by_count.records()] == ["/2", "/3", "/4"]
    by_bytes = Journal(max_bytes=10_000)
    for _ in range(50):
        by_bytes.append(Entry(0, "POST", "/", "", 200, request_body=Body("x" * 1000, 1000)))
    assert by_bytes.bytes <= 10_000 and 5 <= len(by_bytes) < 10
    assert by_bytes.records()[-1].sequence == 50  # the newest stay, numbered on
    by_bytes.clear()
    assert len(by_bytes) == 0 and by_bytes.bytes == 0


def answered(journal: Journal, path: str, body: bytes = b"{}", *, query: bytes = b"") -> None:
    journal.append_answered(
        "POST",
        path,
        "op",
        200,
        (),
        api="a",
        started=1.0,
        query=query,
        request_headers=((b"authorization", b"Bearer sk-secret"), (b"x-trace", b"t1")),
        request_body=body,
        response_headers=((b"content-type", b"application/json"),),
        response_body=b'{"ok": true}',
        latency_ms=2.5,
    )


def test_an_exchange_kept_as_its_parts_reads_as_the_entry_it_stands_for() -> None:
    journal = Journal(body_limit=4)
    answered(journal, "/first", b'{"a": 1}', query=b"api_key=k&x=1")
    [entry] = journal.records()
    assert (entry.sequence, entry.method, entry.path, entry.operation, entry.status) == (1, "POST", "/first", "op", 200)
    assert (entry.api, entry.started, entry.latency_ms, entry.violations) == ("a", 1.0, 2.5, [])
    assert entry.query == "api_key=%5Bmasked%5D&x=1"
    assert list(entry.request_headers) == [("authorization", "Bearer [masked]"), ("x-trace", "t1")]
    assert entry.request_body is not None and entry.response_body is not None
    assert (entry.request_body.text, entry.request_body.size, entry.request_body.truncated) == ('{"a"', 8, True)
    assert (entry.response_body.text, entry.response_body.truncated) == ('{"ok', True)
    assert journal.records()[0] is entry  # made once


def test_exchanges_kept_as_parts_count_against_the_bounds_as_entries_do() -> None:
    by_count = Journal(limit=3)
    for number in range(5):
        answered(by_count, f"/{number}")
        if number == 2:
            by_count.append(Entry(0, "GET", "/entry", "", 200))  # an entry (a stream's) among them
    kept = by_count.records()
    assert [(entry.path, entry.sequence) for entry in kept] == [("/entry", 4), ("/3", 5), ("/4", 6)]
    by_bytes = Journal(max_bytes=10_000)
    for _ in range(50):
        answered(by_bytes, "/", b"x" * 1000)
    held = by_bytes.bytes
    assert held <= 10_000 and 5 <= len(by_bytes) < 10
    assert by_bytes.records()[-1].sequence == 50
    assert by_bytes.bytes == held  # reading them does not change what they count
    answered(by_bytes, "/", b"x" * 1000)  # and a read journal goes on dropping the oldest
    assert by_bytes.bytes <= 10_000 and by_bytes.records()[-1].sequence == 51
    by_bytes.clear()
    assert len(by_bytes) == 0 and by_bytes.bytes == 0 and by_bytes.records() == []


def test_an_exchange_kept_as_its_parts_holds_no_more_of_a_body_than_the_body_limit() -> None:
    """The byte bound counts a body up to the limit, so no more may be held: 200 answers of 1 MB each under a
    1 KB body limit keep well under 1 MB between them (keeping the whole bodies would hold 200 MB)."""
    journal = Journal(body_limit=1024)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(200):
            answered(journal, f"/{number}", bytes([number]) * 1_000_000)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 1_000_000
    entry = journal.records()[-1]
    assert entry.request_body is not None
    assert (len(entry.request_body.text), entry.request_body.size, entry.request_body.truncated) == (
        1024,
        1_000_000,
        True,
    )


def test_a_live_viewer_is_shown_an_exchange_kept_as_its_parts_at_once() -> None:
    journal = Journal()

    async def viewer() -> str:
        subscription = journal.subscribe()
        answered(journal, "/seen")
        entry = subscription.queue.get_nowait()
        journal.unsubscribe(subscription)
        return entry.path

    assert asyncio.run(viewer()) == "/seen"


def test_a_log_without_the_admin_key_hides_bodies_and_values() -> None:
    mock = client(api_key="sk-very-secret", admin_key="root")
    mock.post("/v1/chat/completions", json=BAD_CHAT, headers=AUTH)
    [hidden] = mock.get("/_apitwin/requests", headers=AUTH).json()
    assert "body" not in hidden["request"] and "events" not in hidden["response"] and "query" not in hidden
    assert hidden["hidden"].startswith("hidden") and hidden["violations"][0]["received"] == "<string>"
    assert {value for _, value in hidden["request"]["headers"]} == {"[hidden]"}
    [shown] = mock.get("/_apitwin/requests", headers={"Authorization": "Bearer root"}).json()
    assert '"10"' in shown["request"]["body"]["text"]


def seed_traffic(mock: TestClient) -> None:
    mock.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    mock.post("/v1/chat/completions", json=BAD_CHAT, headers=AUTH)
    mock.get("/v1/models", headers=AUTH)
    mock.get("/nowhere", headers=AUTH)


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("", ["/v1/chat/completions", "/v1/chat/completions", "/v1/models", "/nowhere"]),
        ("operation=_v1_chat_completions", ["/v1/chat/completions", "/v1/chat/completions"]),
        ("operation=", ["/nowhere"]),
        ("status=200", ["/v1/chat/completions", "/v1/models"]),
        ("status=4xx", ["/v1/chat/completions", "/nowhere"]),
        ("valid=false", ["/v1/chat/completions", "/nowhere"]),
        ("valid=true&status=2xx", ["/v1/chat/completions", "/v1/models"]),
        ("since=2", ["/v1/models", "/nowhere"]),
        ("limit=1", ["/nowhere"]),
        ("api=aimlapi&since=3", ["/nowhere"]),
    ],
)
def test_filters_select_entries(query: str, paths: list[str]) -> None:
    mock = client()
    seed_traffic(mock)
    assert [entry["path"] for entry in mock.get(f"/_apitwin/requests?{query}").json()] == paths


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=abc", "status"),
        ("status=700", "status"),
        ("valid=maybe", "valid"),
        ("since=-1", "since"),
        ("since=2026-01-01", "since"),
        ("limit=x", "limit"),
        ("colour=red", "colour"),
        ("status=200&status=201", "status"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(query: str, parameter: str) -> None:
    answer = client().get(f"/_apitwin/requests?{query}")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["parameter"] == parameter and parameter in error["message"]


def test_a_request_log_is_a_journal_and_its_records_keep_their_old_fields() -> None:
    log = RequestLog()
    entry = log.append(Entry(0, "POST", "/x", "op", 400, [Violation("op", "body", "/a", "string", "1", "m")]))
    assert (entry.sequence, entry.valid, log.violations()[0].pointer) == (1, False, "/a")


def test_events_cut_anywhere_are_kept_whole_at_the_time_their_last_piece_came() -> None:
    stream = 'data: {"a":"é"}\r\n\r\ndata: {"b":2}\n\ndata: [DONE]\n\ndata: partial'.encode()
    cut = stream.index("é".encode()) + 1  # inside the two bytes of é, and inside the first event
    second = stream.index(b"2}")  # inside the second event
    splitter = EventSplitter(limit=1000)
    splitter.feed(stream[:cut], 1.0)
    splitter.feed(stream[cut:second], 2.0)
    splitter.feed(stream[second:], 3.0)
    splitter.finish(4.0)
    assert [(event.at_ms, event.data) for event in splitter.events] == [
        (2.0, 'data: {"a":"é"}\n\n'),
        (3.0, 'data: {"b":2}\n\n'),
        (3.0, "data: [DONE]\n\n"),
        (4.0, "data: partial\n\n"),  # a stream cut mid-event: what came is kept
    ]
    small = EventSplitter(limit=20)
    small.feed(stream, 1.0)
    assert len(small.events) == 1 and small.dropped == 2


@pytest.mark.parametrize("limit", [1000, 20])
def test_a_stream_noted_at_once_is_the_stream_noted_piece_by_piece(limit: int) -> None:
    pieces = [(1.0, b'data: {"a":1}\n\ndata: {"b"'), (2.5, b":2}\n\n"), (4.0, b"data: [DONE]\n\n")]
    one_by_one, at_once = StreamTrace(limit, events=True), StreamTrace(limit, events=True)
    for at_ms, data in pieces:
        one_by_one.add(data, at_ms)
    at_once.add_all(pieces)
    for trace in (one_by_one, at_once):
        trace.ended_ms = 5.0
    assert at_once.split() == one_by_one.split() and at_once.body().as_dict() == one_by_one.body().as_dict()
    assert (at_once.marks, at_once.total) == (one_by_one.marks, one_by_one.total)


def test_a_live_viewer_gets_entries_appended_from_another_thread() -> None:
    journal = Journal()

    async def viewer() -> str:
        subscription = journal.subscribe()
        await asyncio.get_running_loop().run_in_executor(None, journal.append, Entry(0, "GET", "/x", "", 200))
        entry = await asyncio.wait_for(subscription.queue.get(), timeout=30)
        journal.unsubscribe(subscription)
        return entry.path

    assert asyncio.run(viewer()) == "/x"
