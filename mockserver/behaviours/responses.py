"""Responses-style APIs: an answer to ``input``, as one response object or as a stream of typed events.

Applies to an operation with a JSON request whose success answer is an object with ``output``
items of which one variant is a ``message`` (decided from the spec at load time). The output items,
their content parts and the stream events are the variants the spec's unions declare, found by their ``type`` tag
(``message``/``output_text``, ``function_call``, ``reasoning``/``summary_text``; ``response.*``
events), so an API that leaves one out simply never gets it.

Per request: plan the output (a reasoning item when ``reasoning`` is asked for, calls of offered
tools, else a message whose text is free text or JSON valid against ``text.format``'s schema), cut
it at ``max_output_tokens`` (status ``incomplete``), build the final response object from the
generated one (model, usage, the request's settings echoed as :mod:`echo` says), then answer
it, or stream it in the order OpenAI streams it: ``response.created`` → ``response.in_progress`` →
per item ``output_item.added`` → (``content_part.added`` → ``output_text.delta``… →
``output_text.done`` → ``content_part.done`` | ``function_call_arguments.delta``… → ``.done`` |
reasoning summary parts) → ``output_item.done`` → ``response.completed`` (or
``response.incomplete``), with increasing ``sequence_number``; the deltas add up to the final text.

With a state store on the server, an answer whose request does not say ``store: false`` is kept
under kind ``"response"`` (what a continuation needs of it: :func:`stored_record`), and a
``previous_response_id`` that names nothing stored is refused with 404 in the API's error shape where
the operation documents a 404; elsewhere it starts afresh. The answer itself is worked out in a worker
thread when the request body is large (its tokens), not on the event loop.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from starlette.responses import Response

from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.behaviours.chat import filled_usage
from apitwin.mockserver.behaviours.content import call_tokens, message_content, within
from apitwin.mockserver.behaviours.echo import Echo, echo_of, served_as
from apitwin.mockserver.behaviours.skeleton import identifying
from apitwin.mockserver.behaviours.structured import (
    Call,
    Shape,
    Shapes,
    declared_default,
    payload_schema,
    plan_calls,
    shapes_for,
)
from apitwin.mockserver.behaviours.text import compose, compose_counted, pieces, prompt_tokens
from apitwin.mockserver.edits import DELETE, Edit, edit, quiet, settle
from apitwin.mockserver.operations import CompiledApi, Media, Operation, is_json
from apitwin.specs.sse_wire import frame

STORE_KIND = "response"
USAGE_WHILE_GENERATING = ("null", "absent", "final")
"""How the response object's ``usage`` looks in the events sent before it is complete, most realistic first."""
MAX_EVENT_KEYS = 4096
ASSUMED = {"tool_choice": "auto"}
"""What the behaviour takes an absent setting to mean (see :func:`plan_calls`); the response says so."""
OPENAI_DEFAULTS: dict[str, Any] = {
    "temperature": 1,
    "top_p": 1,
    "parallel_tool_calls": True,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "truncation": "disabled",
    "service_tier": "default",
    "reasoning": {"effort": None, "summary": None},
    "billing": {"payer": "developer"},
    "conversation": None,
}
"""What OpenAI's API answers in these fields when a request leaves them out (no limit is ``null``, the tier that
served an untiered request ``default``, a model asked for no reasoning says no effort), said where the request's
schema declares no default of its own (one declaring none would echo its plainest values: 0, 0 and false, a limit of
0, the first of an enum), and in an answer field the request's schema does not have (aimlapi's ``temperature``)
unless the request sent it anyway. Where an answer's schema refuses the value, the generated one stays."""
SERVED_AS = {"service_tier": {"auto": "default"}}
"""What an answer says for a request's setting that leaves the choice to the service: OpenAI answers the tier that
served the request, ``default`` for ``auto`` (the request schemas' own default), as its spec describes the field."""
ITEM_ID_PREFIXES = {"message": "msg", "function_call": "fc", "reasoning": "rs"}
"""How OpenAI's ids of each kind of output item begin (``msg_…``)."""
SET_IDS = ("id", "call_id", "previous_response_id")
"""Identifying fields the behaviour sets itself, which a skeleton therefore need not draw."""
Change = tuple[str, tuple[Any, ...]]
"""A key of an item or part, and the values to try for it, most realistic first (an :class:`Edit` of it)."""


