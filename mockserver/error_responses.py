"""An error as the response the mock sends: in the media the operation declares for it, else in the API's JSON
shape (``errors``), with what was wrong attached for the journal. The server's refusals and a behaviour's (an
unknown id, a bad reference) both come from here; neither needs the server."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response

from apitwin.mockserver.error_media import declared_media_error
from apitwin.mockserver.errors import INVALID_REQUEST, declared_error, error_answer
from apitwin.mockserver.operations import CompiledApi, Operation, seeded
from apitwin.mockserver.produce import response_headers
from apitwin.mockserver.request_log import attach_violations
from apitwin.mockserver.violations import Violation


def error_response(
    api: CompiledApi,
    operation: Operation | None,
    status: int,
    message: str,
    path: str,
    violations: Sequence[Violation] = (),
    *,
    kind: str = INVALID_REQUEST,
) -> Response:
    """The answer to a request that breaks the spec (``violations``; one made of ``message`` when none is given)."""
    found = list(violations) or [
        Violation(operation.operation_id if operation else "", _where(status), "", "", "", message)
    ]
    answer = declared_media_error(operation, status, message) or error_answer(
        api, declared_error(api, operation, status), status, message, path=path, violations=found, kind=kind
    )
    headers = _declared_headers(operation, status, message)
    return attach_violations(
        Response(answer.body, status_code=status, media_type=answer.media_type, headers=headers), found
    )


def refusal(
    api: CompiledApi,
    operation: Operation | None,
    status: int,
    message: str,
    path: str,
    *,
    location: str = "request",
    pointer: str = "",
    kind: str = INVALID_REQUEST,
) -> Response:
    """An error in the API's shape for a request the spec allows (an unknown id, an injected fault): it names what
    was wrong and where, and is not recorded as a spec violation."""
    violation = Violation(operation.operation_id if operation else "", location, pointer, "", "", message)
    return attach_violations(error_response(api, operation, status, message, path, [violation], kind=kind), [])


def _declared_headers(operation: Operation | None, status: int, message: str) -> dict[str, str]:
    """The headers the operation declares for the error's status (its own code, its range, else its ``default``):
    a client and schemathesis hold an error to them as they hold a success (ably declares them on every error)."""
    response = operation.response_for(status) if operation is not None else None
    if response is None or not response.headers:
        return {}
    return response_headers(response, seeded("error-headers", status, message))


def _where(status: int) -> str:
    return {401: "auth", 404: "path", 405: "method", 413: "body", 415: "content-type"}.get(status, "request")
