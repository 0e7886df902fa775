"""Error answers in the API's own shape.

The spec declares what an error body looks like (AIML's ``{message, path, requestId,
statusCode, timestamp}``, OpenAI-style ``{"error": {...}}``, FastAPI's ``{"detail": [...]}``).
The body starts from a generated value of that schema, deterministic for the request, and
then every field whose name says what it carries (a message, the path, the status, a
location list) is filled from the violation, keeping each fill only if the body still
validates. The shape comes from the spec; only the meaning of common field names is code.
Where the spec declares no error response, the answer is RFC 7807 ``application/problem+json``.
"""

from __future__ import annotations

import datetime
import http
import json
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from apitwin.mockserver.edits import keep_valid
from apitwin.mockserver.operations import CompiledApi, Media, Operation, ResponseSpec, is_json, seeded
from apitwin.mockserver.violations import Violation

PROBLEM_JSON = "application/problem+json"

MESSAGE_FIELDS = ("message", "msg", "detail", "error_description", "error_message", "title", "error")
PATH_FIELDS = ("path", "instance", "url")
STATUS_FIELDS = ("statusCode", "status_code", "status", "code")
REQUEST_ID_FIELDS = ("requestId", "request_id", "id")
TIME_FIELDS = ("timestamp", "time")
PARAM_FIELDS = ("param", "field")
LOCATION_FIELDS = ("loc",)
TYPE_FIELDS = ("type",)
FIXED_TIME = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    status: int
    media_type: str
    body: bytes


def error_answer(
    api: CompiledApi,
    response: ResponseSpec | None,
    status: int,
    message: str,
    *,
    path: str,
    violations: list[Violation] = (),  # type: ignore[assignment]
    kind: str = "invalid_request_error",
) -> ErrorAnswer:
    media = _json_media(response)
    if media is None or media.schema is None:
        return _problem(status, message, path, violations)
    rng = seeded("error", status, path, message)
    context = _Context(api, media, status, message, path, list(violations), kind, rng)
    body = context.fill(_richest_body(media, context), media.schema)
    return ErrorAnswer(status, media.media_type, json_bytes(body))


def _richest_body(media: Media, context: _Context) -> Any:
    """Of a few generated bodies, the one with the most fields that can carry the error.

    Optional fields (``message``, ``detail``) may be left out by one draw and present in another.
    Which draw wins depends only on the status and on whether violations are listed, so it is
    chosen once and kept on the media (``fill`` copies before it changes anything).
    """
    if media.generator is None:
        return {}
    key = (context.status, bool(context.violations))
    if key in media.error_templates:
        return media.error_templates[key]
    best, best_score = None, -1
    for attempt in range(8):
        body = media.generator.generate(seeded("error-shape", attempt, context.status))
        fills = context._fills(body)
        score = sum(2 if isinstance(candidates[0], list) and candidates[0] else 1 for _, candidates in fills)
        if score > best_score:
            best, best_score = body, score
    media.error_templates[key] = best
    return best


def validation_status(operation: Operation) -> int:
    """The status the spec declares for a bad request: 400 where declared, else 422, else 400."""
    for status in ("400", "422"):
        if status in operation.responses:
            return int(status)
    return 400


def declared_error(api: CompiledApi, operation: Operation | None, status: int) -> ResponseSpec | None:
    """The response whose JSON shape an error takes: the operation's own declaration for the
    status, else the API's usual one, else the shape it uses for a neighbouring client error."""
    keys = [str(status), f"{str(status)[0]}XX", "400", "422", "4XX", "default"]
    sources = [operation.responses if operation is not None else {}, api.fallback_errors]
    for key in keys:
        for responses in sources:
            response = responses.get(key)
            if response is not None and any(is_json(media_type) for media_type in response.media):
                return response
    return None


