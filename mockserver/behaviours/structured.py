"""Values that must satisfy a schema: the caller's (structured output, tool arguments) or the spec's.

Two jobs, both about drawing a value valid while giving it meaning:

- :func:`caller_value` draws a value valid against a JSON Schema the *caller* sent
  (``response_format.json_schema.schema``, a tool's ``parameters``) with the same generator that
  answers the spec, guarding against schemas that are broken or unsatisfiable.
- :class:`Shapes` looks inside a spec schema: the sub-schema at a property path, and the variants of a
  union keyed by their ``type`` tag (output items, stream events), compiled once and cached.

The edits a behaviour makes to a drawn value, each kept only where the schema allows it, are
:mod:`apitwin.mockserver.edits` (``edit``, ``settle``, ``quiet``, ``DELETE``).
"""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from apitwin.mockserver.generate import CompiledSchema, GenerationError, Generator
from apitwin.mockserver.operations import CompiledApi
from apitwin.specs.pointer import follow
from apitwin.specs.validation import FastValidator, SchemaChecker

MEMO_ENTRIES = 4096
"""What :meth:`Shapes.remember` keeps per API."""
CALLER_CACHE = 256
"""Compiled caller schemas kept (a client usually sends the same few schemas again and again)."""

# ---------------------------------------------------------------- caller schemas


@dataclass(slots=True)
class CallerSchema:
    generator: CompiledSchema | None
    validator: Validator | None


_caller_cache: OrderedDict[str, CallerSchema] = OrderedDict()


def caller_schema(schema: Any) -> CallerSchema:
    """The caller's JSON Schema compiled (cached); both parts ``None`` when it is unusable."""
    key = json.dumps(schema, sort_keys=True, default=str)
    found = _caller_cache.get(key)
    if found is not None:
        _caller_cache.move_to_end(key)
        return found
    found = _compile_caller(schema)
    _caller_cache[key] = found
    if len(_caller_cache) > CALLER_CACHE:
        _caller_cache.popitem(last=False)
    return found


def _compile_caller(schema: Any) -> CallerSchema:
    if not isinstance(schema, (dict, bool)):
        return CallerSchema(None, None)
    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)  # type: ignore[arg-type]  # a boolean is a schema too
        validator = cls(schema)
        validator.is_valid(None)  # resolves nothing yet; a broken $ref shows up on real values below
    except Exception:  # noqa: BLE001 -- a caller's schema can be broken in many ways; all mean "unusable"
        return CallerSchema(None, None)
    try:
        generator = Generator(schema if isinstance(schema, dict) else {}).compile(schema, "#")
    except (GenerationError, RecursionError, KeyError, TypeError, ValueError):
        generator = None
    return CallerSchema(generator, validator)


def caller_value(schema: Any, rng: random.Random, attempts: int = 3) -> tuple[bool, Any]:
    """(found, value): a value valid against the caller's schema, checked by a real validator."""
    compiled = caller_schema(schema)
    if compiled.generator is None or compiled.validator is None:
        return False, None
    for _ in range(attempts):
        try:
            value = compiled.generator.generate(rng)
            if compiled.validator.is_valid(value):
                return True, value
        except Exception:  # noqa: BLE001 -- an unresolvable $ref in the caller's schema surfaces here
            return False, None
    return False, None


def tool_arguments(parameters: Any, rng: random.Random) -> str | None:
    """JSON arguments valid against a tool's ``parameters`` schema; ``{}`` only when that validates; else None."""
    if parameters is None:
        parameters = {"type": "object"}
    found, value = caller_value(parameters, rng)
    if found:
        return json.dumps(value, ensure_ascii=False)
    validator = caller_schema(parameters).validator
    try:
        if validator is not None and validator.is_valid({}):
            return "{}"
    except Exception:  # noqa: BLE001 -- a caller's schema that cannot be used gives no arguments
        return None
    return None


@dataclass(slots=True)
class Call:
    name: str
    arguments: str


def plan_calls(tools: Any, tool_choice: Any, rng: random.Random) -> list[Call]:
    """The function calls a model makes for the offered ``tools`` under ``tool_choice``.

    ``none`` (or no tools) means no call; a named function means exactly that one; ``required``
    means at least one; ``auto`` (the default) calls a deterministic subset, possibly empty.
    """
    functions = [spec for spec in (_function(tool) for tool in tools or []) if spec is not None]
    if not functions or tool_choice == "none":
        return []
    forced = _forced_name(tool_choice)
    if forced is not None:
        functions = [spec for spec in functions if spec[0] == forced]
        chosen = functions[:1]
    elif tool_choice == "required" or isinstance(tool_choice, dict):
        chosen = _subset(functions, rng, at_least=1)
    else:
        chosen = _subset(functions, rng, at_least=0)
    calls = []
    for name, parameters in chosen:
        arguments = tool_arguments(parameters, rng)
        if arguments is not None:
            calls.append(Call(name, arguments))
    return calls


