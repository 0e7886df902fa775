"""The mock's own endpoints under ``/_apitwin/``: the dashboard page and the JSON it reads.

- ``GET /_apitwin/``: the dashboard (``mockserver.dashboard``);
- ``GET|DELETE /_apitwin/requests``: the journal, filtered (``journal_query``); ``GET /_apitwin/journal/stream``:
  the same, live, as server-sent events (``journal_stream``);
- ``GET /_apitwin/apis``, ``/_apitwin/openapi/<api>.json``: what is served, and from which document;
- ``GET /_apitwin/coverage``: operations called and not called, per API;
- ``GET|DELETE /_apitwin/state[?kind=jobs|responses|sessions]``: stored objects, and their reset;
- ``GET /_apitwin/settings``, ``GET|PUT /_apitwin/settings/<api>``: faults and pacing per API, live.

Each route is one small function of the server and the request; ``answer`` picks it by path. Who may call
them (and see the values clients sent) is decided before, in ``admin_access``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from apitwin.mockserver import dashboard, journal_stream, state_view
from apitwin.mockserver.base_path import sdk_path
from apitwin.mockserver.behaviours.jobs import status_now
from apitwin.mockserver.coverage import coverage as coverage_view
from apitwin.mockserver.errors import problem_response as problem
from apitwin.mockserver.journal_query import QueryError
from apitwin.mockserver.journal_query import parse as parse_filters
from apitwin.mockserver.live_settings import SettingsError
from apitwin.mockserver.request_log import admin_answer, bad_parameter
from apitwin.specs.inventory import model_ids, request_models
from apitwin.specs.walk import iter_operations

if TYPE_CHECKING:
    from apitwin.mockserver.app import MockServer
    from apitwin.mockserver.journal import Journal
    from apitwin.mockserver.operations import CompiledApi

ADMIN_PREFIX = "/_apitwin"
logger = logging.getLogger("apitwin.mock")

Route = Callable[[Any, Request, str, bool], Awaitable[Response]]
"""(server, request, the rest of the path, whether the caller may see values) → the answer."""


class Served(Protocol):
    """What the journal's routes read: the mock's server, or the proxy's view of its journal."""

    @property
    def request_log(self) -> Journal: ...

    @property
    def apis(self) -> dict[str, CompiledApi]: ...

    def base_paths(self) -> dict[str, str]: ...


def json_answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


def not_allowed(method: str, path: str, allowed: str) -> Response:
    answer = problem(405, f"{method} is not allowed on {path}; allowed: {allowed}", path)
    answer.headers["Allow"] = allowed
    return answer


async def requests(server: Served, request: Request, rest: str, reveal: bool) -> Response:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return admin_answer(server.request_log, request.method, query, reveal)


async def apis(server: Served, request: Request, rest: str, reveal: bool) -> Response:
    """Each served API: where it is, where an SDK's ``base_url`` points, its operations and model ids."""
    body = {}
    for name, base in server.base_paths().items():
        api = server.apis[name]
        body[name] = {
            "base_path": base,
            "sdk_base_path": base + sdk_path(api.document),
            "title": api.document["info"]["title"],
            "operations": len(api.operations),
            "endpoints": [[op.method.upper(), op.path, op.operation_id] for op in api.operations],
            **_models(api.document),
        }
    return json_answer(body)


_MODELS: dict[int, tuple[dict[str, Any], dict[str, list[str]]]] = {}
"""Model ids by document (read from the whole spec: tens of ms for hundreds of models), kept for later calls."""


def _models(document: dict[str, Any]) -> dict[str, list[str]]:
    """Every model id the spec accepts, and those a chat completion accepts in spec order (for the snippets)."""
    found = _MODELS.get(id(document))
    if found is not None and found[0] is document:
        return found[1]
    chat: list[str] = []
    for path, method, operation in iter_operations(document):
        if method == "post" and path.endswith("chat/completions"):
            chat = request_models(document, operation)
            break
    models = {"models": model_ids(document), "chat_models": chat}
    if len(_MODELS) >= 64:
        _MODELS.clear()
    _MODELS[id(document)] = (document, models)
    return models


async def openapi(server: Served, request: Request, rest: str, reveal: bool) -> Response:
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


