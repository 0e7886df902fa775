"""The mock's own endpoints under ``/_apitwin/``: the journal, the served APIs and their documents.

Each route is one small function of the server and the request; ``answer`` picks it by path. Who may call
them (and see the values clients sent) is decided before, in ``admin_access``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from apitwin.mockserver.base_path import sdk_path
from apitwin.mockserver.request_log import admin_answer
from apitwin.specs.inventory import model_ids

if TYPE_CHECKING:
    from apitwin.mockserver.app import MockServer

ADMIN_PREFIX = "/_apitwin"

Route = Callable[["MockServer", Request, str, bool], Awaitable[Response]]
"""(server, request, the rest of the path, whether the caller may see values) → the answer."""


def problem(status: int, message: str, path: str, **extra: Any) -> Response:
    """An admin error: RFC 9457 problem JSON, as the mock's other own errors."""
    from http import HTTPStatus

    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": message}
    body.update({"instance": path, **extra})
    return Response(json.dumps(body), status_code=status, media_type="application/problem+json")


def json_answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


def not_allowed(method: str, path: str, allowed: str) -> Response:
    answer = problem(405, f"{method} is not allowed on {path}; allowed: {allowed}", path)
    answer.headers["Allow"] = allowed
    return answer


async def requests(server: MockServer, request: Request, rest: str, reveal: bool) -> Response:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return admin_answer(server.request_log, request.method, query, reveal)


async def apis(server: MockServer, request: Request, rest: str, reveal: bool) -> Response:
    """Each served API: where it is, where an SDK's ``base_url`` points, its operations and model ids."""
    body = {}
    for name, base in server.base_paths().items():
        api = server.apis[name]
        body[name] = {
            "base_path": base,
            "sdk_base_path": base + sdk_path(api.document),
            "title": api.document["info"]["title"],
            "operations": len(api.operations),
            "operation_ids": [operation.operation_id for operation in api.operations],
            "models": model_ids(api.document),
        }
    return json_answer(body)


async def openapi(server: MockServer, request: Request, rest: str, reveal: bool) -> Response:
    """``/_apitwin/openapi/<api>.json``: the document an API is served from, with its base path as the only
    server, so tools that read the spec (schemathesis, code generators) find the mock."""
    path = request.scope["path"]
    if not rest.endswith(".json"):
        return problem(404, f"unknown admin endpoint {path}", path)
    name = rest[: -len(".json")]
    api = server.apis.get(name)
    if api is None:
        return problem(404, f"no API named {name!r}; APIs: {', '.join(server.apis)}", path)
    document = {**api.document, "servers": [{"url": server.base_paths()[name] or "/"}]}
    return Response(json.dumps(document), media_type="application/json")


ROUTES: dict[str, Route] = {"requests": requests, "apis": apis, "openapi": openapi}
"""The first path segment after ``/_apitwin/`` → its route (the rest of the path is the route's to read)."""


async def answer(server: MockServer, request: Request, reveal: bool) -> Response:
    path = request.scope["path"]
    inner = path[len(ADMIN_PREFIX) :].strip("/")
    head, _, rest = inner.partition("/")
    route = ROUTES.get(head)
    if route is None:
        return problem(404, f"unknown admin endpoint {path}", path)
    return await route(server, request, rest, reveal)
