"""Error answers in the API's own shape.

The spec declares what an error body looks like (``{message, path, requestId, statusCode, timestamp}``,
``{"error": {message, type, param, code}}``, FastAPI's ``{"detail": [...]}``). The body starts from a generated
value of that schema, deterministic for the request, and then every field whose name says what it carries (a
message, the path, the status, a location list) is filled from the violation, keeping each fill only if the body
still validates. The shape comes from the spec; the meaning of common field names is code, and an API's own words
come from its document (see :class:`ErrorWords`): ``x-apitwin-error-fields`` names the properties that carry what
(``status: [statusCode]``), ``x-apitwin-error-types`` the value of a ``type`` field for each kind of error.
Where the spec declares no error response, the answer is RFC 9457 ``application/problem+json``.
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
from apitwin.specs.pointer import unescape

PROBLEM_JSON = "application/problem+json"

FIELDS_EXTENSION = "x-apitwin-error-fields"
TYPES_EXTENSION = "x-apitwin-error-types"
GENERIC_FIELDS: dict[str, tuple[str, ...]] = {
    "message": ("message", "msg", "detail", "error_description", "error_message", "title", "error"),
    "path": ("path", "instance", "url"),
    "status": ("status_code", "status", "code"),
    "request-id": ("request_id", "id"),
    "time": ("timestamp", "time"),
    "param": ("param", "field"),
    "location": ("loc",),
    "type": ("type",),
}
"""What each meaning is called where an API does not say (``x-apitwin-error-fields`` adds its own names)."""

INVALID_REQUEST = "invalid_request"
NOT_FOUND = "not_found"
RATE_LIMITED = "rate_limited"
UNAUTHENTICATED = "unauthenticated"
SERVER_ERROR = "server_error"
KINDS = (INVALID_REQUEST, NOT_FOUND, UNAUTHENTICATED, RATE_LIMITED, SERVER_ERROR)
"""The kinds of error the mock answers; a ``type`` field says the kind itself unless ``x-apitwin-error-types``
gives the API's word for it."""
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
    kind: str = INVALID_REQUEST,
) -> ErrorAnswer:
    media = _json_media(response)
    if media is None or media.schema is None:
        return _problem(status, message, path, violations)
    rng = seeded("error", status, path, message)
    context = _Context(error_words(api.document), media, status, message, path, list(violations), kind, rng)
    body = context.fill(_richest_body(media, context), media.schema)
    return ErrorAnswer(status, media.media_type, media.xml.write(body) if media.xml is not None else json_bytes(body))


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
    """The response whose JSON shape an error takes.

    First what the operation itself declares for the status: its own code, its range, else its ``default``, which
    OpenAPI makes the description of every status the operation does not list (a client and schemathesis hold the
    answer to it). Only for a status the operation leaves undocumented: the API's usual declaration for it, else
    the shape it uses for a neighbouring client error."""
    code = str(status)
    own = operation.responses if operation is not None else {}
    fallback = api.fallback_errors
    candidates = [own.get(code), own.get(f"{code[0]}XX"), own.get("default")]
    candidates += [fallback.get(code), fallback.get(f"{code[0]}XX")]
    candidates += [responses.get(key) for key in ("400", "422", "4XX") for responses in (own, fallback)]
    candidates.append(fallback.get("default"))
    return next((response for response in candidates if response is not None and _carries_json(response)), None)


def _carries_json(response: ResponseSpec) -> bool:
    return any(structured(media) for media in response.media.values())


def json_bytes(body: Any) -> bytes:
    """UTF-8 JSON; a lone surrogate (which no UTF-8 text can carry) is written as its ``\\uXXXX`` escape."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _json_media(response: ResponseSpec | None) -> Media | None:
    if response is None:
        return None
    for media in response.media.values():
        if structured(media):  # the type it is answered as: a */* over an object schema is JSON
            return media
    return None


def structured(media: Media) -> bool:
    """An error in this media is a value shaped from its schema (JSON, or XML written from that value)."""
    return is_json(media.media_type) or (media.xml is not None and media.schema is not None)


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


@dataclass(frozen=True, slots=True)
class ErrorWords:
    """How one API words its errors: the property names that carry each meaning (the generic ones and those of
    ``x-apitwin-error-fields``) and the ``type`` value of each kind of error (``x-apitwin-error-types``)."""

    fields: dict[str, frozenset[str]]
    types: dict[str, str]

    def means(self, key: str, meaning: str) -> bool:
        return key in self.fields[meaning]

    def type_of(self, kind: str) -> str:
        return self.types.get(kind, kind)


_words: dict[int, tuple[dict[str, Any], ErrorWords]] = {}


def error_words(document: dict[str, Any]) -> ErrorWords:
    """The :class:`ErrorWords` of ``document``, read once per served document."""
    known = _words.get(id(document))
    if known is not None and known[0] is document:
        return known[1]
    declared = document.get(FIELDS_EXTENSION)
    declared = declared if isinstance(declared, dict) else {}
    fields = {
        meaning: frozenset(generic) | frozenset(name for name in declared.get(meaning) or () if isinstance(name, str))
        for meaning, generic in GENERIC_FIELDS.items()
    }
    types = document.get(TYPES_EXTENSION)
    words = ErrorWords(fields, {k: v for k, v in (types or {}).items() if isinstance(v, str)})
    _words[id(document)] = (document, words)
    return words


@dataclass(slots=True)
class _Context:
    words: ErrorWords
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
        means = self.words.means
        if means(key, "message") and isinstance(value, str):
            return [self.message]
        if means(key, "path") and isinstance(value, str):
            return [self.path]
        if means(key, "status") and isinstance(value, (int, str)) and not isinstance(value, bool):
            return [self.status, str(self.status)] if isinstance(value, int) else [str(self.status), self.status]
        if means(key, "request-id") and isinstance(value, str):
            return [str(uuid.UUID(int=self.rng.getrandbits(128), version=4))]
        if means(key, "time") and isinstance(value, str):
            return [FIXED_TIME.isoformat().replace("+00:00", "Z")]
        if means(key, "time") and isinstance(value, int):
            return [int(FIXED_TIME.timestamp())]
        if means(key, "param") and first is not None and (value is None or isinstance(value, str)):
            return [first.field()]
        if means(key, "location") and first is not None and isinstance(value, list):
            return [_location(first)]
        if means(key, "type") and isinstance(value, str):
            return [self.words.type_of(self.kind)]
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
            parts.append(int(token) if token.isdigit() else unescape(token))
    return parts
