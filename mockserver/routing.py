"""Routing: from a request path to an operation, compiled once from the spec's paths.

A path template may carry a fixed query (OpenAI publishes ``/responses?beta=true`` beside
``/responses``): the request whose query has those values gets that operation, any other the
operation of the bare path.

A template may also carry a fragment, which never reaches a server: AWS publishes one operation
per ``/#X-Amz-Target=DynamoDB_20120810.GetItem`` or ``/#Action=DescribeInstances``, all on ``/``,
and the client says which in a header or the query. The fragment's ``name=value`` pairs select the
operation from either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import parse_qs, unquote

T = TypeVar("T")

TEMPLATE = re.compile(r"\{([^{}]+)\}")


@dataclass(slots=True)
class Route(Generic[T]):
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[str, ...]
    methods: dict[str, T] = field(default_factory=dict)
    literal: bool = False
    variants: list[Variant[T]] = field(default_factory=list)
    """The operations of the templates that add a query or a fragment to this path."""


@dataclass(slots=True)
class Variant(Generic[T]):
    fixed: dict[str, list[str]]
    method: str
    target: T
    in_headers: bool = False
    """A fragment's pairs: a header of that name may carry the value instead of the query."""

    def selected_by(self, asked: dict[str, list[str]], headers: Mapping[str, str]) -> bool:
        return all(
            asked.get(key) == values or self._in_header(key, values, headers) for key, values in self.fixed.items()
        )

    def _in_header(self, key: str, values: list[str], headers: Mapping[str, str]) -> bool:
        return self.in_headers and key.lower() in headers and [headers[key.lower()]] == values


@dataclass(slots=True)
class Match(Generic[T]):
    route: Route[T] | None
    target: T | None
    path_parameters: dict[str, str]

    @property
    def found_path(self) -> bool:
        return self.route is not None


class Router(Generic[T]):
    """Literal paths win over templated ones, as OpenAPI requires; within each, the spec's order."""

    def __init__(self) -> None:
        self._literal: dict[str, Route[T]] = {}
        self._templated: list[Route[T]] = []

    def add(self, template: str, method: str, target: T) -> None:
        template, _, fragment = template.partition("#")
        template, _, fixed = template.partition("?")
        template = template or "/"
        route = self._literal.get(template) or next((r for r in self._templated if r.template == template), None)
        if route is None:
            route = _compile(template)
            if route.literal:
                self._literal[template] = route
            else:
                self._templated.append(route)
        if fixed or fragment:
            pairs = {**parse_qs(fixed, keep_blank_values=True), **parse_qs(fragment, keep_blank_values=True)}
            route.variants.append(Variant(pairs, method.upper(), target, in_headers=bool(fragment)))
        else:
            route.methods[method.upper()] = target

    def match(self, path: str, method: str, query: str = "", headers: Mapping[str, str] | None = None) -> Match[T]:
        """``headers`` (lower-case names) select among a path's fragment operations; without them
        the first of those is the match, and its own validation says what the request lacks.

        A path whose route lacks the method goes on to the next route it matches (as starlette routes): vercel
        publishes ``DELETE /v2/secrets/{idOrName}`` beside ``POST /v2/secrets/{name}``, and ``/users/me`` may sit
        beside a ``DELETE /users/{id}``. Only when no route has the method is it the first route's 405."""
        method = method.upper()
        headers = headers or {}
        partial: Match[T] | None = None
        route = self._literal.get(path) or self._literal.get(path.rstrip("/") or "/")
        if route is not None:
            target = _method_target(route, method, query, headers)
            if target is not None:
                return Match(route, target, {})
            partial = Match(route, None, {})
        for candidate in self._templated:
            found = candidate.pattern.fullmatch(path)
            if found is None:
                continue
            parameters = {name: _decoded(found.group(index + 1)) for index, name in enumerate(candidate.parameters)}
            target = _method_target(candidate, method, query, headers)
            if target is not None:
                return Match(candidate, target, parameters)
            partial = partial or Match(candidate, None, parameters)
        return partial or Match(None, None, {})

    def allowed(self, route: Route[T]) -> list[str]:
        return sorted({*route.methods, *(variant.method for variant in route.variants)})


def from_raw(raw: str) -> str:
    """A percent-encoded path as the router reads it: every segment decoded, except that a ``/`` or ``%`` inside a
    segment stays encoded (``%2F``, ``%25``), so ``/images/editorial%2F123`` is two segments, its id one path
    parameter (shutterstock's ids carry slashes), decoded once matched. Every path given to :meth:`Router.match`
    is in this form."""
    if "%" not in raw:
        return raw
    return "/".join(unquote(segment).replace("%", "%25").replace("/", "%2F") for segment in raw.split("/"))


def from_decoded(path: str) -> str:
    """A decoded path (its encoded slashes lost) in the router's form."""
    return path.replace("%", "%25") if "%" in path else path


def _decoded(value: str) -> str:
    return unquote(value) if "%" in value else value


def _method_target(route: Route[T], method: str, query: str, headers: Mapping[str, str]) -> T | None:
    """The route's operation for ``method``; a HEAD is answered as its GET where the spec declares no HEAD."""
    target = _target(route, method, query, headers)
    if target is None and method == "HEAD":
        target = _target(route, "GET", query, headers)
    return target


def _target(route: Route[T], method: str, query: str, headers: Mapping[str, str]) -> T | None:
    """The variant the request's query (or, for a fragment, headers) selects, else the bare path's
    operation, else the first variant (a path published only with its query or fragment)."""
    if not route.variants:  # most paths
        return route.methods.get(method)
    asked = parse_qs(query, keep_blank_values=True) if query else {}
    candidates = [variant for variant in route.variants if variant.method == method]
    for variant in candidates:
        if variant.selected_by(asked, headers):
            return variant.target
    if method in route.methods:
        return route.methods[method]
    return candidates[0].target if candidates else None


def _compile(template: str) -> Route[T]:
    names = TEMPLATE.findall(template)
    if not names:
        return Route(template, re.compile(re.escape(template)), (), literal=True)
    pattern = ""
    position = 0
    for found in TEMPLATE.finditer(template):
        pattern += re.escape(template[position : found.start()])
        pattern += f"(?P<{_group(found.group(1))}>[^/]+)"
        position = found.end()
    pattern += re.escape(template[position:])
    return Route(template, re.compile(pattern + "/?"), tuple(names))


def _group(name: str) -> str:
    """Regex group names must be identifiers; parameter names need not be."""
    cleaned = re.sub(r"\W", "_", name)
    return cleaned if cleaned[:1].isalpha() else "p_" + cleaned
