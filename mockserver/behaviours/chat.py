"""Chat completions: an answer to ``messages``, as one object or as a stream of chunks.

Applies to an operation whose request body has ``messages`` and whose success answer has
``choices`` (decided from the spec at load time). Per request it plans the choices — text drawn
from the request (:mod:`.text`), JSON valid against ``response_format``'s schema, or calls of the
offered tools (:mod:`.structured`) — and cuts them at ``max_completion_tokens``/``max_tokens``
(``finish_reason: length``). The plain answer and the stream carry the same plan, so the deltas of
a stream add up to the plain answer's content. Every value starts as the generator's and only what
the request determines is changed, within what the schema allows.

Stream shape (as OpenAI sends it): per choice, a first chunk whose delta carries the role, then
the content (or tool-call arguments) in token-like pieces, then an empty delta with the
``finish_reason``; with ``stream_options.include_usage`` every chunk has ``usage: null`` and a last
chunk with no choices carries the usage; then the spec's terminator (``[DONE]``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.behaviours.chunk_frames import TextFrames, text_frames
from apitwin.mockserver.behaviours.content import call_tokens, message_content, within
from apitwin.mockserver.behaviours.skeleton import copy_json
from apitwin.mockserver.behaviours.structured import Call, Shape, Shapes, payload_schema, plan_calls, shapes_for
from apitwin.mockserver.behaviours.text import pieces, prompt_tokens
from apitwin.mockserver.edits import DELETE, Edit, edit, quiet, settle
from apitwin.mockserver.generate_types import HEX, random_chars
from apitwin.mockserver.operations import CompiledApi, Media, Operation, ResponseSpec, is_json
from apitwin.specs.sse_wire import frame

MAX_CHOICES = 16
"""More choices than this are answered with this many (the spec's own bounds apply first)."""
MESSAGE_KEYS = ("role", "content", "tool_calls")
USAGE_TOTALS = ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens", "total_tokens")


@dataclass(slots=True)
class PlannedChoice:
    index: int
    text: str | None
    calls: list[Call]
    finish_reason: str
    tokens: int
    call_ids: list[str] = field(default_factory=list)
    """The id of each call (``call_`` and 24 hex digits), drawn with the plan so a stream carries the same."""


@dataclass(slots=True)
class ChatShapes:
    """What the behaviour needs from the spec, found once at load time."""

    shapes: Shapes
    choice: Shape | None
    chunk_choice: Shape | None
    usage: list[Any] = field(default_factory=list)
    chunk_usage: list[Any] = field(default_factory=list)


def choice_shapes(shapes: Shapes, plain: Media, success: ResponseSpec) -> ChatShapes:
    """The choice and usage shapes of a plain answer and of its stream's chunks (chat and text completions)."""
    stream = next((media for media in success.media.values() if media.stream is not None), None)
    payload = payload_schema(shapes, stream) if stream is not None else None
    return ChatShapes(
        shapes=shapes,
        choice=shapes.first_shape(shapes.at(plain.schema, "choices", "[]")),
        chunk_choice=shapes.first_shape(shapes.at(payload, "choices", "[]")) if payload is not None else None,
        usage=shapes.at(plain.schema, "usage"),
        chunk_usage=shapes.at(payload, "usage") if payload is not None else [],
    )


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    shapes = shapes_for(api)
    if not any(
        is_json(media_type) and shapes.has(body.schema, "messages") for media_type, body in operation.bodies.items()
    ):
        return None
    success = operation.responses.get(operation.success_status())
    if success is None:
        return None
    plain = _json_media(success.media)
    if plain is None or not shapes.has(plain.schema, "choices"):
        return None
    found = choice_shapes(shapes, plain, success)

    async def behaviour(exchange: Exchange) -> Response | None:
        if not 200 <= exchange.status < 300 or exchange.media is None or not isinstance(exchange.body, dict):
            return None
        plan = plan_choices(exchange.body, exchange.rng)
        if exchange.media.stream is not None:
            return _stream(exchange, found, plan)
        if exchange.media.validator is None or not is_json(exchange.media.media_type):
            return None
        return _plain(exchange, found, plan)

    return behaviour


def _json_media(media: dict[str, Media]) -> Media | None:
    return next((item for media_type, item in media.items() if is_json(media_type) and item.schema is not None), None)


# ---------------------------------------------------------------- planning


def plan_choices(body: dict[str, Any], rng: random.Random) -> list[PlannedChoice]:
    """The choices of the answer to ``body``, the first draws from the answer's random source (which the request's
    delivery fields do not change), so the plain and the streamed answer carry the same ones."""
    asked = body.get("n")
    count = asked if isinstance(asked, int) and not isinstance(asked, bool) else 1
    limit = _limit(body)
    result = []
    for index in range(max(1, min(count, MAX_CHOICES))):
        calls = plan_calls(body.get("tools"), body.get("tool_choice", "auto"), rng)
        if calls:
            ids = [f"call_{random_chars(rng, HEX, 24)}" for _ in calls]
            result.append(PlannedChoice(index, None, calls, "tool_calls", call_tokens(calls), ids))
            continue
        text, cut, tokens = within(*_content(body, rng), limit)
        result.append(PlannedChoice(index, text, [], "length" if cut else "stop", tokens))
    return result


def _limit(body: dict[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _content(body: dict[str, Any], rng: Any) -> tuple[str, int | None]:
    """The message's text as ``response_format`` asks (its schema under ``json_schema.schema``)."""
    response_format = body.get("response_format")
    holder = response_format.get("json_schema") if isinstance(response_format, dict) else None
    return message_content(response_format, holder.get("schema") if isinstance(holder, dict) else None, rng)


def usage_numbers(body: dict[str, Any], plan: list[PlannedChoice]) -> tuple[int, int]:
    return prompt_tokens(body.get("messages")), sum(choice.tokens for choice in plan)


def filled_usage(
    shapes: Shapes,
    schemas: list[Any],
    base: Any,
    prompt: int,
    completion: int,
    details: dict[str, int] | None = None,
    rng: Any = None,
) -> dict[str, Any]:
    """``base`` (a generated usage; drawn from ``schemas`` when absent) saying ``prompt``/``completion``/total,
    with every detail count zero unless ``details`` gives it. What ``schemas`` declare and what ``base`` holds are
    looked up once (:class:`UsageLayout`; behaviours keep their schemas, the fast path its skeletons), not per
    answer."""
    if not isinstance(base, dict) and rng is not None:
        shape = shapes.remember("usage shape", schemas, None, lambda: _usage_shape(shapes, schemas))
        base = shape.generate(rng) if shape is not None else None
    layout = _usage_layout(shapes, schemas, base if isinstance(base, dict) else NO_USAGE)
    usage = dict(layout.zeroed)
    for key, names in layout.details:  # copies: the zeroed objects are the layout's
        detail = usage[key] = dict(usage[key])
        if details:
            for name in names:
                detail[name] = details.get(name, 0)
    numbers = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
    }
    for key in layout.counts:
        usage[key] = numbers[key]
    return usage


@dataclass(slots=True, frozen=True)
class UsageLayout:
    """What filling a usage drawn as a given ``base`` changes: the same for every answer that starts from it."""

    zeroed: dict[str, Any]
    """``base`` with every count of its detail objects zero (never handed out: callers get copies)."""
    details: tuple[tuple[str, tuple[str, ...]], ...]
    """(key, its counts) of each detail object."""
    counts: tuple[str, ...]
    """The token totals the usage carries (in ``base`` or declared by its schemas), in the order they are set."""


NO_USAGE: dict[str, Any] = {}
"""The base of a usage none was drawn for."""
LAYOUTS_KEPT = 256
"""Usage layouts kept: one per kept skeleton's usage in use; the slow path's fresh ones only pass through."""
_layouts: dict[tuple[int, int], tuple[dict[str, Any], list[Any], UsageLayout]] = {}


def _usage_layout(shapes: Shapes, schemas: list[Any], base: dict[str, Any]) -> UsageLayout:
    """The layout of ``base`` filled for ``schemas``, worked out on first use and kept with both (so neither id
    passes to another object while the entry lives). ``base`` is never changed: a kept skeleton's is only read."""
    known = _layouts.get((id(base), id(schemas)))
    if known is not None and known[0] is base and known[1] is schemas:
        return known[2]
    layout = _new_layout(shapes, schemas, base)
    if len(_layouts) >= LAYOUTS_KEPT:
        _layouts.clear()
    _layouts[(id(base), id(schemas))] = (base, schemas, layout)
    return layout


def _new_layout(shapes: Shapes, schemas: list[Any], base: dict[str, Any]) -> UsageLayout:
    zeroed: dict[str, Any] = dict(base)
    details = []
    for key, part in base.items():
        if isinstance(part, dict):
            names = tuple(
                name for name, value in part.items() if isinstance(value, int) and not isinstance(value, bool)
            )
            zeroed[key] = {**part, **dict.fromkeys(names, 0)}
            details.append((key, names))
    declared = shapes.remember("usage names", schemas, None, lambda: _declared_names(shapes, schemas, USAGE_TOTALS))
    counts = tuple(name for name in USAGE_TOTALS if name in base or name in declared)
    return UsageLayout(zeroed, tuple(details), counts)


def _usage_shape(shapes: Shapes, schemas: list[Any]) -> Shape | None:
    return shapes.first_shape(
        [member for schema in schemas for member in shapes.members(schema) if "properties" in member]
    )


def _declared_names(shapes: Shapes, schemas: list[Any], names: Iterable[str]) -> frozenset[str]:
    return frozenset(name for name in names if any(shapes.has(schema, name) for schema in schemas))


# ---------------------------------------------------------------- the plain answer


def _plain(exchange: Exchange, found: ChatShapes, plan: list[PlannedChoice]) -> Response | None:
    value = exchange.skeleton(skip=("choices",), shallow=True)
    if not isinstance(value, dict) or found.choice is None:
        return None
    body = exchange.body
    choices = [_choice(exchange, found.choice, item) for item in plan]
    edits = [edit(value, "choices", choices)]
    if isinstance(body.get("model"), str):
        edits.append(edit(value, "model", body["model"]))
    if found.usage:
        edits.append(
            edit(
                value,
                "usage",
                filled_usage(
                    found.shapes, found.usage, value.get("usage"), *usage_numbers(body, plan), rng=exchange.rng
                ),
            )
        )
    return exchange.json(value, edits=edits)


def _choice(exchange: Exchange, shape: Shape, planned: PlannedChoice) -> dict[str, Any]:
    choice = exchange.skeleton(shape.generator, "choice", shallow=True)
    if not isinstance(choice, dict):
        choice = {}
    drawn = choice.get("message")
    message: dict[str, Any] = dict(drawn) if isinstance(drawn, dict) else {}  # its keys are edited below
    choice["message"] = message
    quick = _quick_choice(shape, choice, message, planned) if exchange.fast else None
    if quick is not None:
        return quick
    edits = [edit(choice, "index", planned.index), edit(choice, "finish_reason", planned.finish_reason)]
    edits += quiet(choice, ["logprobs"])
    edits.append(edit(message, "role", "assistant"))
    if planned.calls:
        calls = [_tool_call(planned, position, call) for position, call in enumerate(planned.calls)]
        edits += [edit(message, "content", None, DELETE, ""), edit(message, "tool_calls", calls)]
    else:
        edits.append(edit(message, "content", planned.text))
        edits += quiet(message, ["tool_calls"])
    edits += quiet(message, [key for key in message if key not in MESSAGE_KEYS])
    return settle(choice, shape.validator, edits)


def _quick_choice(
    shape: Shape, choice: dict[str, Any], message: dict[str, Any], planned: PlannedChoice
) -> dict[str, Any] | None:
    """The choice :func:`_choice` makes of a text answer, without its edit records.

    Its edits are applied with their first options in the same order (so keys keep their places), which
    :func:`settle` keeps whenever the result is valid; so when the one check below passes, these are the slow path's
    values. ``None`` (tool calls, or a choice the schema refuses): take the slow path. ``choice`` and ``message``
    are left as they were, for it.
    """
    if planned.calls:
        return None
    quick_message = {**message, "role": "assistant", "content": planned.text}
    for key in message:
        if key not in MESSAGE_KEYS or key == "tool_calls":
            quick_message[key] = None
    quick = {**choice, "message": quick_message, "index": planned.index, "finish_reason": planned.finish_reason}
    if "logprobs" in quick:
        quick["logprobs"] = None
    return quick if shape.validator.is_valid(quick) else None


def _tool_call(planned: PlannedChoice, position: int, call: Call) -> dict[str, Any]:
    return {
        "id": planned.call_ids[position],
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


# ---------------------------------------------------------------- the stream


def _stream(exchange: Exchange, found: ChatShapes, plan: list[PlannedChoice]) -> Response | None:
    stream = exchange.answer_stream
    base = exchange.skeleton(stream.payload, "chunk", ("choices",), shallow=True)  # copied per chunk
    chunk_choice = found.chunk_choice
    if not isinstance(base, dict) or chunk_choice is None:
        return None
    body = exchange.body
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    template = exchange.skeleton(chunk_choice.generator, "chunk choice", shallow=True)  # copied per chunk
    if not isinstance(template, dict):
        template = {}
    usage_base = base.get("usage")
    fast = exchange.fast

    def event(index: int, deltas: list[dict[str, Any]], finish: str | None) -> bytes:
        """A chunk of choice ``index`` with the first of ``deltas`` the schema allows (see :func:`_quick_chunk`)."""
        quick = _quick_chunk(exchange, base, template, (index, deltas[0], finish), include_usage) if fast else None
        if quick is not None:
            return quick
        choice = copy_json(template)
        edits = _chunk_choice_edits(choice, index, deltas, finish)
        return chunk_event(exchange, base, [choice], include_usage, None, edits)

    def frames() -> Iterator[bytes]:
        # Made one at a time as they are sent: the first event leaves before the last is shaped.
        for planned in plan:
            if planned.calls:
                for deltas, finish in _call_deltas(planned, exchange.rng):
                    yield event(planned.index, deltas, finish)
                continue
            texts = pieces(planned.text or "", exchange.rng)
            writer = _text_frames(exchange, base, template, planned.index, include_usage) if fast and texts else None
            yield event(planned.index, [{"role": "assistant", "content": ""}, {"role": "assistant"}], None)
            for text in texts:
                framed = writer.frame(text) if writer is not None else None
                yield framed if framed is not None else event(planned.index, [{"content": text}], None)
            yield event(planned.index, [{}, {"content": ""}], planned.finish_reason)
        if include_usage:
            usage = filled_usage(
                found.shapes, found.chunk_usage, usage_base, *usage_numbers(body, plan), rng=exchange.rng
            )
            yield chunk_event(exchange, base, [], include_usage, usage)
        if stream.terminator is not None:
            yield frame(stream.terminator, None)

    return exchange.events(frames())


def _call_deltas(planned: PlannedChoice, rng: random.Random) -> list[tuple[list[dict[str, Any]], str | None]]:
    """(delta alternatives, finish_reason) per chunk of a choice that calls tools; the first alternative is the
    realistic one."""
    result: list[tuple[list[dict[str, Any]], str | None]] = []
    for position, call in enumerate(planned.calls):
        ident = planned.call_ids[position]
        opening = {"index": position, "id": ident, "type": "function", "function": {"name": call.name, "arguments": ""}}
        first: dict[str, Any] = {"tool_calls": [opening]}
        if position == 0:
            first = {"role": "assistant", "content": None, **first}
        result.append(([first, {key: value for key, value in first.items() if key != "content"}], None))
        for piece in pieces(call.arguments, rng):
            short = {"tool_calls": [{"index": position, "function": {"arguments": piece}}]}
            full = {"tool_calls": [{**opening, "function": {"name": call.name, "arguments": piece}}]}
            result.append(([short, full], None))
    result.append(([{}, {"content": None}], planned.finish_reason))
    return result


def _chunk_choice_edits(
    choice: dict[str, Any], index: int, deltas: list[dict[str, Any]], finish: str | None
) -> list[Edit]:
    """What a chunk's choice (a copy of the drawn one) says: its index, the delta, the finish_reason."""
    edits = [
        edit(choice, "index", index),
        edit(choice, "delta", *deltas),
        edit(choice, "finish_reason", finish, DELETE) if finish is None else edit(choice, "finish_reason", finish),
    ]
    return edits + quiet(choice, ["logprobs"])


def _quick_chunk(
    exchange: Exchange,
    base: dict[str, Any],
    template: dict[str, Any],
    choice_fields: tuple[int, dict[str, Any], str | None],
    include_usage: bool,
) -> bytes | None:
    """The frame :func:`chunk_event` makes of a choice's (index, delta, finish_reason) with
    :func:`_chunk_choice_edits`, without their copies and edit records.

    Each of their edits is applied with its first option (:func:`_quick_chunk_value`), which :func:`settle` keeps
    whenever the result is valid; so when the check below passes, these are the slow path's bytes. ``None``: take
    the slow path.
    """
    chunk = _quick_chunk_value(exchange, base, template, choice_fields, include_usage)
    if not exchange.answer_stream.payload_validator.is_valid(chunk):
        return None
    return exchange.sse(chunk, None)


def _text_frames(
    exchange: Exchange,
    base: dict[str, Any],
    template: dict[str, Any],
    index: int,
    include_usage: bool,
) -> TextFrames | None:
    """The text events of choice ``index``: :func:`_quick_chunk`'s chunk of a ``{"content": …}`` delta, made once."""
    delta: dict[str, Any] = {}
    chunk = _quick_chunk_value(exchange, base, template, (index, delta, None), include_usage)
    return text_frames(delta, "content", chunk, exchange.answer_stream.payload_validator)


def _quick_chunk_value(
    exchange: Exchange,
    base: dict[str, Any],
    template: dict[str, Any],
    choice_fields: tuple[int, dict[str, Any], str | None],
    include_usage: bool,
) -> dict[str, Any]:
    """The chunk with every edit of :func:`_chunk_choice_edits` and :func:`chunk_event` applied with its first
    option, in their order (so keys keep their places). Nothing shared is changed: new dicts over ``base`` and
    ``template``, whose nested values are only read."""
    index, delta, finish = choice_fields
    choice = {**template, "index": index, "delta": delta, "finish_reason": finish}
    if "logprobs" in choice:
        choice["logprobs"] = None
    chunk = {**base, "choices": [choice]}
    if isinstance(exchange.body.get("model"), str):
        chunk["model"] = exchange.body["model"]
    if include_usage:
        chunk["usage"] = None
    else:
        chunk.pop("usage", None)
    return chunk


def chunk_event(
    exchange: Exchange,
    base: dict[str, Any],
    choices: list[Any],
    include_usage: bool,
    usage: dict[str, Any] | None = None,
    choice_edits: Iterable[Edit] = (),
) -> bytes:
    """One stream chunk: ``choices``, the request's model, and ``usage`` as ``include_usage`` asks (null on
    every chunk but the last, which carries it; absent when not asked for). ``choice_edits`` (of the choices' own
    values) are settled with the chunk's, once ``choices`` is in it: each is judged by the chunk's schema, and a
    chunk whose edits all fit is validated once."""
    chunk = copy_json(base)
    edits = [edit(chunk, "choices", choices), *choice_edits]
    if isinstance(exchange.body.get("model"), str):
        edits.append(edit(chunk, "model", exchange.body["model"]))
    if usage is not None:
        edits.append(edit(chunk, "usage", usage))
    elif include_usage:
        edits.append(edit(chunk, "usage", None, DELETE))
    else:
        edits.append(edit(chunk, "usage", DELETE, None))
    settle(chunk, exchange.answer_stream.payload_validator, edits)
    return exchange.sse(chunk, None)
