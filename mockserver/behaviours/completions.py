"""Text completions: an answer to ``prompt``, as one object or as a stream of chunks.

Applies to an operation whose request body has ``prompt`` and whose success answer has ``choices``
whose items carry ``text`` (OpenAI's legacy ``/completions``, decided from the spec at load time).
The choices are planned as chat plans them (:func:`chat.plan_choices`: ``n``, the token budget,
``finish_reason: length``), each one's ``text`` a continuation of the prompt; the stream sends each
choice's text in pieces, then a chunk with its ``finish_reason``, then (when ``stream_options.include_usage``
asks for it, every chunk before carrying ``usage: null``) a chunk with no choices and the ``usage``, then the
spec's terminator, so the pieces add up to the plain answer's text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.responses import Response

from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.behaviours.chat import (
    ChatShapes,
    PlannedChoice,
    choice_shapes,
    chunk_event,
    filled_usage,
    plan_choices,
)
from apitwin.mockserver.behaviours.structured import Shape, shapes_for
from apitwin.mockserver.behaviours.text import pieces, prompt_tokens
from apitwin.mockserver.edits import DELETE, edit, quiet, settle
from apitwin.mockserver.operations import CompiledApi, Operation, is_json
from apitwin.specs.sse_wire import frame


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    shapes = shapes_for(api)
    if not any(
        is_json(media_type) and shapes.has(body.schema, "prompt") and not shapes.has(body.schema, "messages")
        for media_type, body in operation.bodies.items()
    ):
        return None
    success = operation.responses.get(operation.success_status())
    if success is None:
        return None
    plain = next((media for media_type, media in success.media.items() if is_json(media_type)), None)
    if plain is None or plain.schema is None or not shapes.has(plain.schema, "choices", "[]", "text"):
        return None
    found = choice_shapes(shapes, plain, success)

    async def behaviour(exchange: Exchange) -> Response | None:
        if not 200 <= exchange.status < 300 or exchange.media is None or not isinstance(exchange.body, dict):
            return None
        plan = plan_choices({key: value for key, value in exchange.body.items() if key != "tools"}, exchange.rng)
        if exchange.media.stream is not None:
            return _stream(exchange, found, plan)
        return _plain(exchange, found, plan)

    return behaviour


def _plain(exchange: Exchange, found: ChatShapes, plan: list[PlannedChoice]) -> Response | None:
    value = exchange.skeleton(skip=("choices",), shallow=True)
    if not isinstance(value, dict) or found.choice is None or exchange.media is None:
        return None
    choices = [_choice(exchange, found.choice, planned, planned.text or "", planned.finish_reason) for planned in plan]
    edits = [edit(value, "choices", choices)]
    if found.usage:
        prompt = prompt_tokens(exchange.body.get("prompt"))
        completion = sum(planned.tokens for planned in plan)
        usage = filled_usage(found.shapes, found.usage, value.get("usage"), prompt, completion, rng=exchange.rng)
        edits.append(edit(value, "usage", usage))
    return exchange.json(value, edits=edits)


def _choice(exchange: Exchange, shape: Shape, planned: PlannedChoice, text: str, finish: str | None) -> dict[str, Any]:
    choice = exchange.skeleton(shape.generator, "choice", shallow=True)
    if not isinstance(choice, dict):
        choice = {}
    edits = [
        edit(choice, "index", planned.index),
        edit(choice, "text", text),
        edit(choice, "finish_reason", finish) if finish is not None else edit(choice, "finish_reason", None, DELETE),
    ]
    edits += quiet(choice, [key for key in choice if key not in ("index", "text", "finish_reason")])
    return settle(choice, shape.validator, edits)


def _stream(exchange: Exchange, found: ChatShapes, plan: list[PlannedChoice]) -> Response | None:
    stream = exchange.media.stream if exchange.media is not None else None
    base = exchange.skeleton(stream.payload, "chunk", ("choices",)) if stream is not None else None
    if stream is None or not isinstance(base, dict) or found.chunk_choice is None:
        return None
    shape = found.chunk_choice
    options = exchange.body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True

    def frames() -> Iterator[bytes]:
        for planned in plan:
            for piece in pieces(planned.text or "", exchange.rng):
                yield chunk_event(exchange, base, [_choice(exchange, shape, planned, piece, None)], include_usage)
            yield chunk_event(
                exchange, base, [_choice(exchange, shape, planned, "", planned.finish_reason)], include_usage
            )
        if include_usage:
            prompt = prompt_tokens(exchange.body.get("prompt"))
            completion = sum(planned.tokens for planned in plan)
            usage = filled_usage(
                found.shapes, found.chunk_usage, base.get("usage"), prompt, completion, rng=exchange.rng
            )
            yield chunk_event(exchange, base, [], include_usage, usage)
        if stream.terminator is not None:
            yield frame(stream.terminator, None)

    return exchange.events(frames())