@dataclass(slots=True)
class PlannedItem:
    kind: str
    """``message``, ``function_call`` or ``reasoning``."""
    text: str = ""
    call: Call | None = None
    tokens: int = 0


@dataclass(slots=True)
class Plan:
    items: list[PlannedItem]
    incomplete: bool
    reasoning_tokens: int


@dataclass(slots=True)
class ResponsesShapes:
    """What the behaviour needs from the spec, found once at load time."""

    shapes: Shapes
    plain: Media
    items: dict[str, Shape]
    parts: dict[str, Shape]
    summaries: dict[str, Shape]
    usage: list[Any]
    top_level: set[str]
    echo: Echo | None
    """The request's settings the response object repeats (``temperature``, ``tools``, …)."""
    assumed: dict[str, Any] = field(default_factory=dict)
    """What an absent setting is taken to mean: :data:`ASSUMED`, and :data:`OPENAI_DEFAULTS` the spec does not
    override."""
    undeclared: tuple[str, ...] = ()
    """The :attr:`assumed` settings the response object carries but the request's schema does not declare (so no
    echo repeats them)."""
    events: dict[str, Shape] = field(default_factory=dict)
    event_names: frozenset[str] = frozenset()
    """The names a stream gives its events (``event:``), a set: every event asks whether its kind is one."""
    usage_while_generating: tuple[str, ...] = USAGE_WHILE_GENERATING
    """:data:`USAGE_WHILE_GENERATING`, those the response schema allows first."""
    item_layouts: dict[tuple[Any, ...], ItemLayout] = field(default_factory=dict)
    """Fast path: how an output item looks, per seed, status and kind (see :func:`_item`); at most
    :data:`MAX_EVENT_KEYS`."""
    event_keys: dict[tuple[Any, ...], tuple[str, ...]] = field(default_factory=dict)
    """Fast path: the keys, in order, of an event whose first options all fit, per seed, status, kind and field
    names (see :meth:`_Events._known`); at most :data:`MAX_EVENT_KEYS`."""


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    shapes = shapes_for(api)
    request = next((body for media_type, body in operation.bodies.items() if is_json(media_type)), None)
    if request is None:
        return None
    success = operation.responses.get(operation.success_status())
    if success is None:
        return None
    plain = next(
        (
            media
            for media_type, media in success.media.items()
            if is_json(media_type) and media.schema is not None and media.generator is not None
        ),
        None,
    )
    if plain is None or not shapes.has(plain.schema, "output"):
        return None
    items = shapes.variants(shapes.at(plain.schema, "output", "[]"))
    if "message" not in items:
        return None
    echo = echo_of(api, operation, plain)
    assumed = _assumed(shapes, request.schema)
    found = ResponsesShapes(
        shapes=shapes,
        plain=plain,
        items=items,
        parts=shapes.variants(shapes.at(items["message"].schema, "content", "[]")),
        summaries=shapes.variants(shapes.at(items["reasoning"].schema, "summary", "[]"))
        if "reasoning" in items
        else {},
        usage=shapes.at(plain.schema, "usage"),
        top_level=_properties(shapes, plain.schema),
        echo=echo,
        assumed=assumed,
        undeclared=_undeclared(shapes, plain.schema, echo, assumed),
        usage_while_generating=_usage_while_generating(shapes, plain.schema),
    )
    stream = next((media for media in success.media.values() if media.stream is not None), None)
    if stream is not None and stream.stream is not None:
        payload = payload_schema(shapes, stream)
        variants = shapes.variants([payload]) if payload is not None else {}
        names = stream.stream.event_names
        found.events = {name: shape for name, shape in variants.items() if not names or name in names}
        found.event_names = frozenset(names)

    async def behaviour(exchange: Exchange) -> Response | None:
        if not 200 <= exchange.status < 300 or exchange.media is None or not isinstance(exchange.body, dict):
            return None
        previous, refusal = await _previous(exchange)
        if refusal is not None:
            return refusal
        exchange.notes["assumed"] = found.assumed
        exchange.notes["served"] = SERVED_AS
        streamed = exchange.media.stream is not None
        if streamed and "response.completed" not in found.events:
            return None
        if streamed:
            value = await exchange.off_loop(partial(_settled_response, exchange, found, previous))
            await _remember(exchange, value)
            return exchange.events(stream_frames(exchange, found, value))
        value, edits = await exchange.off_loop(partial(final_response, exchange, found, previous))
        answer = exchange.json(value, edits=edits)  # settled there with the echo's edits, in place
        await _remember(exchange, value)
        return answer

    return behaviour


