"""The proxy's parts alone: header forwarding and masking, grouping by cause, HAR recordings read back."""

from __future__ import annotations

import io

import pytest

from apitwin.contracts.proxy.findings import Finding, group
from apitwin.contracts.proxy.headers import forwarded, masked_headers, masked_query, scrub, secret_values
from apitwin.contracts.proxy.journal import Journal
from apitwin.contracts.proxy.record import Chunk, Recorder, WireExchange
from apitwin.recordings.records import TrafficError, read_recordings


def test_hop_by_hop_headers_and_those_connection_names_are_not_forwarded():
    headers = [
        (b"Connection", b"keep-alive, X-Trace"),
        (b"X-Trace", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"A", b"b"),
    ]
    assert forwarded(headers, drop=frozenset({b"a"})) == []
    assert forwarded([(b"Content-Type", b"application/json"), (b"TE", b"trailers")]) == [
        (b"Content-Type", b"application/json")
    ]


def test_credentials_are_masked_and_the_auth_scheme_kept():
    headers = [("Authorization", "Bearer sk-live-1"), ("x-api-key", "k2"), ("Cookie", "s=3"), ("Accept", "*/*")]
    assert masked_headers(headers) == [
        ("Authorization", "Bearer [masked]"),
        ("x-api-key", "[masked]"),
        ("Cookie", "[masked]"),
        ("Accept", "*/*"),
    ]
    assert masked_headers([("X-Custom", "c")], extra=("x-custom",)) == [("X-Custom", "[masked]")]
    assert masked_query("api_key=abc&limit=2") == "api_key=%5Bmasked%5D&limit=2"
    assert masked_query("limit=2") == "limit=2"


def test_every_credential_value_is_scrubbed_from_text():
    secrets = secret_values([("Authorization", "Bearer sk-live-1")], "token=t0k3n")
    assert scrub("saw Bearer sk-live-1 and sk-live-1 and t0k3n", secrets) == "saw [masked] and [masked] and [masked]"


def finding(exchange: int, where: str, pointer: str, check: str = "sse_event_schema") -> Finding:
    return Finding(exchange, "POST", "/v1/chat", "POST /v1/chat", check, where, pointer, "broken")


def test_the_same_defect_in_every_event_of_every_exchange_is_one_cause():
    findings = [finding(n, f"event {e}", f"/data/choices/{e}/index") for n in (1, 2) for e in (1, 2, 3)]
    findings.append(finding(2, "response body", "/id", "response_schema_conformance"))
    causes = group(findings)
    assert [(cause.first.check, cause.count, cause.exchanges) for cause in causes] == [
        ("sse_event_schema", 6, [1, 2]),
        ("response_schema_conformance", 1, [2]),
    ]
    assert causes[0].as_dict()["pointer"] == "/data/choices/*/index"


def wire(body: bytes, chunks: list[Chunk]) -> WireExchange:
    return WireExchange(
        started=1_700_000_000.0,
        method="POST",
        url="http://gw.example/v1/chat/completions?api_key=secret-q",
        request_headers=[("Authorization", "Bearer secret-h"), ("Content-Type", "application/json")],
        request_body=b'{"model": "m"}',
        status=200,
        reason="OK",
        response_headers=[("content-type", "text/event-stream"), ("set-cookie", "id=secret-c")],
        response_body=body,
        chunks=chunks,
        wait_ms=3.0,
        total_ms=9.5,
    )


def test_a_recording_reads_back_with_its_chunks_and_without_credentials(tmp_path):
    recorder = Recorder(tmp_path, "run")
    body = b'data: {"a": 1}\n\ndata: [DONE]\n\n'
    first = recorder.write(wire(body, [Chunk(4.0, 16), Chunk(9.5, len(body) - 16)]))
    recorder.write(wire(b"\xff\x00", [Chunk(5.0, 2)]))
    assert first.name == "run-00001-post-v1-chat-completions.har"
    assert not list(tmp_path.glob("*.part"))
    text = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "secret" not in text
    exchanges = read_recordings(tmp_path)
    assert [exchange.number for exchange in exchanges] == [1, 2]
    assert exchanges[0].source.startswith("run-00001")
    response = exchanges[0].response
    assert response is not None and response.body == body
    assert response.chunks == [(4.0, 16), (9.5, len(body) - 16)]
    assert exchanges[0].request.headers["authorization"] == "Bearer [masked]"
    assert exchanges[1].response is not None and exchanges[1].response.body == b"\xff\x00"  # kept as base64


def test_a_directory_without_recordings_is_an_error_naming_it(tmp_path):
    with pytest.raises(TrafficError, match="no recordings"):
        read_recordings(tmp_path)


def test_the_journal_prints_one_line_per_finding_without_credentials_and_groups_at_the_end():
    out = io.StringIO()
    journal = Journal("lmdeploy", "http://gw", out=out, clock=iter([0.0, 2.5]).__next__)
    leaky = Finding(1, "POST", "/v1/chat", "POST /v1/chat", "request_schema_conformance", "header", "x", "bad sk-9")
    journal.found([leaky, finding(1, "event 2", "/data/x")], ["sk-9"])
    journal.found([finding(2, "event 5", "/data/x")], [])
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "sk-9" not in out.getvalue() and "[masked]" in lines[0]
    summary = journal.summary()
    assert "2 causes" in summary[0] and "×2 in 2 exchanges" in summary[2]
    assert journal.report().duration == 2.5
