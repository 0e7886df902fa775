"""``apitwin proxy`` between the openai SDK and a real upstream (``apitwin serve``, healthy or faulty), on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.contracts.conftest import mock_url  # noqa: F401  (session fixture: one mock per API)
from tests.contracts.faulty_gateway import faulty_gateway
from tests.e2e.conftest import API_KEY, free_port
from tests.e2e.proxying import proxy_in_thread

pytestmark = pytest.mark.e2e

CHAT = {"model": "internlm2", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 40}
STREAM = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
RESPONSES = {"model": "gpt-4o", "input": "Say hello", "stream": True}
STREAMING = {"X-Apitwin-Pacing": "ttft=0,tps=10000"}
"""Unpaced, the mock sends a stream in 16 KB writes (a chat stream in one), which the proxy rightly calls buffered;
paced, however fast, it sends each event as it is ready, as a healthy streaming gateway does."""
HEADERS = {"Authorization": f"Bearer {API_KEY}", **STREAMING}


def same_answer(direct: httpx.Response, proxied: httpx.Response) -> None:
    assert proxied.status_code == direct.status_code
    assert proxied.content == direct.content
    strip = {"date"}
    assert [(k, v) for k, v in proxied.headers.multi_items() if k not in strip] == [
        (k, v) for k, v in direct.headers.multi_items() if k not in strip
    ]


def test_the_client_gets_exactly_the_upstreams_bytes_and_a_healthy_upstream_has_no_findings(mock_url):  # noqa: F811
    upstream = mock_url("lmdeploy")
    with proxy_in_thread("lmdeploy", upstream) as proxy:
        for body in (CHAT, STREAM):
            direct = httpx.post(f"{upstream}/v1/chat/completions", json=body, headers=HEADERS)
            proxied = httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=HEADERS)
            same_answer(direct, proxied)
        listed = httpx.get(f"{proxy.url}/v1/models", headers=HEADERS)
        same_answer(httpx.get(f"{upstream}/v1/models", headers=HEADERS), listed)
        assert proxy.settled(3).findings == []


def test_the_openai_sdk_chats_and_streams_through_the_proxy(mock_url):  # noqa: F811
    upstream = mock_url("lmdeploy")
    with proxy_in_thread("lmdeploy", upstream) as proxy:
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=API_KEY, max_retries=0, default_headers=STREAMING)
        answer = client.chat.completions.create(model="internlm2", messages=CHAT["messages"], max_tokens=40)
        assert answer.choices[0].message.content
        chunks = list(
            client.chat.completions.create(
                model="internlm2",
                messages=CHAT["messages"],
                max_tokens=40,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert any(chunk.usage is not None for chunk in chunks)
        assert proxy.settled(2).findings == [], proxy.out.getvalue()


def test_a_responses_stream_passes_event_by_event_in_order(mock_url):  # noqa: F811
    upstream = mock_url("openresponses")
    with proxy_in_thread("openresponses", upstream) as proxy:
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=API_KEY, max_retries=0, default_headers=STREAMING)
        events = list(client.responses.create(model="gpt-4o", input="Say hello", stream=True))
        assert events[0].type == "response.created" and events[-1].type == "response.completed"
        numbers = [event.sequence_number for event in events]
        assert numbers == sorted(numbers)
        assert proxy.settled(1).findings == [], proxy.out.getvalue()


# defect → (api, path, request body, the check that must name it)
DEFECTS = {
    "drop-required": ("lmdeploy", "/v1/chat/completions", CHAT, "response_schema_conformance"),
    "wrong-type": ("lmdeploy", "/v1/chat/completions", CHAT, "response_schema_conformance"),
    "model-null": ("lmdeploy", "/v1/chat/completions", STREAM, "sse_event_schema"),
    "drop-choice-index": ("lmdeploy", "/v1/chat/completions", STREAM, "sse_event_schema"),
    "drop-stream-usage": ("lmdeploy", "/v1/chat/completions", STREAM, "sse_usage"),
    "buffer-stream": ("lmdeploy", "/v1/chat/completions", STREAM, "sse_buffered"),
    "wrong-content-type": ("lmdeploy", "/v1/chat/completions", CHAT, "content_type_conformance"),
    "server-error": ("lmdeploy", "/v1/chat/completions", CHAT, "status_code_conformance"),
    "strip-sequence-number": ("openresponses", "/v1/responses", RESPONSES, "sse_event_schema"),
    "reorder-events": ("openresponses", "/v1/responses", RESPONSES, "sse_event_order"),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_of_a_faulty_upstream_is_reported_once(defect, mock_url):  # noqa: F811
    api, path, body, check = DEFECTS[defect]
    with faulty_gateway(mock_url(api), defect, API_KEY) as (gateway, _), proxy_in_thread(api, gateway) as proxy:
        for _ in range(3):
            direct = httpx.post(gateway + path, json=body, headers=HEADERS)
            proxied = httpx.post(proxy.url + path, json=body, headers=HEADERS)
            assert proxied.content == direct.content or defect == "reorder-events"  # reordering is not stable
        causes = proxy.settled(3).causes
        named = [cause for cause in causes if cause.first.check == check]
        assert named, proxy.out.getvalue()
        assert any(cause.exchanges == [1, 2, 3] for cause in named), proxy.out.getvalue()
        assert len(named) <= 3, [cause.as_dict() for cause in named]
        lines = proxy.out.getvalue().splitlines()
        assert len(lines) == len(proxy.journal.findings), "one line per violation as it happens"
        assert API_KEY not in proxy.out.getvalue()


def test_reject_invalid_answers_in_the_apis_shape_without_calling_the_upstream(mock_url):  # noqa: F811
    with faulty_gateway(mock_url("lmdeploy"), "none", API_KEY) as (gateway, app):
        with proxy_in_thread("lmdeploy", gateway, reject_invalid=True) as proxy:
            bad = {**CHAT, "max_tokens": "many"}
            answer = httpx.post(f"{proxy.url}/v1/chat/completions", json=bad, headers=HEADERS)
            assert answer.status_code == 422
            detail = answer.json()["detail"]
            assert any("max_tokens" in str(item) for item in detail), detail
            good = httpx.post(f"{proxy.url}/v1/chat/completions", json=CHAT, headers=HEADERS)
            assert good.status_code == 200
            unknown = httpx.post(f"{proxy.url}/v1/nowhere", json=CHAT, headers=HEADERS)
            assert unknown.status_code == 404
        assert app.calls == {"POST /v1/chat/completions": 1}
        assert [finding.check for finding in proxy.settled(3).findings] == [
            "request_schema_conformance",
            "undocumented_operation",
        ]


def test_a_paced_stream_reaches_the_client_read_by_read_not_buffered(mock_url):  # noqa: F811
    upstream = mock_url("lmdeploy")
    paced = {**HEADERS, "X-Apitwin-Pacing": "ttft=0,tps=100"}
    with proxy_in_thread("lmdeploy", upstream) as proxy:
        with httpx.stream("POST", f"{proxy.url}/v1/chat/completions", json=STREAM, headers=paced) as answer:
            reads = list(answer.iter_raw())
        assert len(reads) > 3, "the proxy passed the stream on in one piece"
        assert proxy.settled(1).findings == [], proxy.out.getvalue()


def test_an_upstream_that_does_not_answer_is_a_502_and_an_error_in_the_journal():
    absent = f"http://127.0.0.1:{free_port()}"
    with proxy_in_thread("lmdeploy", absent) as proxy:
        answer = httpx.post(f"{proxy.url}/v1/chat/completions", json=CHAT, headers=HEADERS)
        assert answer.status_code == 502 and absent in answer.text
        journal = proxy.settled(1)
    assert len(journal.errors) == 1 and "did not answer" in journal.errors[0]
    assert API_KEY not in answer.text


def test_a_client_that_expects_100_continue_gets_the_upstreams_answer(mock_url):  # noqa: F811
    upstream = mock_url("lmdeploy")
    with proxy_in_thread("lmdeploy", upstream) as proxy:
        expecting = {**HEADERS, "Expect": "100-continue"}  # curl sends it for bodies over 1 KB
        proxied = httpx.post(f"{proxy.url}/v1/chat/completions", json=CHAT, headers=expecting)
        same_answer(httpx.post(f"{upstream}/v1/chat/completions", json=CHAT, headers=HEADERS), proxied)
        assert proxy.settled(1).findings == []


@contextlib.contextmanager
def upstream_that_breaks_off(answer: bytes) -> Iterator[str]:
    """An upstream on loopback that reads one request, writes ``answer`` (a head and part of its body) and hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(body) < length:
                    body += connection.recv(65536)
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        thread.join(timeout=5)


CUT_SHORT = {
    "content-length": b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{"id": "chat',
    "chunked": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    b'b\r\n{"id": "cha\r\n',
}


@pytest.mark.parametrize("framing", sorted(CUT_SHORT))
def test_an_answer_the_upstream_breaks_off_reaches_the_client_broken_and_is_journaled(framing):
    with upstream_that_breaks_off(CUT_SHORT[framing]) as upstream, proxy_in_thread("lmdeploy", upstream) as proxy:
        with httpx.Client() as client, pytest.raises(httpx.RemoteProtocolError):
            client.post(f"{proxy.url}/v1/chat/completions", json=CHAT, headers=HEADERS)  # never a whole answer
        journal = proxy.settled(1)
    assert len(journal.errors) == 1 and "broke off the answer" in journal.errors[0]
    assert API_KEY not in proxy.out.getvalue()
