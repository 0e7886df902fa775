"""A spec compiled for serving: every operation's validators, generators and responses, built once.

The structure (routes, parameters, responses and their media) is built when the spec is loaded; the costly
parts — a native validator, a generator, an event stream's payload — are built the first time a request needs
them and kept. OpenAI's published spec has 288 operations: compiling them all took seconds of every start.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

import orjson

from apitwin.mockserver.base_path import server_path
from apitwin.mockserver.direction_views import views
from apitwin.mockserver.generate import CompiledSchema, GenerationError, Generator
from apitwin.mockserver.parameters import shape, style_of, types
from apitwin.mockserver.routing import Router
from apitwin.mockserver.xml_body import XmlCodec, is_xml
from apitwin.specs.pointer import follow, join
from apitwin.specs.validation import FastValidator, SchemaChecker
from apitwin.specs.walk import iter_operations

JSON_MEDIA_SUFFIXES = ("/json", "+json")
RESPONSE_OPTIONAL_RATE = 1.0


def is_json(media_type: str) -> bool:
    return media_type.split(";")[0].strip().endswith(JSON_MEDIA_SUFFIXES)


def sent_media_type(content_type: str | None) -> str:
    """The media type a request's Content-Type names (JSON when it names none), lower-case, without parameters."""
    return (content_type or "application/json").split(";")[0].strip().lower()


def answered_as(declared: str, schema: Any) -> str:
    """The media type an answer declared as ``declared`` is sent as.

    ``*/*`` or ``application/*`` names no media type a Content-Type can carry; published specs write
    them (most of all for errors) over schemas of JSON objects. Such an answer is JSON, unless its
    schema is a string: then text (``*/*``, ``text/*``) or bytes (``application/*``, ``format: binary``)."""
    base = declared.split(";")[0].strip().lower()
    if "*" not in base:
        return declared
    if base.startswith("text/"):
        return "text/plain"
    if not isinstance(schema, dict) or schema.get("type") == "string":
        binary = base == "application/*" or (isinstance(schema, dict) and schema.get("format") == "binary")
        return "application/octet-stream" if binary else "text/plain"
    return "application/json"


T = TypeVar("T")


class Deferred(Generic[T]):
    """A value built on first use, then kept (a validator, a generator)."""

    __slots__ = ("_build", "_value")

    def __init__(self, build: Callable[[], T]) -> None:
        self._build: Callable[[], T] | None = build
        self._value: T | None = None

    def get(self) -> T:
        if self._build is not None:
            self._value, self._build = self._build(), None
        return self._value  # type: ignore[return-value]  # built above: T, which may itself allow None

    @classmethod
    def ready(cls, value: T) -> Deferred[T]:
        deferred: Deferred[T] = cls(lambda: value)
        deferred.get()
        return deferred