def _properties(shapes: Shapes, schema: Any) -> set[str]:
    return {name for member in shapes.members(schema) for name in (member.get("properties") or {})}


def _assumed(shapes: Shapes, request_schema: Any) -> dict[str, Any]:
    """:data:`ASSUMED`, and each of :data:`OPENAI_DEFAULTS` the request's schema declares no default of its own for
    (a ``null`` default says none either: the provider's applies)."""
    kept = {
        name: value
        for name, value in OPENAI_DEFAULTS.items()
        if declared_default(shapes, request_schema, None, name) is None
    }
    return {**ASSUMED, **kept}


def _undeclared(shapes: Shapes, schema: Any, echo: Echo | None, assumed: dict[str, Any]) -> tuple[str, ...]:
    echoed = set(echo.names()) if echo is not None else set()
    return tuple(name for name in assumed if name in _properties(shapes, schema) and name not in echoed)


def _usage_while_generating(shapes: Shapes, schema: Any) -> tuple[str, ...]:
    """:data:`USAGE_WHILE_GENERATING` with the forms the response ``schema`` allows first (``null`` only where the
    usage schema takes it, absent only where it is not required), the others after: an event then settles with its
    first options where the realistic one is forbidden, instead of trying each field's options in turn."""
    required = {name for member in shapes.members(schema) for name in (member.get("required") or ())}
    usage = [shapes.shape(member) for member in shapes.at(schema, "usage")]
    allowed = {
        "null": any(shape is not None and shape.is_valid(None) for shape in usage),
        "absent": "usage" not in required,
        "final": True,
    }
    return tuple(sorted(USAGE_WHILE_GENERATING, key=lambda form: not allowed[form]))


# ---------------------------------------------------------------- stored responses


async def _previous(exchange: Exchange) -> tuple[dict[str, Any] | None, Response | None]:
    """(the stored previous response, None) or (None, the refusal) for ``previous_response_id``."""
    wanted = exchange.body.get("previous_response_id")
    if not isinstance(wanted, str):
        return None, None
    found = await exchange.services.store.get(STORE_KIND, wanted)
    if found is not None:
        return found, None
    if not _declares_not_found(exchange.operation):
        return None, None
    message = (
        f"previous_response_id: no stored response has the id {wanted!r}"
        " (responses created with store: false are not kept)"
    )
    return None, exchange.error(404, message, pointer="/previous_response_id", location="body")


def _declares_not_found(operation: Operation) -> bool:
    """A dangling ``previous_response_id`` is refused only where the operation documents a 404 (exactly,
    as ``4XX`` or as ``default``, with a JSON body): the referenced response does not exist. Where the
    spec documents no such error (a schema-valid id can only be answered 2xx by its own contract), the
    answer starts a fresh conversation instead, as a server without stored responses does."""
    response = operation.response_for(404)
    return response is not None and any(is_json(media_type) for media_type in response.media)


async def _remember(exchange: Exchange, value: dict[str, Any]) -> None:
    if exchange.body.get("store") is False or not isinstance(value.get("id"), str):
        return
    await exchange.services.store.put(STORE_KIND, value["id"], stored_record(value))


KEPT_FIELDS = ("id", "object", "status", "model", "created_at", "previous_response_id")
"""What a stored response keeps besides its token count: what the dashboard lists it by."""


def stored_record(value: dict[str, Any]) -> dict[str, Any]:
    """What is kept of an answer stored for later: what a continuation needs of it (its id, and its total tokens,
    which the continuation's usage counts) and what the dashboard lists it by; the output itself was sent and is
    not kept (a tenth of the bytes of a whole response object)."""
    record = {name: value[name] for name in KEPT_FIELDS if name in value}
    usage = value.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
        record["usage"] = {"total_tokens": usage["total_tokens"]}
    return record


# ---------------------------------------------------------------- planning


