"""Lifecycles: what a create operation made must stay reachable, and a job must finish.

A single request cannot show that a gateway loses a job, never finishes one, or forgets a stored
response; following what a create answered can. Lifecycles come from the spec:

* OpenAPI ``links`` on a success response (any spec that declares them): the linked operation is
  called with the link's ``parameters`` and ``requestBody``, whose runtime expressions
  (``$response.body#/id``, ``$request.body#/model``, ``$request.query.x``, ``{$…}`` inside a string)
  are filled from the create exchange. ``x-apitwin-create`` on a link names body fields the create
  request needs for the link to hold (a response is kept only when ``store`` is true).
* ``x-apitwin-job`` (the shipped overlays' async jobs): the poll operation is called with the id the
  create answered until the status field reaches a ``done`` or ``failed`` value.

Checks: ``lifecycle_found`` (the follow-up answered 2xx: the gateway still knows what it made),
``lifecycle_same_object`` (a GET bound to the created ``id`` answers that ``id``),
``lifecycle_completes`` (a job reaches a final status within ``max_polls`` polls) and ``lifecycle_status``
(cancelling a job just created answers the status a cancel sets, or a final one).
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from apitwin.contracts.fuzz.events import Exchange, Failure
from apitwin.contracts.fuzz.repro import curl, hide
from apitwin.specs.pointer import follow, resolve, unescape

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
EMBEDDED = re.compile(r"\{(\$[^}]+)\}")
BODY_SHOWN = 4000
"""Characters of the follow-up's answer a failure keeps."""


@dataclass(frozen=True, slots=True)
class Binding:
    """One value of the follow-up request: where it goes and the runtime expression (or literal) it comes from."""

    name: str
    location: str
    """``path``, ``query``, ``header`` or ``body``."""
    source: Any


@dataclass(slots=True)
class Lifecycle:
    name: str
    """``<create operationId>.<link name>`` or ``<create operationId>.poll``."""
    create: tuple[str, str]
    """(METHOD, path) of the create operation."""
    follow: tuple[str, str]
    """(METHOD, path) of the operation called next."""
    bindings: list[Binding] = field(default_factory=list)
    body: Any = None
    """The follow-up's request body (runtime expressions inside are filled), ``None`` for none."""
    create_fields: dict[str, Any] = field(default_factory=dict)
    status_field: str | None = None
    final: tuple[str, ...] = ()
    """Statuses that end a job (``done`` and ``failed``); empty when the follow-up is called once."""
    expected: tuple[str, ...] = ()
    """For a follow-up called once: the statuses its answer may show (a cancel: ``canceling`` or final)."""

    @property
    def polls(self) -> bool:
        return bool(self.final)


def discover(document: dict[str, Any]) -> list[Lifecycle]:
    """Every lifecycle the document declares, in document order."""
    found: list[Lifecycle] = []
    for path, method, operation in _operations(document):
        name = operation.get("operationId") or f"{method.upper()} {path}"
        job = operation.get("x-apitwin-job")
        if isinstance(job, dict) and isinstance(job.get("poll"), dict):
            found.append(_job(name, (method.upper(), path), job))
            if isinstance(job.get("cancel"), dict):
                found.append(_cancel(name, (method.upper(), path), job))
        for status, response in (operation.get("responses") or {}).items():
            if not str(status).startswith("2") or not isinstance(response, dict):
                continue
            for link_name, link in (response.get("links") or {}).items():
                lifecycle = _link(document, name, (method.upper(), path), link_name, link)
                if lifecycle is not None:
                    found.append(lifecycle)
    return found


def followed(lifecycles: list[Lifecycle], routes: dict[tuple[str, str], str], unsafe: set[str]) -> list[Lifecycle]:
    """The lifecycles a run follows: both ends among its operations (``routes``: (METHOD, path) → label) and
    the follow-up safe to call."""
    return [
        lifecycle
        for lifecycle in lifecycles
        if lifecycle.create in routes and lifecycle.follow in routes and routes[lifecycle.follow] not in unsafe
    ]


