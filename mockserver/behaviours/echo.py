"""Echoes: an answer repeats the settings of the request it answers.

A top-level property of a JSON success answer with the same name as a top-level property of the
request body is a setting the answer repeats (``model``, ``temperature``, ``tools``, ``text``,
``metadata``, …), provided the two mean the same thing: values drawn from the request's schema of it
fit the answer's schema of it (an OCR request's ``pages`` numbers are not the answer's ``pages``).
Per answer a setting is

- as sent, when the sent value fits the answer's schema (or does once the members the answer requires
  are filled in);
- absent from the request (or sent as a value the answer cannot carry, such as ``null``): the request
  schema's ``default`` (in the variant the body picks), or what
  the behaviour takes an absent value to mean (``assumed``);
- with neither: the plainest value the schemas allow: ``[]`` for a list, else ``null``, the first
  variant with only its required members, a number at the low end of the request's range.

A behaviour may say that a value only leaves the choice to the service (``served``): the answer then says what
the service chose (a Responses request's ``service_tier: "auto"`` is answered ``"default"``).

Decided from the spec once per answer media, never per vendor; applied with :func:`settle` together with
the behaviour's own edits, so an edit the answer's schema forbids is dropped and the generated value stays.
Every JSON answer a behaviour sends goes through it (:meth:`Exchange.json`); :func:`match` is the behaviour
of operations no other behaviour answers.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from apitwin.mockserver.behaviours.structured import Shape, Shapes, declared_default, request_variant, shapes_for
from apitwin.mockserver.edits import DELETE, Edit, edit
from apitwin.mockserver.operations import CompiledApi, Media, Operation, is_json

if TYPE_CHECKING:  # Exchange.json applies echoes: this module is imported by the one defining them
    from apitwin.mockserver.behaviours import Behaviour, Exchange

NOT_SETTINGS = frozenset({"stream", "stream_options"})
"""Request fields about how to deliver the answer, not settings of what it says."""
DRAWS = 6
"""Values drawn from a request property's schema to judge whether the answer's property means the same."""
_NO_VALUE = object()


@dataclass(slots=True)
class Setting:
    name: str
    request: Any
    """The request's schema of the setting (the first one the body's union declares)."""
    answer: Any
    """The answer's schema of it (every variant that declares it)."""
    fits: Shape
    """``answer`` compiled."""
    plain: tuple[Any, ...]
    """The plainest values for an absent setting without a default: those ``fits`` accepts first (see
    :func:`_fitting_first`), then the request's schema's before the answer's."""


@dataclass(slots=True)
class Echo:
    """The settings one answer media repeats, and how."""

    shapes: Shapes
    request_schema: Any
    settings: tuple[Setting, ...]
    _fallbacks: dict[str | None, list[tuple[Any, tuple[Any, ...]]]] = field(default_factory=dict)
    """Per variant of the request schema: each setting's declared default and the values after it (see
    :meth:`fallbacks`)."""

    def names(self) -> list[str]:
        return [setting.name for setting in self.settings]

    def edits(
        self,
        value: dict[str, Any],
        body: Mapping[str, Any],
        assumed: Mapping[str, Any] = {},
        served: Mapping[str, Mapping[str, Any]] = {},
    ) -> list[Edit]:
        """The edits that make ``value`` repeat ``body``'s settings. ``assumed``: what the behaviour takes an absent
        setting to mean; ``served``: per setting, what an answer says for a request's value that leaves the choice
        to the service (see :func:`served_as`)."""
        result = []
        for setting, (declared, plainer) in zip(self.settings, self.fallbacks(body), strict=True):
            name = setting.name
            if name in body:
                sent = served_as(served, name, body[name])
                if setting.fits.is_valid(sent):
                    result.append(edit(value, name, sent))
                    continue
                filled = completed(self.shapes, setting.answer, sent)
                if setting.fits.is_valid(filled):
                    result.append(edit(value, name, filled))
                    continue
            if name in assumed:  # what the behaviour takes an absent setting to mean, ``None`` (no limit) too
                result.append(edit(value, name, served_as(served, name, assumed[name]), *plainer))
            elif declared is None:
                result.append(edit(value, name, *plainer))
            else:
                result.append(edit(value, name, served_as(served, name, declared), *plainer))
        return result

    def fallbacks(self, body: Mapping[str, Any]) -> list[tuple[Any, tuple[Any, ...]]]:
        """Per setting, what stands in for it when ``body`` leaves it out: the default the request schema declares
        (in the variant ``body`` picks; None when none), and the plainest values, then none at all. The same for
        every request of a variant, so worked out once per variant (every answer asks)."""
        variant = request_variant(self.shapes, self.request_schema, body)
        found = self._fallbacks.get(variant)
        if found is None:
            found = self._fallbacks[variant] = [
                (declared_default(self.shapes, self.request_schema, variant, setting.name), (*setting.plain, DELETE))
                for setting in self.settings
            ]
        return found


