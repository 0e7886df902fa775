"""Judging recorded exchanges against a spec: route, request, status, content type, body, each event.

Request checks reuse the mock server's compiled validators, so a recording is judged exactly
as the mock would judge the same request; responses are held to the schemas the spec declares, and
a ``text/event-stream`` answer to the same stream checks ``apitwin fuzz`` runs (:mod:`apitwin.contracts.sse`):
each event's payload, the terminator, the event order and ``sequence_number``, deltas, ``include_usage``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import jsonschema
import python_multipart

from apitwin.contracts import fast_json
from apitwin.contracts.sse import Problem, Stream, StreamSpecs, parse_events, run_stream_checks
from apitwin.mockserver.operations import CompiledApi, Media, Operation, RequestBody, is_json, sent_media_type
from apitwin.mockserver.recorded_urls import strip_base, url_path, url_query
from apitwin.mockserver.validation import form_fields, validate_body, validate_parameters
from apitwin.mockserver.violations import Violation, describe
from apitwin.mockserver.xml_body import XmlBodyError, is_xml
from apitwin.recordings.records import RecordedExchange, RecordedRequest, RecordedResponse
from apitwin.specs.pointer import join

MAX_VIOLATIONS = 10
"""Per body or event: enough to act on, few enough to read."""
JSON_LINES = ("application/jsonl", "application/x-ndjson", "application/json-seq")


@dataclass(slots=True)
class Verdict:
    """What one recorded exchange did right and wrong."""

    exchange: RecordedExchange
    method: str
    path: str
    """The path as the spec sees it (base path stripped)."""
    operation: str | None
    status: int | None
    violations: list[Violation] = field(default_factory=list)
    expected: list[Violation] = field(default_factory=list)
    """Request violations of a request the recorder made invalid on purpose: reported, not failed."""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.exchange.number,
            "source": self.exchange.source,
            "method": self.method,
            "url": self.exchange.request.url,
            "path": self.path,
            "operation": self.operation,
            "status": self.status,
            "ok": self.ok,
            "violations": [violation.as_dict() for violation in self.violations],
            "intentionally_invalid_request": [violation.as_dict() for violation in self.expected],
            "notes": self.notes,
        }


class TrafficChecker:
    """Checks exchanges against one compiled API whose paths start at ``base_path`` in the URLs."""

    def __init__(self, api: CompiledApi, base_path: str = "") -> None:
        self.api = api
        self.base_path = base_path
        self.streams = StreamSpecs(api.document)

    def check(self, exchange: RecordedExchange) -> Verdict:
        request = exchange.request
        full_path = url_path(request.url)
        path = strip_base(full_path, self.base_path)
        verdict = Verdict(
            exchange,
            request.method,
            path or full_path,
            None,
            exchange.response.status if exchange.response else None,
            notes=list(exchange.notes),
        )
        operation = self._route(verdict, path, url_query(request.url), request.headers)
        if operation is None:
            return verdict
        verdict.operation = operation.operation_id
        request_violations = self._check_request(operation, request, path or full_path)
        if exchange.intentionally_invalid:
            verdict.expected = request_violations
        else:
            verdict.violations += request_violations
        if exchange.response is not None:
            verdict.violations += self.check_response(operation, request, exchange.response, verdict.notes)
        return verdict

    def _route(self, verdict: Verdict, path: str | None, query: str, headers: dict[str, str]) -> Operation | None:
        label = f"{verdict.method} {verdict.path}"
        if path is None:
            verdict.violations.append(
                Violation(
                    "",
                    "route",
                    verdict.path,
                    f"a path under {self.base_path}",
                    verdict.path,
                    f"undocumented operation: {label} is outside the base path {self.base_path}",
                )
            )
            return None
        match = self.api.router.match(path, verdict.method, query, headers)
        if not match.found_path:
            verdict.violations.append(
                Violation(
                    "",
                    "route",
                    path,
                    "a path the spec declares",
                    path,
                    f"undocumented operation: the spec has no path matching {path}",
                )
            )
            return None
        if match.target is None:
            assert match.route is not None
            allowed = ", ".join(self.api.router.allowed(match.route))
            verdict.violations.append(
                Violation(
                    "",
                    "route",
                    path,
                    allowed,
                    verdict.method,
                    f"undocumented operation: {verdict.method} is not declared on {match.route.template} (declared: "
                    f"{allowed})",
                )
            )
            return None
        verdict.path = path
        return match.target

    # -- request ---------------------------------------------------------------------------

    def _check_request(self, operation: Operation, request: RecordedRequest, path: str) -> list[Violation]:
        raw_query = url_query(request.url)
        match = self.api.router.match(path, request.method, raw_query, request.headers)
        query = parse_qs(raw_query, keep_blank_values=True) if raw_query else {}
        violations = validate_parameters(operation, path=match.path_parameters, query=query, headers=request.headers)
        return violations + _check_request_body(operation, request)

    # -- response --------------------------------------------------------------------------

    def check_response(
        self, operation: Operation, request: RecordedRequest, response: RecordedResponse, notes: list[str]
    ) -> list[Violation]:
        """Status, content type and body of ``response`` to a request already routed to ``operation`` (what a
        reader that judged the request before the answer came, the proxy, asks about the answer alone)."""
        declared = operation.response_for(response.status)
        if declared is None:
            statuses = ", ".join(operation.responses)
            return [
                Violation(
                    operation.operation_id,
                    "status",
                    "",
                    f"one of {statuses}",
                    str(response.status),
                    f"status {response.status} is not declared (declared: {statuses})",
                )
            ]
        body = response.body
        if request.method == "HEAD" or response.status in (204, 304):
            return []
        if body is None:
            notes.append("the response body was not recorded; not checked")
            return []
        if not declared.media:
            if body.strip():
                return [
                    Violation(
                        operation.operation_id,
                        "response body",
                        "",
                        "no body",
                        describe(body.decode("utf-8", "replace")),
                        f"status {response.status} declares no content, yet a body of {len(body)} bytes came back",
                    )
                ]
            return []
        content_type = response.headers.get("content-type")
        media = _declared_media(declared.media, content_type)
        if media is None:
            if not body and content_type is None:
                return [
                    Violation(
                        operation.operation_id,
                        "response body",
                        "",
                        f"one of {', '.join(declared.media)}",
                        "an empty body",
                        f"status {response.status} declares content ({', '.join(declared.media)}) but the body is "
                        f"empty",
                    )
                ]
            accepted = ", ".join(declared.media)
            return [
                Violation(
                    operation.operation_id,
                    "content-type",
                    "",
                    accepted,
                    content_type or "nothing",
                    f"content type {content_type or '(none)'} is not declared for status {response.status} (declared: "
                    f"{accepted})",
                )
            ]
        if response.truncated:
            notes.append("the recorder truncated the response body; body not checked")
            return []
        if media.media_type.split(";")[0].strip().lower() == "text/event-stream":
            return self._check_stream(operation, media, request, response.status, body)
        return _check_body(operation, media, body)

    def _check_stream(
        self, operation: Operation, media: Media, request: RecordedRequest, status: int, body: bytes
    ) -> list[Violation]:
        """The stream checks every apitwin reader shares; a stream outside apitwin's convention, frame by frame."""
        text, problem = _text(operation, "response body", body)
        if problem is not None:
            return [problem]
        spec = self.streams.for_response(operation.path, operation.method, status, media.media_type)
        if spec is None:
            return _check_frames(operation, media, text)
        stream = Stream(spec, parse_events(text), None, False, _json_body(request))
        return [_violation(operation, problem) for problem in run_stream_checks(stream)]