def describe(lifecycle: Lifecycle) -> str:
    """``POST /x → GET /y (polled until completed, error)``: one line of a dry run."""
    create, follow = (f"{method} {path}" for method, path in (lifecycle.create, lifecycle.follow))
    how = f" (polled until {', '.join(lifecycle.final)})" if lifecycle.polls else ""
    return f"{lifecycle.name}: {create} → {follow}{how}"


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = (item or {}).get(method)
            if isinstance(operation, dict):
                yield path, method, operation


def _job(name: str, create: tuple[str, str], job: dict[str, Any]) -> Lifecycle:
    poll = job["poll"]
    source = f"$response.body#/{poll.get('from', 'id')}"
    return Lifecycle(
        name=f"{name}.poll",
        create=create,
        follow=(str(poll.get("method", "get")).upper(), poll["path"]),
        bindings=[Binding(poll.get("parameter", "id"), poll.get("in", "query"), source)],
        status_field=job.get("field", "status"),
        final=tuple(job.get("done") or ()) + tuple(job.get("failed") or ()),
    )


def _cancel(name: str, create: tuple[str, str], job: dict[str, Any]) -> Lifecycle:
    """Cancel a job just created: the cancel must find it and answer the status a cancel sets (or a final one)."""
    cancel, poll = job["cancel"], job["poll"]
    source = f"$response.body#/{poll.get('from', 'id')}"
    after = (cancel["status"],) if isinstance(cancel.get("status"), str) else ()
    return Lifecycle(
        name=f"{name}.cancel",
        create=create,
        follow=(str(cancel.get("method", "post")).upper(), cancel["path"]),
        bindings=[Binding(cancel.get("parameter", "id"), cancel.get("in", "path"), source)],
        status_field=job.get("field", "status"),
        expected=after + tuple(job.get("done") or ()) + tuple(job.get("failed") or ()) if after else (),
    )


def _link(document: dict[str, Any], name: str, create: tuple[str, str], link_name: str, link: Any) -> Lifecycle | None:
    link = follow(document, link)  # links are often shared: ``$ref: '#/components/links/…'``
    if not isinstance(link, dict):
        return None
    target = _target(document, link)
    if target is None:
        return None
    path, method, operation = target
    if _needs_body(document, operation) and link.get("requestBody") is None:
        return None  # the link gives no body for an operation that requires one: nothing valid to send
    parameters = [follow(document, parameter) for parameter in operation.get("parameters") or ()]
    parameters += [follow(document, parameter) for parameter in (document["paths"][path] or {}).get("parameters") or ()]
    declared = {parameter.get("name"): parameter.get("in") for parameter in parameters if isinstance(parameter, dict)}
    bindings = []
    for key, source in (link.get("parameters") or {}).items():
        location, _, bare = key.partition(".") if key.split(".", 1)[0] in ("path", "query", "header") else ("", "", key)
        bindings.append(Binding(bare, location or declared.get(bare) or "query", source))
    return Lifecycle(
        name=f"{name}.{link_name}",
        create=create,
        follow=(method.upper(), path),
        bindings=bindings,
        body=copy.deepcopy(link.get("requestBody")),
        create_fields=dict(link.get("x-apitwin-create") or {}),
    )