def served_as(served: Mapping[str, Mapping[str, Any]], name: str, asked: Any) -> Any:
    """What an answer says for setting ``name`` asked as ``asked``: ``served[name][asked]`` where a request's value
    only leaves the choice to the service (OpenAI answers ``service_tier: "auto"`` with the tier that served it,
    ``"default"``), else ``asked`` itself."""
    meanings = served.get(name)
    return meanings.get(asked, asked) if meanings is not None and isinstance(asked, str) else asked


_cache: dict[int, tuple[Media, Echo | None]] = {}


def echo_of(api: CompiledApi, operation: Operation, media: Media) -> Echo | None:
    """The echo of ``media`` (an answer of ``operation``), worked out on first use and kept."""
    found = _cache.get(id(media))
    if found is not None and found[0] is media:
        return found[1]
    echo = echo_for(api, operation, media)
    _cache[id(media)] = (media, echo)
    return echo


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    """Answers of operations that repeat a setting: generated, then made to repeat the request's."""
    success = operation.responses.get(operation.success_status())
    if success is None or not any(echo_of(api, operation, media) for media in success.media.values()):
        return None

    async def behaviour(exchange: Exchange) -> Response | None:
        media = exchange.media
        if not 200 <= exchange.status < 300 or media is None or not isinstance(exchange.body, dict):
            return None
        if echo_of(exchange.api, exchange.operation, media) is None or media.generator is None:
            return None
        return exchange.json(exchange.generate())

    return behaviour


def echo_for(api: CompiledApi, operation: Operation, media: Media) -> Echo | None:
    """The echo of ``media`` (a JSON answer of ``operation``), or ``None`` when it repeats nothing."""
    if media.schema is None or media.stream is not None or not is_json(media.media_type):
        return None
    request = next((body for media_type, body in operation.bodies.items() if is_json(media_type)), None)
    if request is None:
        return None
    shapes = shapes_for(api)
    answered = _property_names(shapes, media.schema)
    settings = []
    for name in sorted(_property_names(shapes, request.schema) & answered - NOT_SETTINGS):
        setting = _setting(shapes, request.schema, media.schema, name)
        if setting is not None:
            settings.append(setting)
    return Echo(shapes, request.schema, tuple(settings)) if settings else None


def _property_names(shapes: Shapes, schema: Any) -> set[str]:
    return {name for member in shapes.members(schema) for name in (member.get("properties") or {})}


def _setting(shapes: Shapes, request_schema: Any, answer_schema: Any, name: str) -> Setting | None:
    asked = shapes.at(request_schema, name)
    answered = shapes.at(answer_schema, name)
    if not asked or not answered:
        return None
    answer = answered[0] if len(answered) == 1 else {"anyOf": answered}
    fits = shapes.shape(answer)
    drawn = shapes.shape(asked[0])
    if fits is None or drawn is None or not _same_meaning(shapes, drawn, answer, fits):
        return None
    candidates = (plainest(shapes, asked[0]), plainest(shapes, answered[0]))
    plain = _fitting_first(fits, [value for value in candidates if value is not _NO_VALUE])
    return Setting(name, asked[0], answer, fits, plain)


def _fitting_first(fits: Shape, values: list[Any]) -> tuple[Any, ...]:
    """``values`` with those ``fits`` accepts before those it rejects, each group in its order.

    An answer's edits are tried all at once first, and one by one only when the answer then fails: a spec whose
    request allows ``null`` for a setting its answer forbids (``temperature``, ``top_p``, ``tools`` in the
    openresponses and sequrity specs) would otherwise send every answer leaving the setting out edit by edit, to
    echo the same value the one-by-one pass settles on. A rejected value stays last, for an answer schema whose
    other variants may take it."""
    return tuple(sorted(values, key=lambda value: not fits.is_valid(value)))