def _declared_media(media: dict[str, Media], content_type: str | None) -> Media | None:
    if content_type is None:
        return None
    wanted = content_type.split(";")[0].strip().lower()
    by_type = {media_type.split(";")[0].strip().lower(): item for media_type, item in media.items()}
    for candidate in (wanted, wanted.split("/")[0] + "/*", "*/*"):
        if candidate in by_type:
            return by_type[candidate]
    return None


def _check_body(operation: Operation, media: Media, body: bytes) -> list[Violation]:
    base = media.media_type.split(";")[0].strip().lower()
    if media.validator is None:
        return []
    text, problem = _text(operation, "response body", body)
    if problem is not None:
        return [problem]
    if base in JSON_LINES:
        return _check_json_lines(operation, media, text)
    if is_json(base):
        value, problem = _json(operation, "response body", text)
        return (
            [problem] if problem is not None else schema_violations(operation, "response body", media.validator, value)
        )
    if base.startswith("text/"):
        return schema_violations(operation, "response body", media.validator, text)
    return []  # binary content: the schema describes bytes, nothing to judge


def _check_json_lines(operation: Operation, media: Media, text: str) -> list[Violation]:
    assert media.validator is not None
    violations = []
    for number, line in enumerate((line for line in text.splitlines() if line.strip()), start=1):
        where = f"response line {number}"
        value, problem = _json(operation, where, line)
        violations += [problem] if problem is not None else schema_violations(operation, where, media.validator, value)
    return violations


def _check_frames(operation: Operation, media: Media, text: str) -> list[Violation]:
    """Each event against the event schema as written, for a stream the spec does not describe apitwin's way."""
    if media.validator is None:
        return []
    violations = []
    for event in parse_events(text):
        frame = {"data": event.data} if event.name is None else {"event": event.name, "data": event.data}
        violations += schema_violations(operation, f"event {event.number}", media.validator, frame)
    return violations


def _violation(operation: Operation, problem: Problem) -> Violation:
    """A stream problem as check-traffic reports it: ``event 4 /data/choices/0/index`` (events counted from 1)."""
    location = f"event {problem.event + 1}" if problem.event is not None else "stream"
    return Violation(
        operation.operation_id,
        location,
        problem.pointer,
        problem.expected,
        problem.received,
        f"{location} {problem.pointer or '/'}: {problem.message}" if problem.event is not None else problem.message,
        problem.keyword,
    )


def _json_body(request: RecordedRequest) -> Any:
    """The request's JSON body (what ``include_usage`` is read from), None when it has none."""
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError):
        return None


