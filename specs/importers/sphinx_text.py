"""Import an OpenAPI that Sphinx rendered to plain text (one endpoint after another).

The rendering keeps, per endpoint, a ``- METHOD /path#`` heading, a title, prose, a
"Request body:" line holding the *properties map* of the body model (the ``type: object``
wrapper and its ``required`` list are lost), an example request written as one HTTP line,
and a "- Status Codes:" list whose items may carry an example response, again one HTTP
line. Sections (one per server) are headings ending in ``#``. The text is read line by
line; anything that does not fit the layout is a ``SpecError`` naming the line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from apitwin.specs.jsontypes import json_type
from apitwin.specs.pointer import join
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source

SECTION_HEADINGS = {
    "api_server": "OpenAI 兼容服务器接口",
    "proxy": "Proxy 服务器接口",
}
"""Catalogue option ``section`` → the heading (without its ``#``) that opens that section."""

LABEL_BODY = "Request body:"
LABEL_REQUEST = "Example request:"
LABEL_STATUS = "- Status Codes:"
LABEL_RESPONSE = "Example response:"
LABELS = (LABEL_BODY, LABEL_REQUEST, LABEL_STATUS, LABEL_RESPONSE)

JSON_MEDIA_TYPE = "application/json"
PLACEHOLDERS = ("string", 1, 1.0, True)
"""Values the renderer writes for any string / integer / number / boolean in its examples."""
VALIDATION_ERROR_STATUS = "422"

_ENDPOINT = re.compile(r"^- (GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) (/\S*)#$")
_STATUS = re.compile(r"^(\d{3}) (.+?) –(?: (.*))?$")
_REQUEST_LINE = re.compile(r"^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) (\S+) HTTP/1\.1(?: (.*))?$")
_RESPONSE_LINE = re.compile(r"^HTTP/1\.1 (\d{3})(?: (.*))?$")
_HEADER = re.compile(r"([A-Za-z][A-Za-z0-9-]*): (\S+)")


@dataclass(slots=True)
class Line:
    number: int
    offset: int
    text: str


@dataclass(slots=True)
class HttpMessage:
    """One example request or response line, split into its start, headers and body."""

    line: Line
    start: tuple[str, str]
    """(method, path) of a request, (status, reason) of a response."""
    headers: dict[str, str]
    body: Any
    has_body: bool

    @property
    def media_type(self) -> str | None:
        return self.headers.get("Content-Type")


@dataclass(slots=True)
class StatusItem:
    line: Line
    code: str | None
    """None when the rendering lost the ``NNN Reason –`` line; the example response restores it."""
    description: list[str] = field(default_factory=list)
    examples: list[HttpMessage] = field(default_factory=list)
    restored: bool = False
    """True when the code was taken from the example response."""


@dataclass(slots=True)
class Endpoint:
    line: Line
    method: str
    path: str
    title: str | None = None
    prose: list[str] = field(default_factory=list)
    body: dict[str, Any] | None = None
    body_line: Line | None = None
    request_example: HttpMessage | None = None
    statuses: list[StatusItem] = field(default_factory=list)


def import_api(source: Source, log: RepairLog, *, section: str) -> dict[str, Any]:
    """One OpenAPI 3.1 document for the endpoints of one section of the rendered text."""
    lines = _split_lines(source)
    heading, section_lines = _section(source, lines, section)
    endpoints = [_parse_endpoint(source, block) for block in _endpoint_blocks(source, section_lines)]
    if not endpoints:
        raise source.error(heading.offset, f"section {heading.text!r} has no endpoints")
    return _document(source, heading, endpoints, log)


# --- reading the text --------------------------------------------------------------------


def _split_lines(source: Source) -> list[Line]:
    lines: list[Line] = []
    offset = 0
    for number, text in enumerate(source.text.split("\n"), start=1):
        lines.append(Line(number, offset, text.rstrip("\r")))
        offset += len(text) + 1
    return lines


def _is_heading(text: str) -> bool:
    """Section headings end in the permalink ``#`` Sphinx renders; endpoint headings start with ``- ``."""
    return text.endswith("#") and not text.startswith("- ")


def _section(source: Source, lines: list[Line], section: str) -> tuple[Line, list[Line]]:
    """The section's heading line and the lines up to the next section heading."""
    wanted = SECTION_HEADINGS.get(section, section)
    for index, line in enumerate(lines):
        if line.text.strip() == wanted + "#":
            end = index + 1
            while end < len(lines) and not _is_heading(lines[end].text.strip()):
                end += 1
            return line, lines[index + 1 : end]
    known = ", ".join(sorted(SECTION_HEADINGS))
    raise source.error(len(source.text), f"no section heading {wanted + '#'!r} (section={section!r}; known: {known})")


def _endpoint_blocks(source: Source, lines: list[Line]) -> list[list[Line]]:
    """Split a section into endpoints, each starting with its ``- METHOD /path#`` line."""
    blocks: list[list[Line]] = []
    for line in lines:
        text = line.text.strip()
        if text.startswith("- ") and text.endswith("#"):
            if not _ENDPOINT.match(text):
                raise source.error(line.offset, f"unparseable endpoint heading {text!r}")
            blocks.append([line])
            continue
        if not blocks:
            if text:
                raise source.error(line.offset, f"text before the first endpoint: {text[:60]!r}")
            continue
        blocks[-1].append(line)
    return blocks


def _parse_endpoint(source: Source, block: list[Line]) -> Endpoint:
    heading = block[0]
    match = _ENDPOINT.match(heading.text.strip())
    assert match is not None  # _endpoint_blocks checked it
    endpoint = Endpoint(heading, match.group(1).lower(), match.group(2))
    body = [line for line in block[1:] if line.text.strip()]
    index = _parse_title_and_prose(endpoint, body)
    while index < len(body):
        index = _parse_labelled(source, endpoint, body, index)
    if not endpoint.statuses:
        raise source.error(heading.offset, f"{_name(endpoint)} has no '{LABEL_STATUS}' section (truncated endpoint?)")
    return endpoint


def _parse_title_and_prose(endpoint: Endpoint, body: list[Line]) -> int:
    """Title and prose run up to the first label; returns the index of that label."""
    index = 0
    while index < len(body) and not _is_label(body[index].text):
        text = body[index].text.strip()
        if endpoint.title is None:
            endpoint.title = text
        else:
            endpoint.prose.append(text)
        index += 1
    return index


def _is_label(text: str) -> bool:
    stripped = text.strip()
    return stripped in LABELS or (stripped.startswith("- ") and stripped.endswith(":"))


def _parse_labelled(source: Source, endpoint: Endpoint, body: list[Line], index: int) -> int:
    """Parse the part that starts at ``body[index]`` (a label); returns where the next part starts."""
    label = body[index]
    text = label.text.strip()
    if text == LABEL_BODY:
        _parse_request_body(source, endpoint, label, _next_line(source, body, index, endpoint))
        return index + 2
    if text == LABEL_REQUEST:
        _parse_example_request(source, endpoint, _next_line(source, body, index, endpoint))
        return index + 2
    if text == LABEL_STATUS:
        return _parse_status_codes(source, endpoint, body, index + 1)
    if text.startswith("- ") or text in LABELS:
        raise source.error(label.offset, f"{_name(endpoint)}: unexpected {text!r} here")
    raise source.error(label.offset, f"{_name(endpoint)}: expected a label, found {text[:60]!r}")


def _next_line(source: Source, body: list[Line], index: int, endpoint: Endpoint) -> Line:
    """The content line a label announces; a label at the end of an endpoint is a truncation."""
    if index + 1 >= len(body) or _is_label(body[index + 1].text):
        label = body[index]
        raise source.error(label.offset, f"{_name(endpoint)}: {label.text.strip()!r} is not followed by its content")
    return body[index + 1]


def _parse_request_body(source: Source, endpoint: Endpoint, label: Line, line: Line) -> None:
    if endpoint.body is not None:
        raise source.error(label.offset, f"{_name(endpoint)}: second '{LABEL_BODY}'")
    properties = _parse_json(source, line, line.text.strip(), "request body")
    if not isinstance(properties, dict):
        raise source.error(line.offset, f"{_name(endpoint)}: request body is not a JSON object of properties")
    for name, schema in properties.items():
        if not isinstance(schema, dict):
            raise source.error(line.offset, f"{_name(endpoint)}: property {name!r} is not a schema object")
    endpoint.body = properties
    endpoint.body_line = line


def _parse_example_request(source: Source, endpoint: Endpoint, line: Line) -> None:
    match = _REQUEST_LINE.match(line.text.strip())
    if not match:
        raise source.error(line.offset, f"{_name(endpoint)}: example request is not an HTTP request line")
    method, path, rest = match.group(1).lower(), match.group(2), match.group(3) or ""
    if (method, path) != (endpoint.method, endpoint.path):
        raise source.error(line.offset, f"{_name(endpoint)}: example request is for {method.upper()} {path}")
    _, headers, body_text = _split_headers(rest)
    body = _parse_json(source, line, body_text, "example request body") if body_text else None
    endpoint.request_example = HttpMessage(line, (method, path), headers, body, bool(body_text))


def _parse_status_codes(source: Source, endpoint: Endpoint, body: list[Line], index: int) -> int:
    """Status items: ``NNN Reason – text``, description lines, and example responses.

    A description line that follows an item which already has its example starts a new
    item whose ``NNN Reason –`` line the rendering lost; its example response names the code.
    """
    current: StatusItem | None = None
    while index < len(body):
        line = body[index]
        text = line.text.strip()
        status = _STATUS.match(text)
        if status:
            after_dash = (status.group(3) or "").strip()
            current = StatusItem(line, status.group(1), [after_dash] if after_dash else [])
            endpoint.statuses.append(current)
        elif text == LABEL_RESPONSE:
            current = _status_for_example(endpoint, current, line)
            example_line = _next_line(source, body, index, endpoint)
            current.examples.append(_parse_example_response(source, endpoint, example_line))
            _check_example_status(source, endpoint, current)
            index += 1
        elif _is_label(text):
            raise source.error(line.offset, f"{_name(endpoint)}: unexpected {text!r} after '{LABEL_STATUS}'")
        elif current is not None and not current.examples:
            current.description.append(text)
        else:
            current = StatusItem(line, None, [text])
            endpoint.statuses.append(current)
        index += 1
    return index


def _status_for_example(endpoint: Endpoint, current: StatusItem | None, line: Line) -> StatusItem:
    if current is None:
        current = StatusItem(line, None)
        endpoint.statuses.append(current)
    return current


def _check_example_status(source: Source, endpoint: Endpoint, item: StatusItem) -> None:
    example = item.examples[-1]
    code = example.start[0]
    if item.code is None:
        item.code = code
        item.restored = True
        return
    if item.code != code:
        raise source.error(example.line.offset, f"{_name(endpoint)}: a {code} example under status {item.code}")


def _parse_example_response(source: Source, endpoint: Endpoint, line: Line) -> HttpMessage:
    match = _RESPONSE_LINE.match(line.text.strip())
    if not match:
        raise source.error(line.offset, f"{_name(endpoint)}: example response is not an HTTP status line")
    reason, headers, body_text = _split_headers(match.group(2) or "")
    body: Any = body_text
    media_type = headers.get("Content-Type", "")
    if body_text and _is_json(media_type):
        body = _parse_json(source, line, body_text, "example response body")
    return HttpMessage(line, (match.group(1), reason), headers, body, bool(body_text))


def _split_headers(text: str) -> tuple[str, dict[str, str], str]:
    """(text before the headers, ``Name: value`` headers, body); the body starts at the first ``{`` or ``[``."""
    starts = [position for position in (text.find("{"), text.find("[")) if position != -1]
    cut = min(starts) if starts else len(text)
    head = text[:cut]
    first = _HEADER.search(head)
    prefix = head[: first.start()] if first else head
    headers = dict(_HEADER.findall(head))
    return prefix.strip(), headers, text[cut:].strip()


def _parse_json(source: Source, line: Line, text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        column = line.text.find(text) + error.pos + 1
        raise source.error(line.offset, f"{what} is not JSON: {error.msg} (column {column})") from None


def _is_json(media_type: str) -> bool:
    return media_type == JSON_MEDIA_TYPE or media_type.endswith("+json")


def _name(endpoint: Endpoint) -> str:
    return f"{endpoint.method.upper()} {endpoint.path}"


# --- building the document -----------------------------------------------------------------


def _document(source: Source, heading: Line, endpoints: list[Endpoint], log: RepairLog) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        item = paths.setdefault(endpoint.path, {})
        if endpoint.method in item:
            raise source.error(endpoint.line.offset, f"{_name(endpoint)} appears twice in this section")
        pointer = join("", "paths", endpoint.path, endpoint.method)
        item[endpoint.method] = _operation(source, endpoint, pointer, components, log)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": heading.text.strip().rstrip("#"),
            "version": "unversioned",
            "description": f"Imported from {source.name}, section at line {heading.number}.",
        },
        "paths": paths,
    }
    if components:
        document["components"] = {"schemas": dict(sorted(components.items()))}
    return document