@dataclass(slots=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    """The declared schema with the ``$ref``s that decide its types followed (``parameters.shape``)."""
    deferred_validator: Deferred[FastValidator]
    explode: bool
    style: str = "form"

    @property
    def validator(self) -> FastValidator:
        return self.deferred_validator.get()


@dataclass(slots=True)
class RequestBody:
    media_type: str
    schema: dict[str, Any]
    deferred_validator: Deferred[FastValidator]
    discriminator: str | None = None
    """Property that picks the variant (e.g. ``model``); validation then checks only that variant."""
    deferred_variants: Deferred[dict[str, FastValidator]] = field(default_factory=lambda: Deferred.ready({}))
    field_types: dict[str, set[str]] = field(default_factory=dict)
    """Declared JSON types of the top-level properties, for form fields (which arrive as strings)."""
    xml: XmlCodec | None = None
    """How an XML body reads as a value of the schema (XML media only)."""

    @property
    def validator(self) -> FastValidator:
        return self.deferred_validator.get()

    @property
    def variants(self) -> dict[str, FastValidator]:
        """A validator per discriminating value (empty without a discriminator mapping)."""
        return self.deferred_variants.get()


@dataclass(slots=True)
class EventStream:
    """A ``text/event-stream`` answer in apitwin's convention (see README, "Server-sent events")."""

    payload: CompiledSchema
    payload_validator: FastValidator
    event_names: tuple[str, ...]
    terminator: str | None


@dataclass(slots=True, eq=False, weakref_slot=True)  # compared and cached by identity
class Media:
    media_type: str
    schema: dict[str, Any] | None
    examples: dict[str, Any]
    deferred_generator: Deferred[CompiledSchema | None]
    deferred_validator: Deferred[FastValidator | None]
    deferred_stream: Deferred[EventStream | None]
    error_templates: dict[tuple[int, bool], Any] = field(default_factory=dict)
    """For an error media: the generated body an error answer starts from, chosen once per status
    (and whether violations are listed), see ``errors.error_answer``."""
    xml: XmlCodec | None = None
    """How a value of the schema is written as XML (XML media only)."""
    unanswerable: GenerationError | None = None
    """Why no value of the schema can be drawn (an unsatisfiable schema: ``type: null`` beside a oneOf of objects),
    once the generator was asked for and refused; answering then says so rather than sending an empty body."""

    @property
    def generator(self) -> CompiledSchema | None:
        """None without a schema, for an event stream (its payload has one), or when nothing can be drawn."""
        return self.deferred_generator.get()

    @property
    def validator(self) -> FastValidator | None:
        return self.deferred_validator.get()

    @property
    def stream(self) -> EventStream | None:
        """The event stream when this ``text/event-stream`` media follows apitwin's convention."""
        return self.deferred_stream.get()


@dataclass(slots=True)
class ResponseSpec:
    status: str
    description: str
    media: dict[str, Media]
    headers: dict[str, CompiledSchema]
    """Generators for the declared response headers, by header name."""


@dataclass(slots=True)
class Operation:
    api: str
    method: str
    path: str
    operation_id: str
    parameters: list[Parameter]
    body_required: bool
    bodies: dict[str, RequestBody]
    responses: dict[str, ResponseSpec]
    security: list[dict[str, list[str]]]
    query_names: frozenset[str] = frozenset()
    """Query parameters a request may carry: the declared ones and API keys the security schemes put there."""
    query_prefixes: tuple[str, ...] = ()
    """``name[`` of each deepObject query parameter: ``name[key]=…`` is declared by it."""
    query_open: bool = False
    """An exploded ``form`` object parameter takes properties it does not list: any query key can be one of them."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def response_for(self, status: int) -> ResponseSpec | None:
        """The declared response for a status: exact code, then ``4XX``-style range, then ``default``."""
        return (
            self.responses.get(str(status))
            or self.responses.get(f"{str(status)[0]}XX")
            or self.responses.get("default")
        )

    def build_deferred(self) -> None:
        """Build now what this operation builds on first use (validators, generators, event streams). A part that
        fails to build is left to fail where it is used, as it would have."""
        parts: list[Deferred[Any]] = [parameter.deferred_validator for parameter in self.parameters]
        for body in self.bodies.values():
            parts += (body.deferred_validator, body.deferred_variants)
        for response in self.responses.values():
            for media in response.media.values():
                parts += (media.deferred_generator, media.deferred_validator, media.deferred_stream)
        for part in parts:
            with contextlib.suppress(Exception):
                part.get()

    def success_status(self) -> str:
        declared = sorted(code for code in self.responses if code[0] == "2" and code[1:].isdigit())
        if declared:
            return declared[0]
        if "2XX" in self.responses:
            return "2XX"
        if "default" in self.responses:  # "every other status": a success (200) where no 2xx is listed
            return "default"
        redirects = sorted(code for code in self.responses if code[0] == "3" and code[1:].isdigit())
        return redirects[0] if redirects else next(iter(self.responses))


@dataclass(slots=True)
class CompiledApi:
    name: str
    document: dict[str, Any]
    router: Router[Operation]
    operations: list[Operation]
    checker: SchemaChecker
    security_schemes: dict[str, dict[str, Any]]
    fallback_errors: dict[str, ResponseSpec]
    """Error responses for requests that match no operation (404, 405): the API's most common shapes."""
    base_path: str = ""
    """The path of the spec's first server (``/v1``): operations are served under it as well as at the root."""


def compile_api(name: str, document: dict[str, Any]) -> CompiledApi:
    checker = SchemaChecker(document)
    # Real servers send whole objects and fill nullable fields: optional fields are absent, and
    # nullable ones null, only where the depth budget ends (the client-robustness strategies in
    # contracts.strategies draw the sparse shapes).
    sent, answered = views(document)
    generator = Generator(answered, optional_rate=RESPONSE_OPTIONAL_RATE, null_rate=0.0)
    answer_checker = checker if answered is document else SchemaChecker(answered)
    sent_checker = checker if sent is document else SchemaChecker(sent)
    router: Router[Operation] = Router()
    operations = []
    global_security = document.get("security") or []
    for path, method, raw in iter_operations(document):
        item = document["paths"][path]
        operation = Operation(
            api=name,
            method=method.upper(),
            path=path,
            operation_id=raw.get("operationId") or f"{method} {path}",
            parameters=_parameters(
                document, checker, [*(item.get("parameters") or []), *(raw.get("parameters") or [])]
            ),
            body_required=bool((follow(document, raw.get("requestBody")) or {}).get("required")),
            bodies=_bodies(sent, sent_checker, follow(sent, sent["paths"][path][method].get("requestBody"))),
            responses=_responses(
                answered, answer_checker, generator, answered["paths"][path][method], join("#", "paths", path, method)
            ),
            security=raw.get("security", global_security),
        )
        query = [parameter for parameter in operation.parameters if parameter.location == "query"]
        fixed = list(parse_qs(path.partition("?")[2], keep_blank_values=True))  # ``/responses?beta=true``
        operation.query_names = frozenset(
            [parameter.name for parameter in query] + _exploded_properties(query) + _query_keys(document) + fixed
        )
        operation.query_prefixes = tuple(f"{p.name}[" for p in query if p.style == "deepObject")
        operation.query_open = any(_takes_any_key(parameter) for parameter in query)
        operations.append(operation)
        router.add(path, method, operation)
    return CompiledApi(
        name=name,
        document=document,
        router=router,
        operations=operations,
        checker=checker,
        security_schemes=(document.get("components") or {}).get("securitySchemes") or {},
        fallback_errors=_fallback_errors(operations),
        base_path=server_path(document),
    )


def _exploded_properties(query: list[Parameter]) -> list[str]:
    """An exploded ``form`` object sends each of its properties as a query parameter of its own."""
    names: list[str] = []
    for parameter in query:
        if parameter.style == "form" and parameter.explode and types(parameter.schema) == {"object"}:
            names += list(parameter.schema.get("properties") or {})
    return names


def _takes_any_key(parameter: Parameter) -> bool:
    schema = parameter.schema
    exploded_object = parameter.style == "form" and parameter.explode and types(schema) == {"object"}
    return exploded_object and schema.get("additionalProperties", True) is not False


def _query_keys(document: dict[str, Any]) -> list[str]:
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    return [
        scheme["name"]
        for scheme in schemes.values()
        if isinstance(scheme, dict)
        and scheme.get("type") == "apiKey"
        and scheme.get("in") == "query"
        and "name" in scheme
    ]


def _parameters(document: dict[str, Any], checker: SchemaChecker, raw: list[Any]) -> list[Parameter]:
    by_key: dict[tuple[str, str], Parameter] = {}
    for entry in raw:
        parameter = follow(document, entry)
        if not isinstance(parameter, dict) or "name" not in parameter:
            continue
        schema = parameter.get("schema") or {}
        location = parameter.get("in", "query")
        name = parameter["name"].lower() if location == "header" else parameter["name"]
        style = style_of(location, parameter.get("style"))
        by_key[(location, name)] = Parameter(
            name=name,
            location=location,
            required=bool(parameter.get("required")) or location == "path",
            schema=shape(document, schema),
            deferred_validator=Deferred(partial(checker.fast, schema)),
            explode=bool(parameter.get("explode", style == "form")),
            style=style,
        )
    return list(by_key.values())


def _bodies(document: dict[str, Any], checker: SchemaChecker, body: Any) -> dict[str, RequestBody]:
    if not isinstance(body, dict):
        return {}
    result = {}
    for media_type, media in (body.get("content") or {}).items():
        schema = (media or {}).get("schema") or {}
        compiled = RequestBody(media_type, schema, Deferred(partial(checker.fast, schema)))
        if is_xml(media_type):
            compiled.xml = XmlCodec(schema, document)
        target = follow(document, schema)
        if isinstance(target, dict) and not is_json(media_type):
            compiled.field_types = _field_types(document, target)
        discriminator = target.get("discriminator") if isinstance(target, dict) else None
        if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
            compiled.discriminator = discriminator["propertyName"]
            compiled.deferred_variants = Deferred(partial(_variant_validators, checker, discriminator["mapping"]))
        result[media_type] = compiled
    return result


def _variant_validators(checker: SchemaChecker, mapping: dict[str, Any]) -> dict[str, FastValidator]:
    return {value: checker.fast({"$ref": ref}) for value, ref in mapping.items()}


def _implied_types(schema: dict[str, Any]) -> set[str]:
    """The type a schema without ``type`` still implies (``properties``: an object, ``items``: an array)."""
    return {"object"} if "properties" in schema else {"array"} if "items" in schema else set()


def _field_types(document: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> dict[str, set[str]]:
    """Field types of an object schema, merged over the branches of a union (per-model variants)."""
    result: dict[str, set[str]] = {}
    for member in [*(schema.get("oneOf") or []), *(schema.get("anyOf") or []), *(schema.get("allOf") or [])]:
        branch = follow(document, member)
        if isinstance(branch, dict) and depth < 4:
            for name, types in _field_types(document, branch, depth + 1).items():
                result.setdefault(name, set()).update(types)
    for name, declared_prop in (schema.get("properties") or {}).items():
        prop = follow(document, declared_prop)
        if not isinstance(prop, dict):
            continue
        declared = prop.get("type")
        types = set(declared) if isinstance(declared, list) else {declared} if isinstance(declared, str) else set()
        for member in [*(prop.get("anyOf") or prop.get("oneOf") or []), *(prop.get("allOf") or [])]:
            branch = follow(document, member)
            if isinstance(branch, dict) and isinstance(branch.get("type"), str):
                types.add(branch["type"])
            elif isinstance(branch, dict):
                types |= _implied_types(branch)
        if not types:
            types = _implied_types(prop)
        if types:
            result.setdefault(name, set()).update(types)
    return result


def _responses(
    document: dict[str, Any], checker: SchemaChecker, generator: Generator, raw: dict[str, Any], pointer: str
) -> dict[str, ResponseSpec]:
    result = {}
    for status, entry in (raw.get("responses") or {}).items():
        response = follow(document, entry) or {}
        media = {}
        for media_type, definition in (response.get("content") or {}).items():
            media[media_type] = _media(
                document,
                checker,
                generator,
                media_type,
                definition or {},
                join(pointer, "responses", status, "content", media_type),
            )
        headers = {}
        for name, declared_header in (response.get("headers") or {}).items():
            header = follow(document, declared_header) or {}
            if isinstance(header.get("schema"), dict):
                headers[name] = generator.compile(
                    header["schema"], join(pointer, "responses", status, "headers", name, "schema")
                )
        key = "default" if str(status) == "default" else str(status).upper()
        result[key] = ResponseSpec(key, response.get("description", ""), media, headers)
    return result


def _media(
    document: dict[str, Any],
    checker: SchemaChecker,
    generator: Generator,
    media_type: str,
    definition: dict[str, Any],
    pointer: str,
) -> Media:
    schema = definition.get("schema")
    media_type = answered_as(media_type, schema)
    examples = {}
    if "example" in definition:
        examples["example"] = definition["example"]
    for name, declared_example in (definition.get("examples") or {}).items():
        example = follow(document, declared_example)
        if isinstance(example, dict) and "value" in example:
            examples[name] = example["value"]
    if schema is None:
        return Media(media_type, None, examples, Deferred.ready(None), Deferred.ready(None), Deferred.ready(None))
    if media_type.startswith("text/event-stream"):
        stream = Deferred(partial(_event_stream, generator, checker, schema, pointer))
    else:
        stream = Deferred.ready(None)

    def draw() -> CompiledSchema | None:
        if stream.get() is not None:
            return None
        try:
            return generator.compile(schema, join(pointer, "schema"))
        except GenerationError as error:
            media.unanswerable = error
            return None

    media = Media(media_type, schema, examples, Deferred(draw), Deferred(partial(checker.fast, schema)), stream)
    if is_xml(media_type):
        media.xml = XmlCodec(schema, document)
    return media


def _event_stream(
    generator: Generator, checker: SchemaChecker, schema: dict[str, Any], pointer: str
) -> EventStream | None:
    event = follow(generator.document, schema)
    properties = event.get("properties") or {} if isinstance(event, dict) else {}
    # normalise may have hoisted repeated inline parts (the ``event`` enum, say) into components
    data = follow(generator.document, properties.get("data")) or {}
    payload_holder = data.get("else", data)
    content_schema = payload_holder.get("contentSchema")
    if content_schema is None:
        return None
    terminator = (data.get("if") or {}).get("const")
    names = tuple((follow(generator.document, properties.get("event")) or {}).get("enum") or ())
    compiled = generator.compile(content_schema, join(pointer, "schema", "properties", "data", "contentSchema"))
    return EventStream(compiled, checker.fast(content_schema), names, terminator)


def _fallback_errors(operations: list[Operation]) -> dict[str, ResponseSpec]:
    """For each error status, the response most operations declare for it (ties: the first seen)."""
    counts: dict[str, dict[str, tuple[int, ResponseSpec]]] = {}
    for operation in operations:
        for status, response in operation.responses.items():
            if status[0] not in "45" and status != "default":
                continue
            key = repr(sorted((m, repr(media.schema)) for m, media in response.media.items()))
            seen = counts.setdefault(status, {})
            count, _ = seen.get(key, (0, response))
            seen[key] = (count + 1, response)
    return {status: max(candidates.values(), key=lambda pair: pair[0])[1] for status, candidates in counts.items()}


DELIVERY_FIELDS = frozenset({"stream", "stream_options"})
"""Request fields that say how an answer is delivered, not what it says."""


def answer_random(seed: int, method: str, path: str, query: str, raw: bytes, parsed: Any = None) -> random.Random:
    """The one random source of an answer: every value drawn for it (its text, ids, headers) comes from here.

    Determined by the seed and the request; a JSON body (``parsed``) counts as parsed, without its
    :data:`DELIVERY_FIELDS` and whatever the order of its keys, so a streamed answer and a plain one to the same
    request say the same. Any other body (a form, an upload; JSON that orjson cannot write, such as integers
    beyond 64 bits) counts as the bytes it arrived as. Seeding a Mersenne Twister costs about 5 µs, so an answer
    seeds one, never one per part.
    """
    body = raw
    if parsed is not None:
        if isinstance(parsed, dict):
            parsed = {key: value for key, value in parsed.items() if key not in DELIVERY_FIELDS}
        with contextlib.suppress(TypeError):
            body = orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS)
    request = f"{seed}\x1f{method}\x1f{path}\x1f{query}\x1f".encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(request + body).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def seeded(*parts: Any) -> random.Random:
    """A random source determined by the parts (request and seed): same parts, same stream."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8", "surrogatepass")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
