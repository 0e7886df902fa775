"""A proxied exchange in the journal: the mock's shape, credentials masked, events timed by their chunk."""

from __future__ import annotations

from apitwin.contracts.proxy.entries import Arrived, write
from apitwin.contracts.proxy.findings import Finding
from apitwin.mockserver.journal import Journal

STREAM_HEADERS = [(b"content-type", b"text/event-stream"), (b"set-cookie", b"s=1")]


def arrived(**changes: object) -> Arrived:
    base = Arrived(
        "openai",
        "POST",
        "/v1/chat/completions",
        "key=sk-1&user=u",
        1_700_000_000.0,
        [(b"Authorization", b"Bearer sk-1"), (b"X-Goog-Api-Key", b"g-2"), (b"Accept", b"*/*")],
        b'{"model":"gpt-4o"}',
        200,
        STREAM_HEADERS,
        b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n',
        [(12.5, b'data: {"a":1}\n\ndata: {"b"'), (40.0, b":2}\n\ndata: [DONE]\n\n")],
        41.0,
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_a_proxied_stream_is_an_entry_with_events_at_the_time_their_last_piece_arrived() -> None:
    journal = Journal()
    finding = Finding(1, "POST", "/v1/chat/completions", "POST /chat/completions", "sse", "event 2", "/b", "bad")
    entry = write(journal, arrived(), "createChatCompletion", [finding], ["key"])
    shown = entry.as_dict()
    assert (shown["source"], shown["operation"], shown["status"], shown["verdict"]) == (
        "proxy",
        "createChatCompletion",
        200,
        "violations",
    )
    assert [(event["at_ms"], event["data"]) for event in shown["response"]["events"]] == [
        (12.5, 'data: {"a":1}\n\n'),
        (40.0, 'data: {"b":2}\n\n'),
        (40.0, "data: [DONE]\n\n"),
    ]
    violation = shown["violations"][0]
    assert (violation["location"], violation["pointer"], violation["keyword"]) == ("event 2", "/b", "sse")
    assert shown["request"]["headers"][:2] == [["Authorization", "Bearer [masked]"], ["X-Goog-Api-Key", "[masked]"]]
    assert shown["response"]["headers"][1] == ["set-cookie", "[masked]"]
    assert shown["query"] == "key=%5Bmasked%5D&user=u" and "sk-1" not in str(shown) and "g-2" not in str(shown)
    assert journal.records() == [entry] and entry.latency_ms == 41.0


def test_a_plain_answer_has_no_events_and_its_events_past_the_limit_are_counted() -> None:
    plain = write(Journal(), arrived(response_headers=[(b"content-type", b"application/json")]), "x", [], [])
    assert plain.stream_events() is None and plain.valid
    small = write(Journal(body_limit=20), arrived(), "x", [], [])
    events = small.stream_events()
    assert events is not None and len(events[0]) == 1 and events[1] == 2
    assert small.response_body is not None and small.response_body.truncated