def schema_violations(
    operation: Operation, where: str, validator: Any, value: Any, *, prefix: str = ""
) -> list[Violation]:
    """One violation per failing location (the most relevant error there), pointer first."""
    errors = sorted(
        validator.iter_errors(value), key=lambda error: (list(map(str, error.absolute_path)), error.message)
    )
    violations = []
    for error in errors[:MAX_VIOLATIONS]:
        best = jsonschema.exceptions.best_match([error])
        pointer = join(prefix, *best.absolute_path)
        expected = f"{best.validator} {describe(best.validator_value, 60)}"
        message = best.message if len(best.message) <= 300 else best.message[:299] + "…"
        violations.append(
            Violation(
                operation.operation_id,
                where,
                pointer,
                expected,
                describe(best.instance),
                f"{where} {pointer or '/'}: {message}",
                str(best.validator),
            )
        )
    return violations


def _text(operation: Operation, where: str, body: bytes) -> tuple[str, Violation | None]:
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return "", Violation(
            operation.operation_id,
            where,
            "",
            "UTF-8 text",
            f"byte 0x{body[error.start]:02x}",
            f"{where} is not valid UTF-8 (at byte {error.start})",
        )


def _json(operation: Operation, where: str, text: str) -> tuple[Any, Violation | None]:
    try:
        return fast_json.loads(text), None
    except json.JSONDecodeError as error:
        return None, Violation(
            operation.operation_id,
            where,
            "",
            "JSON",
            describe(text[max(0, error.pos - 20) : error.pos + 20]),
            f"{where} is not JSON: {error.msg} at line {error.lineno} column {error.colno}",
        )
    except RecursionError:
        return None, Violation(
            operation.operation_id, where, "", "JSON", "deeply nested text", f"{where} is nested too deeply to parse"
        )


# -- request bodies --------------------------------------------------------------------------


def _check_request_body(operation: Operation, request: RecordedRequest) -> list[Violation]:
    label = operation.operation_id
    if not operation.bodies:
        return []
    if not request.body:
        if operation.body_required:
            return [Violation(label, "request body", "", "a request body", "nothing", "request body is required")]
        return []
    content_type = request.headers.get("content-type")
    form = _request_form(operation, content_type)
    if form is None:
        accepted = ", ".join(operation.bodies)
        return [
            Violation(
                label,
                "content-type",
                "",
                accepted,
                content_type or "nothing",
                f"request content type {content_type or '(none)'} is not accepted; expected {accepted}",
            )
        ]
    value, problem = _request_value(operation, form, request.body, content_type or "")
    if problem is not None:
        return [problem]
    return [replace(violation, location="request body") for violation in validate_body(operation, form, value)]


def _request_form(operation: Operation, content_type: str | None) -> RequestBody | None:
    media_type = sent_media_type(content_type)
    by_type = {declared.split(";")[0].strip().lower(): body for declared, body in operation.bodies.items()}
    for candidate in (media_type, media_type.split("/")[0] + "/*", "*/*"):
        if candidate in by_type:
            return by_type[candidate]
    if is_json(media_type):
        return next((body for declared, body in by_type.items() if is_json(declared)), None)
    return None


def _request_value(
    operation: Operation, form: RequestBody, body: bytes, content_type: str
) -> tuple[Any, Violation | None]:
    media_type = form.media_type.split(";")[0].strip().lower()
    if "*" in media_type:  # */*, application/*: read as what the client says it sent, as the mock does
        media_type = sent_media_type(content_type)
    if media_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return form_fields(pairs, form.field_types), None
    if media_type.startswith("multipart/"):
        try:
            return form_fields(_multipart_fields(body, content_type), form.field_types), None
        except (python_multipart.exceptions.FormParserError, ValueError) as error:
            received = "unparseable"
            return None, Violation(
                operation.operation_id, "request body", "", "multipart form data", received,
                f"malformed multipart body: {error}",
            )  # fmt: skip
    if form.xml is not None and is_xml(media_type):
        try:
            return form.xml.read(body), None
        except XmlBodyError as error:
            message = f"malformed XML body: {error}"
            return None, Violation(
                operation.operation_id, "request body", "", "well-formed XML", "unparseable", message
            )
    text, problem = _text(operation, "request body", body)
    if problem is not None:
        return None, problem
    if is_json(media_type):
        return _json(operation, "request body", text)
    return text, None


def _multipart_fields(body: bytes, content_type: str) -> list[tuple[str, Any]]:
    """Text fields as strings, files as ``<file>``, in order, read by python-multipart as the mock server
    (Starlette) reads them; raises ``FormParserError`` for a body it refuses."""
    fields: list[tuple[str, Any]] = []

    def on_field(field: Any) -> None:
        fields.append((field.field_name.decode("utf-8", "replace"), (field.value or b"").decode("utf-8", "replace")))

    def on_file(file: Any) -> None:
        fields.append((file.field_name.decode("utf-8", "replace"), "<file>"))

    python_multipart.parse_form({"Content-Type": content_type.encode("latin-1")}, io.BytesIO(body), on_field, on_file)
    return fields