def json_bytes(body: Any) -> bytes:
    """UTF-8 JSON; a lone surrogate (which no UTF-8 text can carry) is written as its ``\\uXXXX`` escape."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _json_media(response: ResponseSpec | None) -> Media | None:
    if response is None:
        return None
    for media_type, media in response.media.items():
        if is_json(media_type):
            return media
    return None


def problem_body(status: int, message: str, path: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem object: how the mock words an error where no spec says otherwise (its own routes,
    the admin endpoints, an API that documents no error body)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "instance": path,
    }
    body.update(extra)
    return body


def problem_response(status: int, message: str, path: str, **extra: Any) -> Response:
    """:func:`problem_body` as a Starlette response."""
    body = json.dumps(problem_body(status, message, path, **extra))
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def _problem(status: int, message: str, path: str, violations: list[Violation]) -> ErrorAnswer:
    extra = {"errors": [violation.as_dict() for violation in violations]} if violations else {}
    return ErrorAnswer(status, PROBLEM_JSON, json_bytes(problem_body(status, message, path, **extra)))


@dataclass(slots=True)
class _Context:
    api: CompiledApi
    media: Media
    status: int
    message: str
    path: str
    violations: list[Violation]
    kind: str
    rng: Any

    def fill(self, body: Any, schema: Any) -> Any:
        """Set each meaningful field the body has (or may have), keeping only fills that stay valid."""
        for pointer, candidates in self._fills(body):
            body = keep_valid(self.media.validator, body, pointer, *candidates)
        return body

    def _fills(self, body: Any) -> list[tuple[tuple[Any, ...], list[Any]]]:
        fills: list[tuple[tuple[Any, ...], list[Any]]] = []
        self._collect(body, (), fills)
        return fills

    def _collect(self, node: Any, at: tuple[Any, ...], fills: list[tuple[tuple[Any, ...], list[Any]]]) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            where = (*at, key)
            candidates = self._candidates(key, value)
            if candidates:
                fills.append((where, candidates))
            elif isinstance(value, dict):
                self._collect(value, where, fills)
            elif isinstance(value, list) and key in ("detail", "errors") and self.violations:
                fills.append((where, [self._violation_items(value)]))

    def _candidates(self, key: str, value: Any) -> list[Any]:
        first = self.violations[0] if self.violations else None
        if key in MESSAGE_FIELDS and isinstance(value, str):
            return [self.message]
        if key in PATH_FIELDS and isinstance(value, str):
            return [self.path]
        if key in STATUS_FIELDS and isinstance(value, (int, str)) and not isinstance(value, bool):
            return [self.status, str(self.status)] if isinstance(value, int) else [str(self.status), self.status]
        if key in REQUEST_ID_FIELDS and isinstance(value, str):
            return [str(uuid.UUID(int=self.rng.getrandbits(128), version=4))]
        if key in TIME_FIELDS and isinstance(value, str):
            return [FIXED_TIME.isoformat().replace("+00:00", "Z")]
        if key in TIME_FIELDS and isinstance(value, int):
            return [int(FIXED_TIME.timestamp())]
        if key in PARAM_FIELDS and first is not None and (value is None or isinstance(value, str)):
            return [first.field()]
        if key in LOCATION_FIELDS and first is not None and isinstance(value, list):
            return [_location(first)]
        if key in TYPE_FIELDS and isinstance(value, str):
            return [self.kind]
        return []

    def _violation_items(self, items: list[Any]) -> list[Any]:
        """One item per violation, each shaped like the generated item (FastAPI's ``detail``)."""
        template = items[0] if items and isinstance(items[0], dict) else None
        if template is None:
            return items
        result = []
        for violation in self.violations:
            item = dict(template)
            for key in list(item):
                if key in ("msg", "message"):
                    item[key] = violation.message
                elif key == "loc":
                    item[key] = _location(violation)
                elif key == "type":
                    item[key] = violation.kind()
                elif key == "input":
                    item[key] = violation.received
            result.append(item)
        return result


def _location(violation: Violation) -> list[Any]:
    parts: list[Any] = [violation.location]
    for token in violation.pointer.strip("/").split("/"):
        if token:
            parts.append(int(token) if token.isdigit() else token.replace("~1", "/").replace("~0", "~"))
    return parts
