"""Recorded request bodies are read as the mock reads live ones: multipart by python-multipart (a body
it refuses is a violation, not silently read), and a body declared ``*/*`` as the media type it was sent in."""

from __future__ import annotations

from typing import Any

import pytest

from apitwin.contracts.traffic.check import TrafficChecker
from apitwin.mockserver.operations import compile_api
from apitwin.recordings.records import RecordedExchange, RecordedRequest, RecordedResponse

FIELDS = {"type": "object", "required": ["purpose"], "properties": {"purpose": {"type": "string", "enum": ["a", "b"]}}}


def checker(media_type: str) -> TrafficChecker:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/files": {
                "post": {
                    "operationId": "upload",
                    "requestBody": {"required": True, "content": {media_type: {"schema": FIELDS}}},
                    "responses": {"204": {"description": "kept"}},
                }
            }
        },
    }
    return TrafficChecker(compile_api("api", document))


def violations(check: TrafficChecker, body: bytes, content_type: str) -> list[Any]:
    request = RecordedRequest("POST", "http://gw/files", {"content-type": content_type}, body)
    return check.check(RecordedExchange(1, "entry 1", request, RecordedResponse(204, {}, b""))).violations


MULTIPART = "multipart/form-data; boundary=xx"


def part(name: str, value: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--xx\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n".encode()


def test_a_well_formed_multipart_body_is_judged_by_its_fields():
    check = checker("multipart/form-data")
    assert violations(check, part("purpose", "a") + part("file", "DATA", "x.bin") + b"--xx--\r\n", MULTIPART) == []
    [wrong] = violations(check, part("purpose", "c") + b"--xx--\r\n", MULTIPART)
    assert wrong.keyword == "enum" and wrong.pointer == "/purpose"


@pytest.mark.parametrize(
    "body",
    [b"not multipart at all", b'--yy\r\nContent-Disposition: form-data; name="purpose"\r\n\r\na\r\n--yy--\r\n'],
)
def test_a_malformed_multipart_body_is_a_violation(body):
    """The email parser read these as a body with no fields; the mock's parser refuses them."""
    [violation] = violations(checker("multipart/form-data"), body, MULTIPART)
    assert violation.message.startswith("malformed multipart body")


def test_a_body_declared_as_any_media_is_read_as_the_json_it_was_sent_as():
    check = checker("*/*")
    assert violations(check, b'{"purpose": "a"}', "application/json") == []
    found = violations(check, b'{"purpose": 1}', "application/json")
    assert found and {violation.pointer for violation in found} == {"/purpose"}


def test_an_xml_body_is_judged_by_what_it_says():
    check = checker("application/xml")
    assert violations(check, b"<root><purpose>a</purpose></root>", "application/xml") == []
    [wrong] = violations(check, b"<root><purpose>c</purpose></root>", "application/xml")
    assert wrong.keyword == "enum" and wrong.pointer == "/purpose"
    [malformed] = violations(check, b"<root><purpose>a</purpose>", "application/xml")
    assert malformed.message.startswith("malformed XML body")