def plan_output(body: dict[str, Any], rng: random.Random, found: ResponsesShapes) -> Plan:
    """The output items of the answer to ``body``, the first draws from the answer's random source (which the
    request's delivery fields do not change), so the plain and the streamed answer carry the same ones."""
    budget = (
        body.get("max_output_tokens")
        if isinstance(body.get("max_output_tokens"), int) and not isinstance(body.get("max_output_tokens"), bool)
        else None
    )
    items: list[PlannedItem] = []
    reasoning_tokens = 0
    if _wants_reasoning(body) and "reasoning" in found.items:
        reasoning_tokens = compose_counted(rng)[1]
        if budget is not None:
            reasoning_tokens = min(reasoning_tokens, budget)
            budget -= reasoning_tokens
        summary = compose(rng, 16) if _wants_summary(body) and "summary_text" in found.summaries else ""
        items.append(PlannedItem("reasoning", summary, tokens=reasoning_tokens))
    calls = (
        plan_calls(body.get("tools"), body.get("tool_choice", "auto"), rng) if "function_call" in found.items else []
    )
    for call in calls:
        items.append(PlannedItem("function_call", call=call, tokens=call_tokens([call])))
    incomplete = False
    if not calls:
        text, incomplete, tokens = within(*_content(body, rng), budget)
        items.append(PlannedItem("message", text, tokens=tokens))
    return Plan(items, incomplete, reasoning_tokens)


def _wants_reasoning(body: dict[str, Any]) -> bool:
    reasoning = body.get("reasoning")
    return (isinstance(reasoning, dict) and reasoning.get("effort") not in (None, "none")) or _wants_summary(body)


def _wants_summary(body: dict[str, Any]) -> bool:
    reasoning = body.get("reasoning")
    return isinstance(reasoning, dict) and isinstance(
        reasoning.get("summary") or reasoning.get("generate_summary"), str
    )


def _content(body: dict[str, Any], rng: Any) -> tuple[str, int | None]:
    """The message's text as ``text.format`` asks (its schema beside its ``type``)."""
    text = body.get("text")
    form = text.get("format") if isinstance(text, dict) else None
    return message_content(form, form.get("schema") if isinstance(form, dict) else None, rng)


def _new_id(prefix: str, rng: random.Random) -> str:
    """``prefix_`` and 32 hex digits from the answer's random source (drawn after the plan, the same whether the
    answer streams or not)."""
    return f"{prefix}_{rng.getrandbits(128):032x}"


# ---------------------------------------------------------------- the response object


def final_response(
    exchange: Exchange, found: ResponsesShapes, previous: dict[str, Any] | None
) -> tuple[dict[str, Any], list[Edit]]:
    """The response object answering the request as drawn, and the edits that make it the answer (id, status,
    output, usage, …), not applied yet: they are settled together with the echo of the request's settings
    (:meth:`Exchange.json` does it for a plain answer), so an answer whose edits all fit is validated once."""
    body = exchange.body
    plan = plan_output(body, exchange.rng, found)
    # only its top-level keys change; the ids are set below, so the skeleton draws none
    value = exchange.skeleton(found.plain.generator, "response", caller_sets=SET_IDS, shallow=True)
    if not isinstance(value, dict):
        value = {}
    answer_id = _new_id("resp", exchange.rng)
    output = [_item(exchange, found, planned) for planned in plan.items]
    text = "".join(item.text for item in plan.items if item.kind == "message")
    status = "incomplete" if plan.incomplete else "completed"
    edits = [
        edit(value, "id", answer_id),
        edit(value, "status", status),
        edit(value, "output", output),
        edit(
            value,
            "incomplete_details",
            {"reason": "max_output_tokens"} if plan.incomplete else None,
            *((None, DELETE) if plan.incomplete else (DELETE,)),
        ),
        edit(value, "error", None, DELETE),
    ]
    if isinstance(body.get("model"), str):
        edits.append(edit(value, "model", body["model"]))
    if "output_text" in value or "output_text" in found.top_level:
        edits.append(edit(value, "output_text", text))
    if "previous_response_id" in found.top_level:
        edits.append(edit(value, "previous_response_id", body.get("previous_response_id")))
    edits.append(edit(value, "object", "response"))
    edits += [edit(value, name, *_sent_or_assumed(body, name, found.assumed)) for name in found.undeclared]
    if isinstance(value.get("created_at"), int) and "completed_at" in value:
        edits.append(edit(value, "completed_at", value["created_at"] + 1 if status == "completed" else None))
    if found.usage:
        prompt = prompt_tokens([body.get("instructions"), body.get("input")])
        if (
            previous is not None
            and isinstance(previous.get("usage"), dict)
            and isinstance(previous["usage"].get("total_tokens"), int)
        ):
            prompt += previous["usage"]["total_tokens"]
        completion = sum(item.tokens for item in plan.items)
        usage = filled_usage(
            found.shapes,
            found.usage,
            value.get("usage"),
            prompt,
            completion,
            {"reasoning_tokens": plan.reasoning_tokens},
            exchange.rng,
        )
        edits.append(edit(value, "usage", usage))
    return value, edits