def _operation(
    source: Source, endpoint: Endpoint, pointer: str, components: dict[str, Any], log: RepairLog
) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if endpoint.title:
        operation["summary"] = endpoint.title
    if endpoint.prose:
        operation["description"] = "\n".join(endpoint.prose)
    if endpoint.body is not None:
        operation["requestBody"] = _request_body(source, endpoint, join(pointer, "requestBody"), log)
    elif endpoint.request_example is not None and endpoint.request_example.has_body:
        offset = endpoint.request_example.line.offset
        raise source.error(offset, f"{_name(endpoint)}: example body without a 'Request body:' schema")
    operation["responses"] = _responses(source, endpoint, join(pointer, "responses"), components, log)
    operation["x-apitwin-sources"] = _provenance(source, endpoint, operation)
    return operation


def _provenance(source: Source, endpoint: Endpoint, operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The heading's line, plus the lines the body schema and its kept example came from."""
    sources: list[dict[str, Any]] = [{"file": source.name, "line": endpoint.line.number}]
    if endpoint.body_line is not None:
        sources.append({"file": source.name, "line": endpoint.body_line.number, "pointer": "/requestBody"})
    media = (operation.get("requestBody") or {}).get("content", {}).get(JSON_MEDIA_TYPE, {})
    if endpoint.request_example is not None and "example" in media:
        pointer = join("/requestBody/content", JSON_MEDIA_TYPE, "example")
        sources.append({"file": source.name, "line": endpoint.request_example.line.number, "pointer": pointer})
    return sources


def _request_body(source: Source, endpoint: Endpoint, pointer: str, log: RepairLog) -> dict[str, Any]:
    assert endpoint.body is not None and endpoint.body_line is not None
    where = source.where(endpoint.body_line.offset)
    schema_pointer = join(pointer, "content", JSON_MEDIA_TYPE, "schema")
    schema = _wrap_properties(endpoint.body, schema_pointer, where, log)
    media: dict[str, Any] = {"schema": schema}
    example = endpoint.request_example
    if example is not None and example.has_body:
        _attach_example(media, example, join(pointer, "content", JSON_MEDIA_TYPE, "example"), source, {}, log)
    return {"required": True, "content": {JSON_MEDIA_TYPE: media}}


def _wrap_properties(properties: dict[str, Any], pointer: str, where: str, log: RepairLog) -> dict[str, Any]:
    """The rendering shows only the model's properties; the model itself is an object."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    log.record(
        "wrap-properties",
        pointer,
        source=where,
        before=f"properties map of {len(properties)} fields",
        after={"type": "object", "properties": "…"},
        reason="the rendered 'Request body:' is the body model's properties map without its object wrapper",
    )
    required = _infer_required(properties)
    if required:
        schema["required"] = required
        log.record(
            "infer-required",
            join(pointer, "required"),
            source=where,
            after=required,
            reason=(
                "pydantic model: a field without a default is required; fields that admit null count as "
                "defaulting to null, because the rendering drops `default: null` (Field(default=None, "
                "examples=[None]) shows as examples [null] and no default)"
            ),
        )
    return schema


def _infer_required(properties: dict[str, Any]) -> list[str]:
    return [name for name, schema in properties.items() if "default" not in schema and not _admits_null(schema)]


def _admits_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if schema.get("nullable") is True or schema.get("const", 0) is None:
        return True
    if None in (schema.get("enum") or []):
        return True
    return any(_admits_null(branch) for branch in (schema.get("anyOf") or []) + (schema.get("oneOf") or []))


def _responses(
    source: Source, endpoint: Endpoint, pointer: str, components: dict[str, Any], log: RepairLog
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for item in endpoint.statuses:
        if item.code is None:
            label = " ".join(item.description)
            raise source.error(item.line.offset, f"{_name(endpoint)}: {label!r} has no status code")
        if item.code in responses:
            raise source.error(item.line.offset, f"{_name(endpoint)}: status {item.code} listed twice")
        status_pointer = join(pointer, item.code)
        if item.restored:
            _record_lost_status(source, item, status_pointer, log)
        responses[item.code] = _response(source, item, status_pointer, components, log)
    return responses


def _record_lost_status(source: Source, item: StatusItem, pointer: str, log: RepairLog) -> None:
    example = item.examples[0]
    log.record(
        "lost-status-line",
        pointer,
        source=source.where(item.line.offset),
        before=" ".join(item.description),
        after=f"{item.code} {example.start[1]}",
        reason="the rendering lost this item's 'NNN Reason –' line; its example response names the status",
    )


def _response(
    source: Source, item: StatusItem, pointer: str, components: dict[str, Any], log: RepairLog
) -> dict[str, Any]:
    response: dict[str, Any] = {"description": " ".join(item.description)}
    example = _first_body(item)
    media_type = example.media_type if example is not None and example.media_type else JSON_MEDIA_TYPE
    content_pointer = join(pointer, "content", media_type)
    schema_pointer = join(content_pointer, "schema")
    schema: dict[str, Any] | None
    if item.code == VALIDATION_ERROR_STATUS:
        schema = _validation_error_schema(source, item, schema_pointer, components, log)
    elif example is not None:
        schema = _schema_from_example(example, schema_pointer, source, log)
    else:
        schema = None
    if schema is None:
        return response
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        _attach_example(media, example, join(content_pointer, "example"), source, components, log)
    response["content"] = {media_type: media}
    return response


def _first_body(item: StatusItem) -> HttpMessage | None:
    for example in item.examples:
        if example.has_body:
            return example
    return None


def _validation_error_schema(
    source: Source, item: StatusItem, pointer: str, components: dict[str, Any], log: RepairLog
) -> dict[str, Any]:
    """FastAPI answers every request-validation failure (422) with its HTTPValidationError body."""
    _add_validation_error_components(components, source, item, log)
    schema = {"$ref": "#/components/schemas/HTTPValidationError"}
    log.record(
        "validation-error-schema",
        pointer,
        source=source.where(item.line.offset),
        after=schema,
        reason="FastAPI answers every request-validation failure with HTTPValidationError; the example shows it",
    )
    return schema


def _schema_from_example(example: HttpMessage, pointer: str, source: Source, log: RepairLog) -> dict[str, Any]:
    """No response model is documented; the example shows at least the top-level JSON type."""
    schema = {"type": json_type(example.body)}
    log.record(
        "response-schema-from-example",
        pointer,
        source=source.where(example.line.offset),
        after=schema,
        reason="the text documents no response schema; the example response shows only this JSON type",
    )
    return schema


def _attach_example(
    media: dict[str, Any],
    example: HttpMessage,
    pointer: str,
    source: Source,
    components: dict[str, Any],
    log: RepairLog,
) -> None:
    """Keep the example only where it is valid: a placeholder that breaks its own schema is logged, not kept."""
    problem = _example_problem(media["schema"], example.body, components)
    if problem is None:
        media["example"] = example.body
        return
    log.record(
        "invalid-example",
        pointer,
        source=source.where(example.line.offset),
        before=example.body,
        reason=f"the rendered example contradicts its own schema, so it is not kept: {problem}",
    )


def _example_problem(schema: dict[str, Any], value: Any, components: dict[str, Any]) -> str | None:
    root = dict(schema)
    root["components"] = {"schemas": components}
    errors = sorted(Draft202012Validator(root).iter_errors(value), key=lambda error: list(error.absolute_path))
    if not errors:
        return None
    error = _deepest(errors[0])
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    problem = f"at {where}: {error.message}"
    if error.validator in ("const", "enum") and error.instance in PLACEHOLDERS:
        problem += f" (the renderer wrote the type placeholder {error.instance!r} and ignored the {error.validator})"
    return problem


def _deepest(error: Any) -> Any:
    """For anyOf/oneOf failures, the branch error that got furthest names the real cause."""
    while error.context:
        error = max(error.context, key=lambda child: len(child.absolute_path))
    return error


def _add_validation_error_components(
    components: dict[str, Any], source: Source, item: StatusItem, log: RepairLog
) -> None:
    if "HTTPValidationError" in components:
        return
    components.update(_validation_error_schemas())
    log.record(
        "validation-error-components",
        "/components/schemas/HTTPValidationError",
        source=source.where(item.line.offset),
        after=["HTTPValidationError", "ValidationError"],
        reason="the text shows FastAPI's 422 body but not its schema; FastAPI's standard schema is added once",
    )


def _validation_error_schemas() -> dict[str, Any]:
    """FastAPI's standard 422 body: ``{detail: [{loc, msg, type, input?, ctx?}]}``."""
    validation_error = {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "loc": {
                "title": "Location",
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
            "input": {"title": "Input"},
            "ctx": {"title": "Context", "type": "object"},
        },
        "required": ["loc", "msg", "type"],
    }
    http_validation_error = {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "type": "array",
                "items": {"$ref": "#/components/schemas/ValidationError"},
            }
        },
    }
    return {"HTTPValidationError": http_validation_error, "ValidationError": validation_error}