def _function(tool: Any) -> tuple[str, Any] | None:
    """(name, parameters) of a function tool in either shape: ``{function: {name, parameters}}`` or flat."""
    if not isinstance(tool, dict) or tool.get("type", "function") != "function":
        return None
    wrapped = tool.get("function")
    inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else tool
    name = inner.get("name")
    if not isinstance(name, str) or not name:
        return None
    return name, inner.get("parameters")


def _forced_name(tool_choice: Any) -> str | None:
    if not isinstance(tool_choice, dict):
        return None
    wrapped = tool_choice.get("function")
    inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else tool_choice
    name = inner.get("name")
    return name if isinstance(name, str) else None


def _subset(functions: list[tuple[str, Any]], rng: random.Random, at_least: int) -> list[tuple[str, Any]]:
    chosen = [spec for spec in functions if rng.random() < 0.5]
    if len(chosen) < at_least:
        chosen = [rng.choice(functions)]
    return chosen


# ---------------------------------------------------------------- inside the spec's schemas


@dataclass(slots=True)
class Shape:
    """A spec sub-schema, compiled: draw a value, judge a value."""

    schema: Any
    generator: CompiledSchema
    validator: Validator | FastValidator

    def generate(self, rng: random.Random) -> Any:
        return self.generator.generate(rng)

    def is_valid(self, value: Any) -> bool:
        return self.validator.is_valid(value)


