"""Errors in the media an operation declares for them, when that is not JSON.

An operation that documents its 400 as a ``text/html`` page (or ``text/plain``, ``application/xml``)
is answered in that media type, not in problem+json: a client, and schemathesis's content-type
check, hold the mock to what the spec says. The body is the error message where the schema allows
any text, else a value generated from the declared schema.
"""

from __future__ import annotations

import html
import http
import json

from apitwin.mockserver.errors import ErrorAnswer, structured
from apitwin.mockserver.operations import Media, Operation, seeded


def declared_media_error(operation: Operation | None, status: int, message: str) -> ErrorAnswer | None:
    """The answer for ``status`` in the operation's own non-JSON media for it (its own status, its
    range, else its ``default``), or ``None`` when it declares none (or JSON, which
    ``errors.error_answer`` shapes)."""
    if operation is None:
        return None
    response = operation.response_for(status)
    if response is None or not response.media or any(structured(media) for media in response.media.values()):
        return None
    media = next(iter(response.media.values()))
    return ErrorAnswer(status, media.media_type, _body(media, media.media_type, status, message))


def _body(media: Media, media_type: str, status: int, message: str) -> bytes:
    text = _page(status, message) if media_type.lower().startswith("text/html") else message
    if media.validator is None or media.validator.is_valid(text):
        return text.encode("utf-8", "backslashreplace")
    if media.generator is None:
        return b""
    value = media.generator.generate(seeded("error-media", status, message))
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace")
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _page(status: int, message: str) -> str:
    try:
        title = f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        title = str(status)
    return (
        f"<!doctype html>\n<html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>\n"
    )
