"""Embeddings: one vector per input item, stable per text, in the encoding the caller asks for.

Applies to an operation whose request has ``input`` and whose success answer has a ``data`` list
whose items declare an ``embedding`` (or declare nothing, as a free-form list of objects) — and no
``choices``/``output`` (those are completions). The vector of a text depends only on the model, the
text and the seed (the same text embeds the same in any request); it has unit length. Its size is
``dimensions`` when given, else the default the request schema declares for the model, else the
documented size of a well-known model, else a size fixed per model name. ``encoding_format: base64``
answers little-endian float32 bytes in base64, as OpenAI does, where the schema allows a string there;
otherwise the floats.
"""

from __future__ import annotations

import base64
import functools
import struct
from typing import Any

from starlette.responses import Response

from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.behaviours.chat import filled_usage
from apitwin.mockserver.behaviours.structured import Shape, request_default, shapes_for
from apitwin.mockserver.behaviours.text import count_tokens
from apitwin.mockserver.behaviours.unit_vectors import unit_vector
from apitwin.mockserver.edits import DELETE, edit, settle
from apitwin.mockserver.operations import CompiledApi, Operation, is_json, seeded

SIZES = (256, 384, 512, 768, 1024, 1536)
"""Vector sizes a model without declared dimensions gets (one per model name, stable)."""
KNOWN_SIZES = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
"""The sizes OpenAI documents for its embedding models, which gateways serve under these names (also behind a
vendor prefix: ``openai/text-embedding-3-small``): a client sizing its vector store by the model gets them."""
MAX_DIMENSIONS = 8192
MAX_INPUTS = 2048


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    shapes = shapes_for(api)
    bodies = [
        (media_type, body)
        for media_type, body in operation.bodies.items()
        if is_json(media_type) and shapes.has(body.schema, "input")
    ]
    success = operation.responses.get(operation.success_status())
    plain = next(
        (
            media
            for media_type, media in (success.media if success else {}).items()
            if is_json(media_type) and media.schema is not None
        ),
        None,
    )
    if not bodies or plain is None or shapes.has(plain.schema, "choices") or shapes.has(plain.schema, "output"):
        return None
    items = shapes.at(plain.schema, "data", "[]")
    if not items or not all(shapes.has(item, "embedding") or _free_form(shapes, item) for item in items):
        return None
    item_shape = shapes.first_shape(items)
    usage = shapes.at(plain.schema, "usage")
    request_schema = bodies[0][1].schema

    async def behaviour(exchange: Exchange) -> Response | None:
        if (
            not 200 <= exchange.status < 300
            or exchange.media is not plain
            or not isinstance(exchange.body, dict)
            or item_shape is None
        ):
            return None
        body = exchange.body
        texts = inputs(body.get("input"))
        if texts is None:
            return None
        named = body.get("model")
        model = named if isinstance(named, str) else ""
        size = dimensions(body, request_default(shapes, request_schema, body, "dimensions"), model)
        base64_wanted = body.get("encoding_format") == "base64"
        value = exchange.skeleton(skip=("data",), shallow=True)
        if not isinstance(value, dict):
            return None
        data = [
            _item(exchange, item_shape, index, vector(exchange.seed, model, text, size), base64_wanted)
            for index, text in enumerate(texts)
        ]
        tokens = sum(len(text) if isinstance(text, list) else count_tokens(text) for text in texts)
        edits = [edit(value, "data", data), edit(value, "object", "list")]
        if model:
            edits.append(edit(value, "model", model))
        if usage:
            edits.append(
                edit(value, "usage", filled_usage(shapes, usage, value.get("usage"), tokens, 0, rng=exchange.rng))
            )
        return exchange.json(value, edits=edits)  # settled there with the echo's, in one validation

    return behaviour


def _free_form(shapes: Any, schema: Any) -> bool:
    return all(
        not member.get("properties") and not member.get("oneOf") and not member.get("anyOf")
        for member in shapes.members(schema)
    )


def inputs(value: Any) -> list[str | list[int]] | None:
    """The items to embed: a string, a token array, or a list of either (``None`` if neither)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value or len(value) > MAX_INPUTS:
        return None
    if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        return [value]
    if all(isinstance(item, (str, list)) for item in value):
        return value
    return None


def dimensions(body: dict[str, Any], declared_default: Any, model: str) -> int:
    for candidate in (body.get("dimensions"), declared_default):
        if isinstance(candidate, int) and not isinstance(candidate, bool) and 0 < candidate <= MAX_DIMENSIONS:
            return candidate
    return _size_of(model)


@functools.lru_cache(maxsize=256)
def _size_of(model: str) -> int:
    """The vector size of a model that declares none: its documented one (:data:`KNOWN_SIZES`), else one of SIZES,
    the same for every request naming it."""
    known = KNOWN_SIZES.get(model.rpartition("/")[2])
    return known if known is not None else seeded("dimensions", model).choice(SIZES)


def vector(seed: int, model: str, text: Any, size: int) -> list[float]:
    """The unit vector of ``text`` (float32 values, so both encodings carry the same numbers): the same for the
    same model, text and seed, whatever else the request says."""
    return unit_vector(f"embedding\x1f{seed}\x1f{model}\x1f{text!r}", size)


def encode_base64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


def _item(exchange: Exchange, shape: Shape, index: int, values: list[float], base64_wanted: bool) -> dict[str, Any]:
    item = exchange.skeleton(shape.generator, "data item", shallow=True)
    if not isinstance(item, dict):
        item = {}
    options = (encode_base64(values), values) if base64_wanted else (values,)
    edits = [edit(item, "object", "embedding"), edit(item, "index", index), edit(item, "embedding", *options)]
    edits += [edit(item, key, DELETE) for key in item if key not in ("object", "index", "embedding")]
    return settle(item, shape.validator, edits)
