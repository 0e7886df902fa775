"""Routing: from a request path to an operation, compiled once from the spec's paths."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

TEMPLATE = re.compile(r"\{([^{}]+)\}")


@dataclass(slots=True)
class Route(Generic[T]):
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[str, ...]
    methods: dict[str, T] = field(default_factory=dict)
    literal: bool = False


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
        route = self._literal.get(template) or next((r for r in self._templated if r.template == template), None)
        if route is None:
            route = _compile(template)
            if route.literal:
                self._literal[template] = route
            else:
                self._templated.append(route)
        route.methods[method.upper()] = target

    def match(self, path: str, method: str) -> Match[T]:
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
        target = route.methods.get(method.upper())
        if target is None and method.upper() == "HEAD":
            target = route.methods.get("GET")
        return Match(route, target, parameters)

    def allowed(self, route: Route[T]) -> list[str]:
        return sorted(route.methods)


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
