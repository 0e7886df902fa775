"""Behaviours: spec-aware layers over the generator that make an API feel real.

A behaviour is chosen for an operation once, at load time, from what the spec says (an
event-stream answer, a ``model`` property, an ``x-apitwin-job`` lifecycle), never from the
vendor's name. Per request it gets an :class:`Exchange` and either answers (a Starlette
``Response``) or returns ``None`` to let the next behaviour, and finally the plain generator,
answer. Whatever a behaviour sends goes through :meth:`Exchange.json` / :meth:`Exchange.events`,
which self-check it against the chosen media's schema: a behaviour can never emit what the spec
forbids.

Each behaviour module exposes ``match(api, operation) -> Behaviour | None``; ``_matchers()``
lists them in the order they are tried, each marked stateless or not (stateless operations' answers
may be replayed from the answer cache).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.responses import Response

from apitwin.mockserver.behaviours.echo import echo_of
from apitwin.mockserver.edits import Edit, settle
from apitwin.mockserver.error_responses import refusal
from apitwin.mockserver.errors import INVALID_REQUEST
from apitwin.mockserver.generate import CompiledSchema
from apitwin.mockserver.json_body import off_loop
from apitwin.mockserver.operations import CompiledApi, EventStream, Media, Operation, ResponseSpec
from apitwin.mockserver.produce import SelfCheckError, encode_json, first_error, response_headers
from apitwin.specs.sse_wire import json_frame

if TYPE_CHECKING:
    from starlette.requests import Request

    from apitwin.mockserver.behaviours.services import Services
    from apitwin.mockserver.pacing import Pacing


T = TypeVar("T")


@dataclass(slots=True)
class Exchange:
    """One request, validated, with the response the generic path would have chosen, and what a behaviour may use
    of the server (:class:`~apitwin.mockserver.behaviours.services.Services`)."""

    services: Services
    api: CompiledApi
    operation: Operation
    path: str
    path_parameters: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    """The parsed request body (``None`` when there was none)."""
    status: int
    response: ResponseSpec
    media: Media | None
    rng: random.Random
    notes: dict[str, Any] = field(default_factory=dict)
    """Scratch space shared by the behaviours of one request."""
    seed: int = 0
    """The seed of this answer (``--seed`` or ``Prefer: seed=``), for values that must not depend on the raw body."""
    pacing: Pacing | None = None
    """The stream pacing this request asked for (``None``: the server's)."""
    request: Request | None = None
    """The HTTP request (for :attr:`base_url`)."""
    reply_headers: dict[str, str] = field(default_factory=dict)
    """Headers a behaviour settles for whatever answer is finally sent (a session id)."""
    body_size: int = 0
    """Bytes of the request body as it arrived (see :meth:`off_loop`)."""

    @property
    def base_url(self) -> str:
        """Scheme, host and root path the client used (``http://127.0.0.1:4010``), for absolute URLs in answers;
        made when a behaviour asks (Starlette builds a whole URL for it)."""
        return str(self.request.base_url).rstrip("/") if self.request is not None else ""

    @property
    def answer_media(self) -> Media:
        """The media being answered: behaviours shape an answer only once one is chosen."""
        if self.media is None:
            raise RuntimeError(f"{self.operation.label}: a behaviour ran with no answer media chosen")
        return self.media

    @property
    def answer_stream(self) -> EventStream:
        """The event stream being answered, for behaviours that shape one."""
        stream = self.answer_media.stream
        if stream is None:
            raise RuntimeError(f"{self.operation.label}: a stream behaviour ran on a media without events")
        return stream

    @property
    def fast(self) -> bool:
        """Whether behaviours may take their fast paths (``Options.answer_templates``): same bytes, less work."""
        return self.services.skeletons.keep

    @property
    def self_check(self) -> bool:
        return self.services.self_check

    def generate(self, media: Media | None = None, skip: tuple[str, ...] = ()) -> Any:
        """A fresh generated value for ``media`` (default: the chosen media), without the top-level
        properties in ``skip`` (which the caller then sets)."""
        media = media or self.media
        if media is None or media.generator is None:
            return None
        return media.generator.generate(self.rng, skip)

    async def off_loop(self, work: Callable[[], T]) -> T:
        """``work()``, in a worker thread when the request body was large (``json_body.OFF_LOOP_BYTES``): what a
        behaviour computes from the whole body (its canonical JSON, its tokens) then holds no other request up."""
        return await off_loop(work, self.body_size)

    def skeleton(
        self,
        compiled: CompiledSchema | None = None,
        role: str = "",
        skip: tuple[str, ...] = (),
        caller_sets: tuple[str, ...] = (),
        shallow: bool = False,
    ) -> Any:
        """The value an answer (or a part of one: ``role``) starts from, drawn from ``compiled`` (default: the
        chosen media's schema) without the properties in ``skip``: the same for every request but its ids
        and timestamps, those in ``caller_sets`` excepted (see :mod:`.skeleton`). With ``shallow`` the caller
        promises to change only top-level keys (its nested values may be shared with other answers)."""
        if compiled is None:
            compiled = self.media.generator if self.media is not None else None
            role = role or (self.media.media_type if self.media is not None else "")
        if compiled is None:
            return None
        where = f"{self.operation.label} {self.status} {role}"
        return self.services.skeletons.draw(compiled, where, self.seed, self.rng, skip, caller_sets, shallow)

    def check(self, value: Any, media: Media | None = None) -> None:
        """Raise :class:`SelfCheckError` when self-check is on and ``value`` breaks the schema."""
        media = media or self.media
        if (
            self.self_check
            and media is not None
            and media.validator is not None
            and not media.validator.is_valid(value)
        ):
            raise SelfCheckError(
                f"behaviour output for {self.operation.label} does not validate: {first_error(media.validator, value)}"
            )

    def json(
        self,
        value: Any,
        *,
        status: int | None = None,
        media: Media | None = None,
        headers: dict[str, str] | None = None,
        edits: Iterable[Edit] = (),
    ) -> Response:
        """A JSON answer, self-checked against the chosen (or given) media schema; a success answer
        repeats the request's settings (see :mod:`echo`). ``edits``: the behaviour's own edits of ``value``, settled
        together with the echo's, so an answer whose edits all fit is validated once, not once per layer."""
        media = media or self.media
        validator = media.validator if media is not None else None
        edits = list(edits)
        if media is not None and 200 <= (status or self.status) < 300 and isinstance(self.body, dict):
            echo = echo_of(self.api, self.operation, media)
            if echo is not None and validator is not None and isinstance(value, dict):
                edits += echo.edits(value, self.body, self.notes.get("assumed", {}), self.notes.get("served", {}))
        if edits:
            settle(value, validator, edits)
        self.check(value, media)
        media_type = media.media_type if media is not None else "application/json"
        extra = {**response_headers(self.response, self.rng), **self.reply_headers, **(headers or {})}
        return Response(encode_json(value), status_code=status or self.status, media_type=media_type, headers=extra)

    def events(
        self, frames: AsyncIterator[bytes] | Iterable[bytes], *, headers: dict[str, str] | None = None
    ) -> Response:
        """An event-stream answer from already-framed events (see :func:`sse`)."""
        media_type = self.media.media_type if self.media is not None else "text/event-stream"
        extra = {
            **response_headers(self.response, self.rng),
            **self.reply_headers,
            "Cache-Control": "no-cache",
            **(headers or {}),
        }
        iterator = frames if isinstance(frames, AsyncIterator) else _aiter(frames)
        return self.services.streams.answer(
            iterator, pacing=self.pacing, status_code=self.status, media_type=media_type, headers=extra
        )

    def sse(self, payload: Any, event: str | None = None) -> bytes:
        """One framed event carrying ``payload`` as JSON, self-checked against the stream's payload schema."""
        if self.self_check:
            stream = self.media.stream if self.media is not None else None
            if stream is not None and not stream.payload_validator.is_valid(payload):
                problem = first_error(stream.payload_validator, payload)
                raise SelfCheckError(f"event payload for {self.operation.label} does not validate: {problem}")
        return json_frame(encode_json(payload), event)

    def error(
        self,
        status: int,
        message: str,
        *,
        pointer: str = "",
        location: str = "request",
        kind: str = INVALID_REQUEST,
    ) -> Response:
        """An error in the API's own shape, for the status the operation declares (or its nearest)."""
        return refusal(
            self.api, self.operation, status, message, self.path, location=location, pointer=pointer, kind=kind
        )


Behaviour = Callable[[Exchange], Awaitable[Response | None]]
Matcher = Callable[[CompiledApi, Operation], Behaviour | None]


async def _aiter(frames: Iterable[bytes]) -> AsyncIterator[bytes]:
    for item in frames:
        yield item


def _matchers() -> list[tuple[Matcher, bool]]:
    """The behaviour modules, most specific first, each with whether its answer depends on the
    request alone (``True``) or also on state it keeps (jobs, stored responses, sessions)."""
    from apitwin.mockserver.behaviours import (
        chat,
        completions,
        echo,
        embeddings,
        images,
        jobs,
        models,
        responses,
        sessions,
    )

    return [
        (sessions.match, False),
        (jobs.match, False),
        (chat.match, True),
        (completions.match, True),
        (responses.match, False),
        (embeddings.match, True),
        (images.match, False),
        (models.match, True),
        (echo.match, True),
    ]


def behaviours_for(api: CompiledApi, operation: Operation) -> tuple[list[Behaviour], bool]:
    """The behaviours that apply to ``operation`` (decided once at load time), and whether its answers
    are a function of the request alone, so an identical request may get the remembered answer."""
    found, pure = [], True
    for matcher, stateless in _matchers():
        behaviour = matcher(api, operation)
        if behaviour is not None:
            found.append(behaviour)
            pure = pure and stateless
    return found, pure