def _same_meaning(shapes: Shapes, asked: Shape, answer: Any, fits: Shape) -> bool:
    """The answer's schema of the name says nothing or is the request's, or some value the request may carry,
    other than an empty one, is one the answer may carry (as sent, or with the members the answer requires
    filled in); a request schema that only ever draws empty values means the same when those fit."""
    target = shapes.deref(answer)
    if target is True or (isinstance(target, dict) and not set(target) - {"description", "title", "examples"}):
        return True
    if shapes.deref(asked.schema) is target:
        return True
    rng = random.Random(0)
    empty_fits = False
    for _ in range(DRAWS):
        value = asked.generate(rng)
        if value in (None, [], {}, ""):
            empty_fits = empty_fits or fits.is_valid(value)
            continue
        if fits.is_valid(value) or fits.is_valid(completed(shapes, answer, value)):
            return True
        empty_fits = False
        break
    return empty_fits


def completed(shapes: Shapes, schema: Any, value: Any, depth: int = 0) -> Any:
    """``value`` with the members ``schema`` requires and it lacks filled in with their plainest values
    (a request's tool ``{"type": "function", "name": …}`` as the answer lists it, ``strict`` and all)."""
    if depth > 6:
        return value
    if isinstance(value, list):
        items = [item for member in shapes.members(schema) if isinstance(item := member.get("items"), dict)]
        return [completed(shapes, items[0], item, depth + 1) for item in value] if items else value
    if not isinstance(value, dict):
        return value
    branch = _branch_for(shapes, schema, value)
    base = plainest(shapes, branch) if branch is not None else _NO_VALUE
    if not isinstance(base, dict):
        return value
    return {**base, **value}


def _branch_for(shapes: Shapes, schema: Any, value: dict[str, Any]) -> Any:
    """The union branch of ``schema`` whose ``type`` tag is ``value``'s (else the first object branch)."""
    branches = [branch for branch in shapes.branches(schema) if not _is_null(shapes, branch)]
    for branch in branches:
        if value.get("type") in shapes.tags(branch):
            return branch
    return branches[0] if branches else None


def plainest(shapes: Shapes, schema: Any, depth: int = 0) -> Any:
    """The simplest value ``schema`` describes (its default, null, empty, the first variant, the low end
    of a range; an object of its required members), or ``_NO_VALUE``; a candidate only: the caller
    validates it."""
    target = shapes.deref(schema)
    if depth > 8 or target is True or target == {}:
        return None
    if not isinstance(target, dict):
        return _NO_VALUE
    target = _merged(shapes, target)
    for keyword in ("default", "const"):
        if keyword in target:
            return target[keyword]
    if isinstance(target.get("enum"), list) and target["enum"]:
        return target["enum"][0]
    branches = (target.get("anyOf") or []) + (target.get("oneOf") or [])
    if "array" in _types(target) or any("array" in _types(_merged(shapes, shapes.deref(b) or {})) for b in branches):
        return []  # an empty list says "none" as clients expect it (OpenAI answers `tools: []`, not null)
    if any(_is_null(shapes, branch) for branch in branches) or _types(target) == {"null"}:
        return None
    if branches:
        return plainest(shapes, branches[0], depth + 1)
    merged = target
    types = _types(merged)
    if "null" in types:
        return None
    if "array" in types or "items" in merged:
        return []
    if "object" in types or "properties" in merged:
        properties = merged.get("properties") or {}
        result = {}
        for key in merged.get("required") or []:
            value = plainest(shapes, properties.get(key, {}), depth + 1)
            if value is not _NO_VALUE:
                result[key] = value
        return result
    if types & {"integer", "number"}:
        low = merged.get("minimum", merged.get("exclusiveMinimum", 0))
        return low + 1 if "exclusiveMinimum" in merged and "minimum" not in merged else low
    if "boolean" in types:
        return False
    if "string" in types:
        return ""
    return _NO_VALUE


def _is_null(shapes: Shapes, schema: Any) -> bool:
    target = shapes.deref(schema)
    return isinstance(target, dict) and _types(target) == {"null"}


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    return set(kind) if isinstance(kind, list) else set()


def _merged(shapes: Shapes, schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``allOf`` parts folded in (types, properties, required, ranges)."""
    parts = [shapes.deref(part) for part in schema.get("allOf") or []]
    if not parts:
        return schema
    merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
    for raw in parts:
        if not isinstance(raw, dict):
            continue
        for key, value in _merged(shapes, raw).items():
            if key == "properties":
                merged["properties"] = {**value, **(merged.get("properties") or {})}
            elif key == "required":
                merged["required"] = [*(merged.get("required") or []), *value]
            else:
                merged.setdefault(key, value)
    return merged