def _needs_body(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    body = follow(document, operation.get("requestBody"))
    return isinstance(body, dict) and body.get("required") is True


def _target(document: dict[str, Any], link: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    wanted = link.get("operationId")
    if isinstance(wanted, str):
        return next((found for found in _operations(document) if found[2].get("operationId") == wanted), None)
    reference = link.get("operationRef")
    if isinstance(reference, str) and reference.startswith("#/paths/"):
        try:
            operation = resolve(document, reference)
        except KeyError:
            return None
        parts = reference.split("/")
        path = unescape(parts[2])
        return (path, parts[3], operation) if isinstance(operation, dict) else None
    return None


# --- runtime expressions -----------------------------------------------------------------------


@dataclass(slots=True)
class Created:
    """The create exchange the expressions read."""

    request_body: Any
    query: dict[str, str]
    path_values: dict[str, str]
    response_body: Any
    response_headers: dict[str, str]


MISSING = object()


def evaluate(source: Any, created: Created) -> Any:
    """The value of a runtime expression, a string with ``{$…}`` inside, or a structure of them;
    :data:`MISSING` when an expression points at nothing."""
    if isinstance(source, dict):
        return {key: evaluate(value, created) for key, value in source.items()}
    if isinstance(source, list):
        return [evaluate(value, created) for value in source]
    if not isinstance(source, str):
        return source
    if source.startswith("$"):
        return _expression(source, created)
    if EMBEDDED.search(source):
        return EMBEDDED.sub(lambda match: str(_expression(match.group(1), created)), source)
    return source


def _expression(expression: str, created: Created) -> Any:
    if expression.startswith(("$response.body", "$request.body")):
        body = created.response_body if expression.startswith("$response") else created.request_body
        _, _, pointer = expression.partition("#")
        try:
            return resolve(body, pointer) if pointer else body
        except (KeyError, IndexError, TypeError, ValueError):
            return MISSING
    sources = {
        "$request.query.": created.query,
        "$request.path.": created.path_values,
        "$response.header.": {key.lower(): value for key, value in created.response_headers.items()},
    }
    for prefix, values in sources.items():
        if expression.startswith(prefix):
            name = expression[len(prefix) :]
            return values.get(name.lower() if prefix == "$response.header." else name, MISSING)
    return MISSING


def contains_missing(value: Any) -> bool:
    if value is MISSING:
        return True
    if isinstance(value, dict):
        return any(contains_missing(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_missing(item) for item in value)
    return False


# --- following one lifecycle -------------------------------------------------------------------


@dataclass(slots=True)
class Follower:
    """Sends the follow-up requests of one lifecycle through ``session`` and judges them."""

    base_url: str
    session: requests.Session
    headers: dict[str, str]
    params: dict[str, str]
    secret: str | None
    timeout: float = 30.0
    max_polls: int = 30
    poll_interval: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    sent: int = 0
    last: requests.Response | None = None
    """The follow-up's last answer (what a failure shows)."""

    def follow(self, lifecycle: Lifecycle, label: str, created: Created) -> list[Failure]:
        """The failures of following ``lifecycle`` from ``created`` (``label`` names the create operation)."""
        values = [(binding, evaluate(binding.source, created)) for binding in lifecycle.bindings]
        body = evaluate(lifecycle.body, created) if lifecycle.body is not None else None
        if any(value is MISSING for _, value in values) or contains_missing(body):
            return []  # the create answer lacks what the link reads: the schema checks judge that answer
        prepared = self._prepare(lifecycle, values, body)
        what = f"{lifecycle.follow[0]} {lifecycle.follow[1]}"
        status: Any = None
        for poll in range(1, max(1, self.max_polls) + 1):
            response = self.session.send(prepared, timeout=self.timeout)
            self.last = response
            self.sent += 1
            if not 200 <= response.status_code < 300:
                return [
                    self._failure(
                        lifecycle,
                        label,
                        "lifecycle_found",
                        f"{what} lost what {label} created",
                        f"{what} answered {response.status_code}"
                        f"{' on poll ' + str(poll) if lifecycle.polls else ''} right after {label} answered"
                        f"{_created_id(created)}: {_excerpt(response)}",
                        prepared,
                    )
                ]
            answer = _json(response)
            if not lifecycle.polls:
                return self._expected_status(lifecycle, label, answer, prepared) + self._same_object(
                    lifecycle, label, created, answer, prepared
                )
            if not _is_json(response) or not isinstance(answer, dict):
                return []  # the poll answered the job's result itself (JSON lines, a file), not its status
            status = answer.get(lifecycle.status_field) if lifecycle.status_field else None
            if status in lifecycle.final:
                return []
            if poll < self.max_polls and self.poll_interval > 0:
                self.sleep(self.poll_interval)
        return [
            self._failure(
                lifecycle,
                label,
                "lifecycle_completes",
                f"the job {label} created never finished",
                f"after {self.max_polls} polls of {what} the {lifecycle.status_field} is still {status!r}; "
                f"expected one of {', '.join(lifecycle.final)}",
                prepared,
            )
        ]

    def _prepare(self, lifecycle: Lifecycle, values: list[tuple[Binding, Any]], body: Any) -> requests.PreparedRequest:
        method, path = lifecycle.follow
        query, headers = dict(self.params), dict(self.headers)
        for binding, value in values:
            text = value if isinstance(value, str) else json.dumps(value)
            if binding.location == "path":
                path = path.replace("{" + binding.name + "}", quote(text, safe=""))
            elif binding.location == "header":
                headers[binding.name] = text
            elif binding.location == "body":
                body = {**(body if isinstance(body, dict) else {}), binding.name: value}
            else:
                query[binding.name] = text
        url = self.base_url.rstrip("/") + path
        request = requests.Request(method, url, params=query, headers=headers, json=body)
        return self.session.prepare_request(request)

    def _expected_status(
        self, lifecycle: Lifecycle, label: str, answer: Any, prepared: requests.PreparedRequest
    ) -> list[Failure]:
        if not lifecycle.expected or not isinstance(answer, dict) or lifecycle.status_field not in answer:
            return []
        status = answer[lifecycle.status_field]
        if status in lifecycle.expected:
            return []
        what = f"{lifecycle.follow[0]} {lifecycle.follow[1]}"
        return [
            self._failure(
                lifecycle,
                label,
                "lifecycle_status",
                f"{what} left the job in the wrong status",
                f"{what} answered {lifecycle.status_field} {status!r}; expected one of {', '.join(lifecycle.expected)}",
                prepared,
            )
        ]

    def _same_object(
        self, lifecycle: Lifecycle, label: str, created: Created, answer: Any, prepared: requests.PreparedRequest
    ) -> list[Failure]:
        reads_id = any(binding.source == "$response.body#/id" for binding in lifecycle.bindings)
        made = created.response_body.get("id") if isinstance(created.response_body, dict) else None
        got = answer.get("id") if isinstance(answer, dict) else None
        if lifecycle.follow[0] != "GET" or not reads_id or made is None or got is None or got == made:
            return []
        return [
            self._failure(
                lifecycle,
                label,
                "lifecycle_same_object",
                f"{lifecycle.follow[0]} {lifecycle.follow[1]} answered another object",
                f"asked for {made!r} (created by {label}), answered id {got!r}",
                prepared,
            )
        ]

    def _failure(
        self,
        lifecycle: Lifecycle,
        label: str,
        check: str,
        title: str,
        message: str,
        prepared: requests.PreparedRequest,
    ) -> Failure:
        return Failure(
            operation=label,
            check=check,
            title=title,
            message=f"{message}\nlifecycle: {lifecycle.name}",
            pointer="",
            curl=curl(prepared, self.secret),
            exchange=_exchange(prepared, self.last, self.secret) if self.last is not None else None,
            cause=f"{check}:{lifecycle.name}",
        )


def _exchange(prepared: requests.PreparedRequest, response: requests.Response, secret: str | None) -> Exchange:
    body = prepared.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return Exchange(
        method=str(prepared.method),
        url=hide(str(prepared.url), secret),
        request_headers={name: hide(str(value), secret) for name, value in prepared.headers.items()},
        request_body=hide(text, secret) if text is not None else None,
        status=response.status_code,
        response_headers=dict(response.headers),
        response_body=response.text[:BODY_SHOWN] if response.content else None,
        elapsed=round(response.elapsed.total_seconds(), 4),
    )


def _is_json(response: requests.Response) -> bool:
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _created_id(created: Created) -> str:
    body = created.response_body
    if isinstance(body, dict):
        for key in ("id", "generation_id", "batch_id"):
            if isinstance(body.get(key), str):
                return f" {key} {body[key]!r}"
    return " 2xx"


def _excerpt(response: requests.Response) -> str:
    return response.text[:300] or "(empty body)"
