"""Image generation: ``n`` images for a ``prompt``, as URLs or inline base64 as the caller asks.

Applies to an operation whose request has ``prompt`` and whose success answer has a ``data`` list
whose items declare ``url`` or ``b64_json``. The count is ``n``, or a property the document names in its
``x-apitwin-image-count`` list (an API's own spelling, ``num_images``); the form ``response_format`` (``url``, the
default, or ``b64_json``). The image is a real, small PNG whose colour depends on the prompt, the seed and the
image's position, so a client that decodes it gets a valid picture; a URL points at the mock itself
(``/_apitwin/media/<digest>.png``, kept in the state store as job results are) and serves that same
image, so a client that downloads it gets it.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from typing import Any

from starlette.responses import Response

from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.behaviours.jobs import MEDIA_KIND
from apitwin.mockserver.behaviours.structured import Shape, shapes_for
from apitwin.mockserver.edits import DELETE, edit, settle
from apitwin.mockserver.media import MEDIA_PREFIX
from apitwin.mockserver.operations import CompiledApi, Operation, is_json, seeded

COUNT_FIELDS = ("n",)
"""What the number of images asked for is called where the document does not say."""
COUNT_EXTENSION = "x-apitwin-image-count"
MAX_IMAGES = 10
SIDE = 8
"""Width and height of the generated PNG, in pixels."""


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    shapes = shapes_for(api)
    if not any(
        is_json(media_type) and shapes.has(body.schema, "prompt") for media_type, body in operation.bodies.items()
    ):
        return None
    success = operation.responses.get(operation.success_status())
    plain = next(
        (
            media
            for media_type, media in (success.media if success else {}).items()
            if is_json(media_type) and media.schema is not None
        ),
        None,
    )
    if plain is None:
        return None
    items = shapes.at(plain.schema, "data", "[]")
    if not any(shapes.has(item, "url") or shapes.has(item, "b64_json") for item in items):
        return None
    item_shape = shapes.first_shape(items)
    count_fields = COUNT_FIELDS + tuple(
        name for name in api.document.get(COUNT_EXTENSION) or () if isinstance(name, str)
    )

    async def behaviour(exchange: Exchange) -> Response | None:
        if (
            not 200 <= exchange.status < 300
            or exchange.media is not plain
            or not isinstance(exchange.body, dict)
            or item_shape is None
        ):
            return None
        body = exchange.body
        value = exchange.generate(skip=("data",))
        if not isinstance(value, dict):
            return None
        inline = body.get("response_format") == "b64_json"
        asked = body.get("prompt")
        prompt = asked if isinstance(asked, str) else ""
        images = [png(exchange.seed, prompt, index) for index in range(count(body, count_fields))]
        data = [_item(exchange, item_shape, image, inline, prompt) for image in images]
        if not inline:
            for image in images:
                await exchange.services.store.put(MEDIA_KIND, _name(image), _record(image))
        settle(value, exchange.answer_media.validator, [edit(value, "data", data)])
        return exchange.json(value)

    return behaviour


def count(body: dict[str, Any], fields: tuple[str, ...] = COUNT_FIELDS) -> int:
    """How many images ``body`` asks for (within ``MAX_IMAGES``), under the first of ``fields`` it sets."""
    for name in fields:
        value = body.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 1:
            return min(int(value), MAX_IMAGES)
    return 1


def png(seed: int, prompt: str, index: int) -> bytes:
    """A valid ``SIDE``×``SIDE`` RGB PNG of one colour drawn from the prompt, seed and position."""
    rng = seeded("image", seed, prompt, index)
    pixel = bytes(rng.randrange(256) for _ in range(3))
    rows = b"".join(b"\x00" + pixel * SIDE for _ in range(SIDE))
    header = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _name(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()[:32] + ".png"


def _record(image: bytes) -> dict[str, Any]:
    """What ``/_apitwin/media/<name>`` serves: these very bytes."""
    return {"extension": "png", "content": base64.b64encode(image).decode("ascii")}


def _item(exchange: Exchange, shape: Shape, image: bytes, inline: bool, prompt: str) -> dict[str, Any]:
    shapes_for_item = shapes_for(exchange.api)
    item = shape.generate(exchange.rng)
    if not isinstance(item, dict):
        item = {}
    encoded = base64.b64encode(image).decode("ascii")
    url = f"{exchange.base_url}{MEDIA_PREFIX}{_name(image)}"
    if inline:
        edits = [edit(item, "b64_json", encoded), edit(item, "url", DELETE, None)]
    else:
        edits = [edit(item, "url", url), edit(item, "b64_json", DELETE, None)]
    if "revised_prompt" in item or shapes_for_item.has(shape.schema, "revised_prompt"):
        edits.append(edit(item, "revised_prompt", prompt, DELETE))
    return settle(item, shape.validator, edits)
