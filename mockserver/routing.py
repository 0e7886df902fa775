"""Routing: from a request path to an operation, compiled once from the spec's paths.

A path template may carry a fixed query (OpenAI publishes ``/responses?beta=true`` beside
``/responses``): the request whose query has those values gets that operation, any other the
operation of the bare path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import parse_qs

T = TypeVar("T")

TEMPLATE = re.compile(r"\{([^{}]+)\}")


@dataclass(slots=True)
class Route(Generic[T]):
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[str, ...]
    methods: dict[str, T] = field(default_factory=dict)
    literal: bool = False
    variants: list[tuple[dict[str, list[str]], str, T]] = field(default_factory=list)
    """(fixed query, method, target) of the templates that add a query to this path."""


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
        template, _, fixed = template.partition("?")
        route = self._literal.get(template) or next((r for r in self._templated if r.template == template), None)
        if route is None:
            route = _compile(template)
            if route.literal:
                self._literal[template] = route
            else:
                self._templated.append(route)
        if fixed:
            route.variants.append((parse_qs(fixed, keep_blank_values=True), method.upper(), target))
        else:
            route.methods[method.upper()] = target

    def match(self, path: str, method: str, query: str = "") -> Match[T]:
        route = self._literal.get(path) or self._literal.get(path.rstrip("/") or "/")
        parameters: dict[str, str] = {}
        if route is None:
            for candidate in self._templated:
                found = candidate.pattern.fullmatch(path)
                if found:
                    route = candidate
                    parameters = {name: found.group(index + 1) for index, name in enumerate(candidate.parameters)}
                    break
        if route is None:
            return Match(None, None, {})
        target = _target(route, method.upper(), query)
        if target is None and method.upper() == "HEAD":
            target = _target(route, "GET", query)
        return Match(route, target, parameters)

    def allowed(self, route: Route[T]) -> list[str]:
        return sorted({*route.methods, *(method for _, method, _ in route.variants)})


def _target(route: Route[T], method: str, query: str) -> T | None:
    """The variant whose fixed query the request carries, else the bare path's operation, else the
    first variant (a path published only with its query)."""
    if not route.variants:  # most paths
        return route.methods.get(method)
    asked = parse_qs(query, keep_blank_values=True) if query else {}
    candidates = [(fixed, target) for fixed, variant_method, target in route.variants if variant_method == method]
    for fixed, target in candidates:
        if all(asked.get(key) == values for key, values in fixed.items()):
            return target
    if method in route.methods:
        return route.methods[method]
    return candidates[0][1] if candidates else None


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