def _sent_or_assumed(body: dict[str, Any], name: str, assumed: dict[str, Any]) -> tuple[Any, ...]:
    """The options of an ``assumed`` setting the request's schema does not declare: as sent, else as assumed."""
    fallback = served_as(SERVED_AS, name, assumed[name])
    return (served_as(SERVED_AS, name, body[name]), fallback) if name in body else (fallback,)


def _settled_response(exchange: Exchange, found: ResponsesShapes, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The response object a stream carries: :func:`final_response` settled with the echo's edits after its own, as
    :meth:`Exchange.json` settles a plain answer, so both say the same."""
    value, edits = final_response(exchange, found, previous)
    echoed = found.echo.edits(value, exchange.body, found.assumed, SERVED_AS) if found.echo is not None else []
    return settle(value, found.plain.validator, [*edits, *echoed])


def _item(exchange: Exchange, found: ResponsesShapes, planned: PlannedItem) -> dict[str, Any]:
    """One output item, as planned. On the fast path an item whose kind was made before from its first options
    is that item with this answer's ids, text or call in it (see :class:`ItemLayout`), still validated."""
    key = _item_key(exchange, planned)
    layout = found.item_layouts.get(key) if exchange.fast else None
    if layout is None:
        return _drawn_item(exchange, found, planned, key)
    ids = _item_ids(planned, exchange.rng)  # its skeletons draw nothing: the ids come next, as on the slow path
    return _laid_out_item(found, planned, layout, ids) or _drawn_item(exchange, found, planned, key, ids)


@dataclass(slots=True, frozen=True)
class ItemLayout:
    """Fast path: an output item of one kind as :func:`_drawn_item` settled it with every first option, from
    skeletons that drew nothing from the answer's random source. Another answer's item of that kind is the same but
    for its ids, text or call, which replace these (in their places: the keys keep their order). The items made from
    it are shallow copies sharing its other values (an empty ``annotations`` list): as with a shallow skeleton,
    nothing changes an item's nested values once it is settled."""

    item: dict[str, Any]
    part: dict[str, Any] | None
    """Its content part or summary part, if it has one."""


def _item_key(exchange: Exchange, planned: PlannedItem) -> tuple[Any, ...]:
    """What an item's layout depends on: its skeletons (drawn per seed and status), its kind, whether it has a
    part."""
    return (exchange.seed, exchange.status, planned.kind, planned.call is not None, bool(planned.text))


def _item_ids(planned: PlannedItem, rng: random.Random) -> tuple[str, str | None]:
    """The item's id, and a function call's ``call_id``, drawn in this order."""
    item_id = _new_id(ITEM_ID_PREFIXES[planned.kind], rng)
    return item_id, _new_id("call", rng) if planned.kind == "function_call" and planned.call is not None else None


def _laid_out_item(
    found: ResponsesShapes, planned: PlannedItem, layout: ItemLayout, ids: tuple[str, str | None]
) -> dict[str, Any] | None:
    """The item ``layout`` gives for ``planned``, if it and its part are valid (else the slow path's settling may
    differ: ``None``)."""
    fields: dict[str, Any] = {"id": ids[0]}
    if layout.part is not None:
        part = dict(layout.part)
        part["text"] = planned.text
        shape = (found.parts if planned.kind == "message" else found.summaries).get(part["type"])
        if shape is not None and not shape.validator.is_valid(part):
            return None
        fields["content" if planned.kind == "message" else "summary"] = [part]
    if ids[1] is not None and planned.call is not None:
        fields.update(call_id=ids[1], name=planned.call.name, arguments=planned.call.arguments)
    item = dict(layout.item)
    item.update(fields)
    return item if found.items[planned.kind].validator.is_valid(item) else None


def _drawn_item(
    exchange: Exchange,
    found: ResponsesShapes,
    planned: PlannedItem,
    key: tuple[Any, ...],
    ids: tuple[str, str | None] | None = None,
) -> dict[str, Any]:
    """The item drawn from its skeleton and settled (the slow path); on the fast path its layout is learnt when it
    is its first options from skeletons that drew nothing."""
    shape = found.items[planned.kind]
    item = exchange.skeleton(shape.generator, f"item {planned.kind}", caller_sets=SET_IDS, shallow=True)
    if not isinstance(item, dict):
        item = {}
    plain = not any(identifying(name) for name in item if name not in SET_IDS)
    item_id, call_id = ids or _item_ids(planned, exchange.rng)
    changes: list[Change] = [("type", (planned.kind,)), ("id", (item_id,)), ("status", ("completed", DELETE))]
    quieted: list[Edit] = []
    part: tuple[dict[str, Any], bool] | None = None
    if planned.kind == "message":
        part = _part(exchange, found.parts, "output_text", planned.text)
        changes += [("role", ("assistant",)), ("content", ([part[0]],))]
    elif planned.kind == "function_call" and planned.call is not None:
        changes += [("call_id", (call_id,)), ("name", (planned.call.name,)), ("arguments", (planned.call.arguments,))]
    else:
        part = _part(exchange, found.summaries, "summary_text", planned.text) if planned.text else None
        changes.append(("summary", ([part[0]] if part is not None else [],)))
        quieted = quiet(item, ["content", "encrypted_content"])
    first = _with_first_options(item, changes, quieted) if exchange.fast and plain else None
    settle(item, shape.validator, [*(edit(item, name, *options) for name, options in changes), *quieted])
    if first is not None and (part is None or part[1]) and _same(item, first):
        _learn_item(found, key, ItemLayout(dict(item), dict(part[0]) if part is not None else None))
    return item


def _part(exchange: Exchange, variants: dict[str, Shape], kind: str, text: str) -> tuple[dict[str, Any], bool]:
    """A content or summary part saying ``text``, and whether it is its first options from a skeleton that drew
    nothing from the answer's random source (always ``False`` on the slow path, which learns no layouts)."""
    shape = variants.get(kind)
    part = exchange.skeleton(shape.generator, f"part {kind}", shallow=True) if shape is not None else {"type": kind}
    if not isinstance(part, dict):
        part = {"type": kind}
    if shape is None:
        return {**part, "text": text}, False
    plain = not any(identifying(name) for name in part)
    changes: list[Change] = [
        ("type", (kind,)),
        ("text", (text,)),
        ("annotations", ([], DELETE)),
        ("logprobs", ([], DELETE, None)),
    ]
    first = _with_first_options(part, changes) if exchange.fast and plain else None
    settle(part, shape.validator, [edit(part, name, *options) for name, options in changes])
    return part, first is not None and _same(part, first)


def _with_first_options(value: dict[str, Any], changes: list[Change], quieted: Sequence[Edit] = ()) -> dict[str, Any]:
    """A copy of ``value`` with the first option of each of ``changes``, then of ``quieted`` (``null``: see
    :func:`quiet`), applied in order: what :func:`settle` makes of it when that is valid."""
    quick = dict(value)
    for name, options in changes:
        if options[0] is DELETE:
            quick.pop(name, None)
        else:
            quick[name] = options[0]
    for change in quieted:
        quick[change.key] = None
    return quick


def _same(value: dict[str, Any], other: dict[str, Any]) -> bool:
    """The same keys, in the same order, with the same values."""
    return list(value) == list(other) and value == other


def _learn_item(found: ResponsesShapes, key: tuple[Any, ...], layout: ItemLayout) -> None:
    """Keep ``layout`` for :func:`_item` (bounded: forgotten all at once when full, as a client may vary the seed)."""
    known = found.item_layouts
    if len(known) >= MAX_EVENT_KEYS:
        known.clear()
    known[key] = layout


# ---------------------------------------------------------------- the stream


class Alternatives(tuple):
    """Values for one event field, most realistic first (the schema picks)."""


@dataclass(slots=True)
class _Events:
    """Shapes the events of one stream, numbering them as they go out."""

    exchange: Exchange
    found: ResponsesShapes
    sequence: int = 0

    def add(self, kind: str, **fields: Any) -> Iterator[bytes]:
        """The frame of one ``kind`` event (none when the spec does not declare that event)."""
        shape = self.found.events.get(kind)
        made = self._made(kind, shape, fields) if shape is not None else None
        if made is not None:
            yield self._sent(kind, made[0])

    def add_each(self, kind: str, key: str, values: Iterable[Any], **fields: Any) -> Iterator[bytes]:
        """The frames of one ``kind`` event per value, given as the field ``key`` (which ``fields`` names, in its
        place, with any value): a text's deltas, as :meth:`add` makes them one by one. On the fast path an event
        after one made of its first options without a skeleton to draw is that event with only the value and the
        number changed: the fields differ in nothing else."""
        shape = self.found.events.get(kind)
        if shape is None:
            return
        alike: dict[str, Any] | None = None
        for value in values:
            event = self._alike(alike, shape, key, value) if alike is not None else None
            if event is None:
                made = self._made(kind, shape, {**fields, key: value})
                if made is None:
                    continue
                event, plain = made
                alike = event if plain and self.exchange.fast else None
            yield self._sent(kind, event)

    def _alike(self, before: dict[str, Any], shape: Shape, key: str, value: Any) -> dict[str, Any] | None:
        event = dict(before)
        if key in event:
            event[key] = _first(value)
        if "sequence_number" in event:
            event["sequence_number"] = self.sequence
        return event if shape.validator.is_valid(event) else None

    def _made(self, kind: str, shape: Shape, fields: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
        """The next event, and whether it is its fields' first options with no skeleton to draw for it (``None``:
        no event, its skeleton being no object)."""
        fields["sequence_number"] = self.sequence
        fields["type"] = kind
        event = self._known(kind, shape, fields) if self.exchange.fast else None
        if event is not None:
            return event, True
        return self._shaped(kind, shape, fields)

    def _sent(self, kind: str, event: dict[str, Any]) -> bytes:
        name = kind if kind in self.found.event_names else None
        self.sequence += 1
        return self.exchange.sse(event, name)

    def _known(self, kind: str, shape: Shape, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Fast path: the event made from the keys an event of its kind and fields had before, when its first
        options all fit: what :meth:`_shaped` makes then, without drawing a skeleton (a text's deltas are alike
        but for their piece and number, and so are the events of every answer with the same seed)."""
        keys = self.found.event_keys.get(self._layout(kind, fields))
        if keys is None:
            return None
        event = {key: fields[key] for key in keys}
        if Alternatives in map(type, fields.values()):  # rare (the opening response): a loop of C, not a call a key
            event = {key: _first(value) for key, value in event.items()}
        return event if shape.validator.is_valid(event) else None

    def _learn(self, kind: str, fields: dict[str, Any], event: dict[str, Any]) -> None:
        """Keep the keys of ``event`` for :meth:`_known` (bounded: forgotten all at once when full)."""
        known = self.found.event_keys
        if len(known) >= MAX_EVENT_KEYS:
            known.clear()
        known[self._layout(kind, fields)] = tuple(event)

    def _layout(self, kind: str, fields: dict[str, Any]) -> tuple[Any, ...]:
        """What the keys of an event depend on: its skeleton (drawn per seed, status and kind) and its fields."""
        return (self.exchange.seed, self.exchange.status, kind, tuple(fields))

    def _shaped(self, kind: str, shape: Shape, fields: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
        """The event drawn from its skeleton with ``fields`` settled in, and whether it is their first options with
        nothing drawn for the skeleton (``None`` if the skeleton is no object)."""
        event = self.exchange.skeleton(shape.generator, f"event {kind}", caller_sets=tuple(fields), shallow=True)
        if not isinstance(event, dict):
            return None
        declared = [key for key in fields if key in event or self.found.shapes.has(shape.schema, key)]
        quick = _first_options(event, fields, declared) if self.exchange.fast else None
        if quick is not None and shape.validator.is_valid(quick):
            plain = not any(identifying(key) for key in event if key not in fields)
            if plain:
                self._learn(kind, fields, quick)  # drawing this skeleton took nothing from the answer's random source
            return quick, plain  # what settle keeps when every first option is valid
        edits = [edit(event, key, *_options(fields[key])) for key in declared]
        edits += [edit(event, key, DELETE, None) for key in event if key not in fields and key != "type"]
        return settle(event, shape.validator, edits), False


def _options(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, Alternatives) else (value,)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, Alternatives) else value


def _first_options(event: dict[str, Any], fields: dict[str, Any], declared: list[str]) -> dict[str, Any]:
    """``event`` as :meth:`_Events.add`'s edits leave it when :func:`settle` keeps every first option: the fields
    set in order, then every other generated key but ``type`` removed (a copy; ``event`` stays as it was)."""
    quick = dict(event)
    for key in declared:
        quick[key] = _first(fields[key])
    for key in event:
        if key not in fields and key != "type":
            del quick[key]
    return quick


def stream_frames(exchange: Exchange, found: ResponsesShapes, final: dict[str, Any]) -> Iterator[bytes]:
    """The stream's frames, each shaped as it is sent: the first event leaves before the last is made."""
    events = _Events(exchange, found)
    opening = _snapshot(final, found.usage_while_generating)
    yield from events.add("response.created", response=opening)
    yield from events.add("response.in_progress", response=opening)
    rng = exchange.rng  # after the plan and the ids
    for position, item in enumerate(final.get("output") or []):
        yield from _stream_item(events, position, item, rng)
    closing = (
        "response.incomplete"
        if final.get("status") == "incomplete" and "response.incomplete" in found.events
        else "response.completed"
    )
    yield from events.add(closing, response=final)
    terminator = (
        exchange.media.stream.terminator if exchange.media is not None and exchange.media.stream is not None else None
    )
    if terminator is not None:
        yield frame(terminator, None)


def _snapshot(final: dict[str, Any], usage_forms: tuple[str, ...]) -> Alternatives:
    """The response object as it looks while it is being generated (usage unknown yet: null, absent, or as final,
    in the order of ``usage_forms``). Only top-level keys differ, so the rest is shared with ``final``."""
    opening = dict(final)
    opening.update(status="in_progress", output=[])
    for key, empty in (("completed_at", None), ("incomplete_details", None), ("output_text", "")):
        if key in opening:
            opening[key] = empty
    forms = {
        "null": {**opening, "usage": None},
        "absent": {key: value for key, value in opening.items() if key != "usage"},
        "final": opening,
    }
    return Alternatives(forms[form] for form in usage_forms)


def _stream_item(events: _Events, position: int, item: dict[str, Any], rng: Any) -> Iterator[bytes]:
    kind = item.get("type")
    item_id = item.get("id")
    opening = dict(item)  # only top-level keys change; the rest is shared with ``item``
    if "status" in opening:
        opening["status"] = "in_progress"
    if kind == "message":
        opening["content"] = []
    elif kind == "function_call":
        opening["arguments"] = ""
    elif kind == "reasoning":
        opening["summary"] = []
    yield from events.add("response.output_item.added", output_index=position, item=opening)
    if kind == "message":
        for index, part in enumerate(item.get("content") or []):
            yield from _stream_text(events, position, item_id, index, part, rng)
    elif kind == "function_call":
        arguments = item.get("arguments") or ""
        yield from events.add_each(
            "response.function_call_arguments.delta",
            "delta",
            pieces(arguments, rng),
            item_id=item_id,
            output_index=position,
            delta=None,
        )
        yield from events.add(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=position,
            arguments=arguments,
            name=item.get("name"),
        )
    elif kind == "reasoning":
        for index, part in enumerate(item.get("summary") or []):
            yield from _stream_summary(events, position, item_id, index, part, rng)
    yield from events.add("response.output_item.done", output_index=position, item=item)


def _stream_text(
    events: _Events, position: int, item_id: Any, index: int, part: dict[str, Any], rng: Any
) -> Iterator[bytes]:
    said = part.get("text")
    text = said if isinstance(said, str) else ""
    empty = {**part, "text": ""}
    where = {"item_id": item_id, "output_index": position, "content_index": index}
    yield from events.add("response.content_part.added", **where, part=empty)
    yield from events.add_each(
        "response.output_text.delta", "delta", pieces(text, rng), **where, delta=None, logprobs=[]
    )
    yield from events.add("response.output_text.done", **where, text=text, logprobs=[])
    yield from events.add("response.content_part.done", **where, part=part)


def _stream_summary(
    events: _Events, position: int, item_id: Any, index: int, part: dict[str, Any], rng: Any
) -> Iterator[bytes]:
    said = part.get("text")
    text = said if isinstance(said, str) else ""
    where = {"item_id": item_id, "output_index": position, "summary_index": index}
    yield from events.add("response.reasoning_summary_part.added", **where, part={**part, "text": ""})
    yield from events.add_each("response.reasoning_summary_text.delta", "delta", pieces(text, rng), **where, delta=None)
    yield from events.add("response.reasoning_summary_text.done", **where, text=text)
    yield from events.add("response.reasoning_summary_part.done", **where, part=part)