@dataclass(slots=True)
class Shapes:
    """Sub-schemas of one API's document, found by property path or by ``type`` tag; compiled once."""

    document: dict[str, Any]
    checker: SchemaChecker
    generator: Generator = field(init=False)
    _compiled: dict[int, Shape | None] = field(default_factory=dict)
    _memo: dict[tuple[str, int, Any], tuple[Any, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.generator = Generator(self.document)

    def deref(self, schema: Any) -> Any:
        """``schema`` with its ``$ref`` chain followed (a dangling reference counts as no schema)."""
        return follow(self.document, schema)

    def members(self, schema: Any) -> list[dict[str, Any]]:
        """``schema`` and everything it is made of (``$ref`` targets, ``allOf``/``anyOf``/``oneOf`` parts)."""
        found: list[dict[str, Any]] = []
        self._members(schema, found, 0)
        return found

    def _members(self, schema: Any, found: list[dict[str, Any]], depth: int) -> None:
        schema = self.deref(schema)
        if not isinstance(schema, dict) or depth > 12 or any(item is schema for item in found):
            return
        found.append(schema)
        for keyword in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(keyword) or []:
                self._members(part, found, depth + 1)

    def at(self, schema: Any, *path: str) -> list[Any]:
        """The candidate sub-schemas at ``path`` (property names; ``[]`` steps into array items)."""
        current = [schema]
        for step in path:
            following = []
            for candidate in current:
                for member in self.members(candidate):
                    if step == "[]":
                        items = member.get("items")
                        if isinstance(items, (dict, bool)):
                            following.append(items)
                    else:
                        properties = member.get("properties") or {}
                        if step in properties:
                            following.append(properties[step])
            current = following
        return current

    def has(self, schema: Any, *path: str) -> bool:
        """Whether ``path`` is declared under ``schema`` (behaviours ask it per answer and per event)."""
        return bool(self.remember("has", schema, path, lambda: bool(self.at(schema, *path))))

    def remember(self, kind: str, schema: Any, detail: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, what ``kind`` says of ``schema`` (with ``detail``), worked out once per schema object.

        The object is kept with the answer, so its id is never reused by another; the memo is emptied when full,
        so a caller asking about ever new schema objects cannot grow it for ever."""
        key = (kind, id(schema), detail)
        known = self._memo.get(key)
        if known is not None and known[0] is schema:
            return known[1]
        value = compute()
        if len(self._memo) >= MEMO_ENTRIES:
            self._memo.clear()
        self._memo[key] = (schema, value)
        return value

    def branches(self, schema: Any) -> list[Any]:
        """The alternatives of a union (nested unions flattened); a non-union is its own one branch."""
        target = self.deref(schema)
        if not isinstance(target, dict):
            return []
        parts = target.get("oneOf") or target.get("anyOf")
        if not parts:
            return [schema]
        result = []
        for part in parts:
            result.extend(self.branches(part))
        return result

    def tags(self, schema: Any, name: str = "type") -> list[str]:
        """The values a branch's ``name`` property is limited to (its ``const`` or ``enum``)."""
        for candidate in self.at(schema, name):
            for member in self.members(candidate):
                if isinstance(member.get("const"), str):
                    return [member["const"]]
                enum = member.get("enum")
                if isinstance(enum, list) and enum and all(isinstance(value, str) for value in enum):
                    return list(enum)
        return []

    def variants(self, schemas: Iterable[Any], name: str = "type") -> dict[str, Shape]:
        """Compiled union branches by their ``type`` tag; a branch whose tag is an enum serves each of
        its values (the caller sets the tag). The first branch wins a repeated tag."""
        result: dict[str, Shape] = {}
        for schema in schemas:
            for branch in self.branches(schema):
                tags = [tag for tag in self.tags(branch, name) if tag not in result]
                shape = self.shape(branch) if tags else None
                if shape is not None:
                    result.update(dict.fromkeys(tags, shape))
        return result

    def shape(self, schema: Any) -> Shape | None:
        """``schema`` compiled (``None`` when nothing satisfies it)."""
        key = id(schema)
        if key in self._compiled:
            return self._compiled[key]
        try:
            shape: Shape | None = Shape(
                schema, self.generator.compile(schema, "#/behaviour"), self.checker.fast(schema)
            )
        except GenerationError:
            shape = None
        self._compiled[key] = shape
        return shape

    def first_shape(self, schemas: Sequence[Any]) -> Shape | None:
        for schema in schemas:
            shape = self.shape(schema)
            if shape is not None:
                return shape
        return None


def payload_schema(shapes: Shapes, media: Any) -> Any:
    """The JSON Schema of one event's payload (``data``'s ``contentSchema``) in the SSE convention."""
    for found in shapes.at(media.schema, "data"):
        data = shapes.deref(found)
        holder = data.get("else", data) if isinstance(data, dict) else {}
        if isinstance(holder, dict) and "contentSchema" in holder:
            return holder["contentSchema"]
    return None


_shapes: dict[int, Shapes] = {}


def shapes_for(api: CompiledApi) -> Shapes:
    """One :class:`Shapes` per served document (shared by all behaviours of the API)."""
    found = _shapes.get(id(api.document))
    if found is None or found.document is not api.document:
        found = _shapes[id(api.document)] = Shapes(api.document, api.checker)
    return found


def request_default(shapes: Shapes, schema: Any, body: Mapping[str, Any], name: str) -> Any:
    """The ``default`` the request schema declares for ``name`` (in the variant ``body`` picks, if a union).

    Asked per answer and per echoed setting, so what the schema says is looked up once and remembered."""
    variant = request_variant(shapes, schema, body)
    return shapes.remember("default", schema, (name, variant), lambda: declared_default(shapes, schema, variant, name))


def request_variant(shapes: Shapes, schema: Any, body: Mapping[str, Any]) -> str | None:
    """The ``$ref`` of the variant ``body`` picks when ``schema`` is a union with a mapped discriminator, else None."""
    property_name, mapping = shapes.remember("discriminator", schema, None, lambda: _discriminator(shapes, schema))
    tag = body.get(property_name) if property_name is not None else None
    chosen = mapping.get(tag) if isinstance(tag, str) else None
    return chosen if isinstance(chosen, str) else None


def _discriminator(shapes: Shapes, schema: Any) -> tuple[str | None, dict[str, Any]]:
    """(the property that picks a variant, its mapping) of a union with a mapped discriminator."""
    target = shapes.deref(schema)
    discriminator = target.get("discriminator") if isinstance(target, dict) else None
    if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
        return discriminator.get("propertyName") or "", discriminator["mapping"]
    return None, {}


def declared_default(shapes: Shapes, schema: Any, variant: str | None, name: str) -> Any:
    """The ``default`` of ``name`` in the request ``schema`` (or its ``variant``); None when none is declared."""
    for candidate in shapes.at(schema if variant is None else {"$ref": variant}, name):
        for member in shapes.members(candidate):
            if "default" in member:
                return member["default"]
    return None