async def page(server: Served, request: Request, rest: str, reveal: bool) -> Response:
    if rest:
        return problem(404, f"unknown admin endpoint {request.scope['path']}", request.scope["path"])
    if request.method not in ("GET", "HEAD"):
        return not_allowed(request.method, request.scope["path"], "GET, HEAD")
    return dashboard.page()


async def journal(server: Served, request: Request, rest: str, reveal: bool) -> Response:
    """``/_apitwin/journal/stream``: the journal live (the filters of ``/requests``; ``Last-Event-ID`` resumes)."""
    path = request.scope["path"]
    if rest != "stream":
        return problem(404, f"unknown admin endpoint {path}", path)
    if request.method != "GET":
        return not_allowed(request.method, path, "GET")
    try:
        filters = parse_filters(request.scope.get("query_string", b"").decode("latin-1"))
    except QueryError as error:
        return bad_parameter(error)
    resumed = request.headers.get("last-event-id", "")
    if resumed.isdigit():
        filters = replace(filters, since=max(filters.since, int(resumed)))
    return journal_stream.stream(server.request_log, filters, reveal)


async def coverage(server: Served, request: Request, rest: str, reveal: bool) -> Response:
    return json_answer(coverage_view(server.apis, server.request_log.records()))


async def state(server: MockServer, request: Request, rest: str, reveal: bool) -> Response:
    """Jobs, stored responses and sessions; ``DELETE`` removes them (``?kind=jobs`` only those)."""
    path = request.scope["path"]
    if request.method in ("GET", "HEAD"):
        return json_answer(await state_view.snapshot(server.store, reveal, partial(_job_status, server)))
    if request.method != "DELETE":
        return not_allowed(request.method, path, "GET, DELETE")
    kinds = request.query_params.getlist("kind")
    unknown = state_view.unknown_kinds(kinds)
    if unknown:
        known = ", ".join(state_view.KINDS.values())
        return problem(400, f"kind {unknown[0]!r} is not one of {known}", path, parameter="kind")
    return json_answer(await state_view.reset(server.store, kinds))


def _job_status(server: MockServer, api: str, create: str, record: dict[str, Any]) -> str | None:
    compiled = server.apis.get(api)
    return (
        status_now(compiled, create, record, server.services.jobs, server.options.clock())
        if compiled is not None
        else None
    )


async def settings(server: MockServer, request: Request, rest: str, reveal: bool) -> Response:
    """Faults and pacing: all APIs' (``/settings``), or one API's, read and changed (``PUT /settings/<api>``)."""
    path = request.scope["path"]
    if not rest:
        return (
            json_answer(server.live.as_dict())
            if request.method in ("GET", "HEAD")
            else not_allowed(request.method, path, "GET")
        )
    if rest not in server.live:
        return problem(404, f"no API named {rest!r}; APIs: {', '.join(server.apis)}", path)
    if request.method in ("GET", "HEAD"):
        return json_answer(server.live[rest].as_dict())
    if request.method not in ("PUT", "PATCH"):
        return not_allowed(request.method, path, "GET, PUT, PATCH")
    try:
        given = json.loads(await request.body() or b"null")
    except ValueError as error:
        return problem(400, f"the body is not JSON: {error}", path)
    try:
        changed = server.live.change(rest, given)
    except SettingsError as error:
        return problem(400, str(error), path, field=error.field)
    # Said in the server's log: answers change from here on, and whoever reads the log should know why.
    logger.warning("faults and pacing of %s changed at %s: %s", rest, path, json.dumps(changed.as_dict()))
    return json_answer(changed.as_dict())


JOURNAL_ROUTES: dict[str, Route] = {
    "": page,
    "requests": requests,
    "journal": journal,
    "apis": apis,
    "openapi": openapi,
    "coverage": coverage,
}
"""What any server with a journal answers (the proxy too)."""
ROUTES: dict[str, Route] = {**JOURNAL_ROUTES, "state": state, "settings": settings}
"""The first path segment after ``/_apitwin/`` → its route (the rest of the path is the route's to read)."""


async def answer(server: Served, request: Request, reveal: bool, routes: dict[str, Route] = ROUTES) -> Response:
    path = request.scope["path"]
    inner = path[len(ADMIN_PREFIX) :].strip("/")
    head, _, rest = inner.partition("/")
    route = routes.get(head)
    if route is None:
        return problem(404, f"unknown admin endpoint {path}; here: {', '.join(f'/{name}' for name in routes)}", path)
    return await route(server, request, rest, reveal)
