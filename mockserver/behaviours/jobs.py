"""Async jobs: create → poll through the documented statuses → done, with results the mock serves.

Keyed on the ``x-apitwin-job`` extension of a create operation (see ``specs/overlays``)::

    poll:    {path, method, parameter, in: query|path, from: <id field of the create answer>}
    field:   the status property (default ``status``)
    statuses, pending, done, failed: the status values; a job walks ``pending`` then reaches ``done[0]``
    cancel:  {path, method, parameter, in, status: <status a cancel sets>, refused: <status when finished>,
              time: [<properties that say when the cancel was asked, besides cancelled_at/canceled_at>]}

Three behaviours come from one extension: on the create operation (store a new job, answer its id
and first status), on the poll operation (advance and answer the job, or 404 for an unknown id),
and on the cancel operation. Answers start from generated values and change only the id, status,
URL and timestamp fields, each change kept only if the answer stays valid. A finished job's URL
fields point to tiny media files served under ``/_apitwin/media/``; a finished job whose poll
declares a line-delimited answer (JSONL) answers its result lines.

A job moves one status every ``--job-polls`` polls, or every ``--job-seconds`` seconds when set
(whichever comes first). Everything lives in the server's store, so jobs survive restarts and are
shared by workers using the same SQLite file or Redis.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from apitwin.mockserver import media as media_files
from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.behaviours.services import JobTiming
from apitwin.mockserver.edits import DELETE, keep_valid
from apitwin.mockserver.errors import NOT_FOUND
from apitwin.mockserver.operations import CompiledApi, Media, Operation, is_json, seeded
from apitwin.specs.pointer import follow

JOB_KIND = "job"
MEDIA_KIND = "media"
LINE_MEDIA_TYPES = ("application/jsonl", "application/x-ndjson", "application/json-seq")
ERROR_FIELDS = ("error", "errors", "failure", "failure_reason")
END_TIME_FIELDS = ("ended_at", "completed_at", "finished_at")
CANCEL_TIME_FIELDS = ("cancelled_at", "canceled_at")
"""What says when a job was cancelled where the extension does not name the API's own property (``cancel.time``)."""
MAX_RESULT_LINES = 1000
KEPT_STRING = 1024
"""Longest string of a create request a job keeps (ids and names, not prompts or files)."""
RICH_ATTEMPTS = 8


@dataclass(slots=True, frozen=True)
class Endpoint:
    path: str
    method: str
    parameter: str
    location: str


@dataclass(slots=True, frozen=True)
class Lifecycle:
    """One ``x-apitwin-job`` extension, read once at load time."""

    create: str
    """The canonical path of the create operation (names the family of stored jobs)."""
    poll: Endpoint
    id_from: str
    field: str
    pending: tuple[str, ...]
    done: tuple[str, ...]
    cancel: Endpoint | None
    cancel_status: str | None
    refused: int
    cancel_times: tuple[str, ...]
    """The properties that say when a cancel was asked: the extension's ``cancel.time``, then the generic ones."""


@dataclass(slots=True)
class Progress:
    """Where a job stands at one poll."""

    status: str | None
    finished: bool
    cancelled: bool


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    path = _canonical(api, operation)
    method = operation.method.lower()
    for lifecycle in _lifecycles(api):
        if lifecycle.create == path and _raw(api, operation).get("x-apitwin-job") is not None:
            return _create_behaviour(lifecycle)
        if (lifecycle.poll.path, lifecycle.poll.method) == (path, method):
            return _poll_behaviour(lifecycle, operation)
        if lifecycle.cancel is not None and (lifecycle.cancel.path, lifecycle.cancel.method) == (path, method):
            return _cancel_behaviour(lifecycle)
    return None


# --- reading the spec -------------------------------------------------------------------------


def _raw(api: CompiledApi, operation: Operation) -> dict[str, Any]:
    return api.document["paths"][operation.path][operation.method.lower()]


def _canonical(api: CompiledApi, operation: Operation) -> str:
    """The path an alias operation mirrors (``x-apitwin-alias-of``), else its own."""
    return _raw(api, operation).get("x-apitwin-alias-of") or operation.path


def _lifecycles(api: CompiledApi) -> list[Lifecycle]:
    found = []
    for operation in api.operations:
        extension = _raw(api, operation).get("x-apitwin-job")
        if isinstance(extension, dict) and isinstance(extension.get("poll"), dict):
            found.append(_lifecycle(api, _canonical(api, operation), extension))
    return found


def _lifecycle(api: CompiledApi, create: str, extension: dict[str, Any]) -> Lifecycle:
    poll = _endpoint(extension["poll"])
    cancel = _endpoint(extension["cancel"]) if isinstance(extension.get("cancel"), dict) else None
    field = extension.get("field", "status")
    allowed = _allowed_statuses(api, poll, field)
    return Lifecycle(
        create=create,
        poll=poll,
        id_from=extension["poll"].get("from", "id"),
        field=field,
        pending=tuple(status for status in extension.get("pending") or () if allowed is None or status in allowed),
        done=tuple(status for status in extension.get("done") or () if allowed is None or status in allowed),
        cancel=cancel,
        cancel_status=(extension.get("cancel") or {}).get("status"),
        refused=int((extension.get("cancel") or {}).get("refused", 409)),
        cancel_times=tuple(name for name in (extension.get("cancel") or {}).get("time") or () if isinstance(name, str))
        + CANCEL_TIME_FIELDS,
    )


def _endpoint(entry: dict[str, Any]) -> Endpoint:
    return Endpoint(
        entry["path"], entry.get("method", "get").lower(), entry.get("parameter", "id"), entry.get("in", "query")
    )


def _allowed_statuses(api: CompiledApi, poll: Endpoint, field: str) -> set[str] | None:
    """The values the poll answer's status property accepts (``None``: any string): a documented
    status the poll schema does not list is skipped rather than sent invalid."""
    operation = next(
        (op for op in api.operations if (_canonical(api, op), op.method.lower()) == (poll.path, poll.method)), None
    )
    if operation is None:
        return None
    for response in operation.responses.values():
        for media in response.media.values():
            schema = follow(api.document, media.schema)
            prop = (
                follow(api.document, ((schema or {}).get("properties") or {}).get(field))
                if isinstance(schema, dict)
                else None
            )
            if isinstance(prop, dict) and isinstance(prop.get("enum"), list):
                return set(prop["enum"])
    return None


# --- behaviours -------------------------------------------------------------------------------


def _create_behaviour(lifecycle: Lifecycle) -> Behaviour:
    async def create(exchange: Exchange) -> Response | None:
        media = _json_media(exchange)
        if media is None:
            return None
        body = exchange.generate(media)
        if not isinstance(body, dict):
            return None
        shaper = _Shaper(exchange, media)
        job_id = _new_id(shaper, body, lifecycle.id_from)
        if job_id is None:
            return None
        pending = pending_of(lifecycle, exchange.services.jobs)
        body = shaper.set(body, lifecycle.field, pending[0] if pending else None)
        body = shaper.withhold_outcome(body)
        now = exchange.services.clock()
        record = {
            "id": job_id,
            "created": now,
            "polls": 0,
            "request": kept_request(exchange.body),
            "cancelled_poll": None,
            "cancelled_time": None,
        }
        await exchange.services.store.put(JOB_KIND, _job_key(exchange, lifecycle, job_id), record)
        return exchange.json(body, media=media)

    return create


def _poll_behaviour(lifecycle: Lifecycle, operation: Operation) -> Behaviour:
    async def poll(exchange: Exchange) -> Response | None:
        job_id = _requested_id(exchange, lifecycle.poll)
        if job_id is None:
            return None
        key = _job_key(exchange, lifecycle, job_id)
        record = await exchange.services.store.update(JOB_KIND, key, _count_poll)
        if record is None:
            return _unknown(exchange, lifecycle.poll, job_id)
        progress = _progress(lifecycle, record, exchange)
        lines_media = _line_media(exchange)
        if progress.finished and lines_media is not None:
            return await _lines_answer(exchange, lifecycle, record, lines_media)
        media = _json_media(exchange)
        if media is None:
            return Response(status_code=exchange.status)  # the spec declares no body: the known id is the answer
        body = await _job_object(exchange, lifecycle, media, record, progress)
        return exchange.json(body, media=media)

    return poll


def _cancel_behaviour(lifecycle: Lifecycle) -> Behaviour:
    async def cancel(exchange: Exchange) -> Response | None:
        assert lifecycle.cancel is not None
        job_id = _requested_id(exchange, lifecycle.cancel)
        if job_id is None:
            return None
        key = _job_key(exchange, lifecycle, job_id)
        timing = exchange.services.jobs
        now = exchange.services.clock()
        steps = len(pending_of(lifecycle, timing))

        def request_cancel(record: dict[str, Any]) -> dict[str, Any]:
            if record["cancelled_poll"] is not None or _stage(record, timing, now) >= steps:
                return record
            return {**record, "cancelled_poll": record["polls"], "cancelled_time": now}

        record = await exchange.services.store.update(JOB_KIND, key, request_cancel)
        if record is None:
            return _unknown(exchange, lifecycle.cancel, job_id)
        progress = _progress(lifecycle, record, exchange)
        if progress.finished or record["cancelled_poll"] is None:
            message = f"{job_id} cannot be canceled because it has already finished processing"
            return exchange.error(
                lifecycle.refused, message, location=lifecycle.cancel.location, pointer=f"/{lifecycle.cancel.parameter}"
            )
        media = _json_media(exchange)
        if media is None:
            return Response(status_code=exchange.status)
        body = await _job_object(exchange, lifecycle, media, record, progress)
        return exchange.json(body, media=media)

    return cancel


# --- progress ---------------------------------------------------------------------------------


def _count_poll(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "polls": record["polls"] + 1}


def _stage(record: dict[str, Any], timing: JobTiming, now: float) -> int:
    """How many status steps the job has moved: one per ``job_polls`` polls or ``job_seconds`` seconds."""
    steps = []
    if timing.polls > 0:
        steps.append(record["polls"] // timing.polls)
    if timing.seconds:
        steps.append(int((now - record["created"]) / timing.seconds))
    return max(steps) if steps else 1 << 30  # neither set: done at once


def status_now(api: CompiledApi, create: str, record: dict[str, Any], timing: JobTiming, now: float) -> str | None:
    """The status a stored job of the family ``create`` has ``now``: what its latest poll (or its creation) showed,
    moved on by time when ``--job-seconds`` is set (the dashboard's state view)."""
    for lifecycle in _lifecycles(api):
        if lifecycle.create == create:
            return _progress_at(lifecycle, record, timing, now).status
    return None


def _progress(lifecycle: Lifecycle, record: dict[str, Any], exchange: Exchange) -> Progress:
    return _progress_at(lifecycle, record, exchange.services.jobs, exchange.services.clock())


def _progress_at(lifecycle: Lifecycle, record: dict[str, Any], timing: JobTiming, now: float) -> Progress:
    done = lifecycle.done[0] if lifecycle.done else None
    if record.get("cancelled_poll") is not None:
        since = {**record, "polls": record["polls"] - record["cancelled_poll"], "created": record["cancelled_time"]}
        if _stage(since, timing, now) >= 1:
            return Progress(done, True, True)
        return Progress(lifecycle.cancel_status, False, True)
    stage = _stage(record, timing, now)
    pending = pending_of(lifecycle, timing)
    if stage < len(pending):
        return Progress(pending[stage], False, False)
    return Progress(done, True, False)


def pending_of(lifecycle: Lifecycle, timing: JobTiming) -> tuple[str, ...]:
    """The statuses a job walks before it is done: the overlay's ``pending``, or ``--job-path`` for its family."""
    chosen = (timing.paths or {}).get(lifecycle.create)
    return tuple(chosen) if chosen is not None else lifecycle.pending


def check_job_paths(apis: list[CompiledApi], job_paths: dict[str, list[str]]) -> None:
    """Refuse a ``--job-path`` for no job of the served APIs, or with a status its poll answer cannot carry."""
    families = {lifecycle.create: (api, lifecycle) for api in apis for lifecycle in _lifecycles(api)}
    for create, statuses in job_paths.items():
        if create not in families:
            known = ", ".join(sorted(families)) or "none"
            raise ValueError(f"{create} creates no job of the served APIs (jobs: {known})")
        api, lifecycle = families[create]
        allowed = _allowed_statuses(api, lifecycle.poll, lifecycle.field)
        wrong = [status for status in statuses if allowed is not None and status not in allowed]
        if wrong:
            raise ValueError(
                f"{create}: {', '.join(wrong)} is not a status its poll answers ({', '.join(sorted(allowed or ()))})"
            )


# --- answers ----------------------------------------------------------------------------------


async def _job_object(
    exchange: Exchange, lifecycle: Lifecycle, media: Media, record: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """The job as the poll (or cancel) answer shows it now; stable parts stay the same across polls."""
    shaper = _Shaper(exchange, media)
    body = shaper.richest(seeded(exchange.seed, lifecycle.create, record["id"]))
    for name in (lifecycle.id_from, lifecycle.poll.parameter, "id"):
        if name in shaper.properties():
            body = shaper.set(body, name, record["id"])
            break
    body = shaper.set(body, lifecycle.field, progress.status)
    if progress.cancelled:
        body = shaper.set_time(body, lifecycle.cancel_times, record["cancelled_time"])
    else:
        body = shaper.clear(body, lifecycle.cancel_times)
    if not progress.finished:
        return shaper.withhold_outcome(body)
    body = shaper.clear(body, ERROR_FIELDS)
    body = shaper.set_time(body, END_TIME_FIELDS, exchange.services.clock())
    return await _fill_urls(exchange, lifecycle, shaper, body, record)


async def _fill_urls(
    exchange: Exchange, lifecycle: Lifecycle, shaper: _Shaper, body: dict[str, Any], record: dict[str, Any]
) -> dict[str, Any]:
    token = hashlib.sha256(f"{exchange.api.name}\x1f{lifecycle.create}\x1f{record['id']}".encode()).hexdigest()[:32]
    for slot in shaper.url_slots():
        extension = media_files.extension_for(slot)
        if extension is None:
            body = shaper.withhold(body, slot)
            continue
        name = f"{token}-{'-'.join(slot)}.{extension}"
        trial = shaper.place(body, slot, f"{exchange.base_url}{media_files.MEDIA_PREFIX}{name}")
        if trial is body:
            continue
        await exchange.services.store.put(MEDIA_KIND, name, await _media_record(exchange, lifecycle, record, extension))
        body = trial
    return body


async def _media_record(
    exchange: Exchange, lifecycle: Lifecycle, record: dict[str, Any], extension: str
) -> dict[str, Any]:
    if extension != "jsonl":
        return {"extension": extension}
    lines_media = _line_media_of(exchange, lifecycle)
    lines = _result_lines(exchange, lifecycle, record, lines_media) if lines_media is not None else []
    return {"extension": extension, "lines": lines}


async def _lines_answer(exchange: Exchange, lifecycle: Lifecycle, record: dict[str, Any], media: Media) -> Response:
    lines = _result_lines(exchange, lifecycle, record, media)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return Response(text.encode("utf-8"), status_code=exchange.status, media_type=media.media_type)


def _result_lines(exchange: Exchange, lifecycle: Lifecycle, record: dict[str, Any], media: Media) -> list[Any]:
    """One line per item of the create request that shares a property with the line schema
    (a batch's ``requests[].custom_id``), else a couple of generated lines."""
    rng = seeded(exchange.seed, lifecycle.create, record["id"], "lines")
    shaper = _Shaper(exchange, media)
    keys, items = _request_items(record.get("request"), shaper.properties())
    if not items:
        lines = [shaper.generate(rng) for _ in range(2)]
    else:
        lines = []
        for item in items[:MAX_RESULT_LINES]:
            line = shaper.generate(rng)
            for name in keys:
                line = shaper.set(line, name, item[name])
            lines.append(line)
    for line in lines:
        exchange.check(line, media)
    return lines


def kept_request(body: Any) -> dict[str, Any]:
    """What a later answer needs of a create request: the short string fields of the first
    MAX_RESULT_LINES items of its lists of objects (a batch's ``custom_id``s), not the whole body
    (a 9 MB create would otherwise be kept for as long as its job)."""
    kept: dict[str, Any] = {}
    if not isinstance(body, dict):
        return kept
    for name, value in body.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            kept[name] = [
                {key: text for key, text in item.items() if isinstance(text, str) and len(text) <= KEPT_STRING}
                for item in value[:MAX_RESULT_LINES]
            ]
    return kept


def _request_items(request: Any, line_properties: set[str]) -> tuple[list[str], list[dict[str, Any]]]:
    if not isinstance(request, dict):
        return [], []
    for value in request.values():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            shared = [name for name in line_properties if all(isinstance(item.get(name), str) for item in value)]
            if shared:
                return shared, value
    return [], []


async def media_answer(store: Any, name: str) -> Response | None:
    """The bytes behind a media URL a job answer handed out, or ``None`` for an unknown name."""
    record = await store.get(MEDIA_KIND, name)
    if record is None:
        return None
    if record["extension"] == "jsonl":
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in record.get("lines") or [])
        return Response(text.encode("utf-8"), media_type="application/jsonl")
    built = media_files.build(record["extension"])
    if built is None:
        return None
    media_type, content = built
    if isinstance(record.get("content"), str):  # the very bytes an answer also gave inline (a generated image)
        content = base64.b64decode(record["content"])
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


# --- helpers ----------------------------------------------------------------------------------


def _json_media(exchange: Exchange) -> Media | None:
    if exchange.status >= 300:
        return None
    if exchange.media is not None and is_json(exchange.media.media_type):
        return exchange.media
    return next((media for media_type, media in exchange.response.media.items() if is_json(media_type)), None)


def _line_media(exchange: Exchange) -> Media | None:
    if exchange.status >= 300:
        return None
    return next(
        (
            media
            for media_type, media in exchange.response.media.items()
            if media_type.split(";")[0].strip() in LINE_MEDIA_TYPES
        ),
        None,
    )


def _line_media_of(exchange: Exchange, lifecycle: Lifecycle) -> Media | None:
    """The line media of the lifecycle's poll answer (used when another operation hands out the URL)."""
    for operation in exchange.api.operations:
        if (_canonical(exchange.api, operation), operation.method.lower()) != (
            lifecycle.poll.path,
            lifecycle.poll.method,
        ):
            continue
        response = operation.responses.get(operation.success_status())
        if response is None:
            continue
        for media_type, media in response.media.items():
            if media_type.split(";")[0].strip() in LINE_MEDIA_TYPES:
                return media
    return None


def _requested_id(exchange: Exchange, endpoint: Endpoint) -> str | None:
    if endpoint.location == "path":
        return exchange.path_parameters.get(endpoint.parameter)
    values = exchange.query.get(endpoint.parameter)
    return values[-1] if values else None


def _job_key(exchange: Exchange, lifecycle: Lifecycle, job_id: str) -> str:
    return f"{exchange.api.name}\x1f{lifecycle.create}\x1f{job_id}"


def _unknown(exchange: Exchange, endpoint: Endpoint, job_id: str) -> Response:
    message = (
        f"no job with {endpoint.parameter} {job_id!r}; it was never created here (or the server's state was reset)"
    )
    return exchange.error(404, message, location=endpoint.location, pointer=f"/{endpoint.parameter}", kind=NOT_FOUND)


def _new_id(shaper: _Shaper, body: dict[str, Any], field: str) -> str | None:
    """A fresh unique id the schema accepts in ``field`` (a UUID in the first form it allows)."""
    fresh = uuid.uuid4()
    generated = body.get(field)
    prefix = generated.split("_")[0] + "_" if isinstance(generated, str) and "_" in generated[1:8] else ""
    for candidate in (str(fresh), fresh.hex, f"{prefix}{fresh.hex}", f"job_{fresh.hex}"):
        if shaper.set(body, field, candidate).get(field) == candidate:
            body[field] = candidate
            return candidate
    return None


def _iso(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, tz=datetime.UTC).isoformat()


class _Shaper:
    """Changes to one generated object, each kept only when the object still validates."""

    def __init__(self, exchange: Exchange, media: Media) -> None:
        self.exchange = exchange
        self.media = media
        self.schema = follow(exchange.api.document, media.schema)

    def properties(self) -> set[str]:
        return set((self.schema or {}).get("properties") or {}) if isinstance(self.schema, dict) else set()

    def generate(self, rng: Any) -> Any:
        return self.media.generator.generate(rng) if self.media.generator is not None else {}

    def richest(self, rng: Any) -> dict[str, Any]:
        """Of a few generated objects, the one with the most non-null fields (a finished job shows its result)."""
        best: dict[str, Any] = {}
        for _ in range(RICH_ATTEMPTS):
            body = self.generate(rng)
            if isinstance(body, dict) and sum(v is not None for v in body.values()) > sum(
                v is not None for v in best.values()
            ):
                best = body
        return best

    def set(self, body: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
        """``body`` with ``name`` set, only where the schema declares that property and accepts the value."""
        if value is None or name not in self.properties():
            return body
        return keep_valid(self.media.validator, body, (name,), value)

    def clear(self, body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
        for name in names:
            if name in body:
                body = self.withhold(body, (name,))
        return body

    def set_time(self, body: dict[str, Any], names: tuple[str, ...], moment: float) -> dict[str, Any]:
        for name in names:
            if name in self.properties():
                body = keep_valid(self.media.validator, body, (name,), _iso(moment), int(moment))
        return body

    def withhold_outcome(self, body: dict[str, Any]) -> dict[str, Any]:
        """An unfinished job: no result URLs, no error, no end time."""
        for slot in self.url_slots():
            body = self.withhold(body, slot[:1])
        return self.clear(self.clear(body, ERROR_FIELDS), END_TIME_FIELDS)

    def withhold(self, body: dict[str, Any], slot: tuple[str, ...]) -> dict[str, Any]:
        """``null`` at the slot where allowed, else the slot left out where allowed, else unchanged."""
        head = slot[0]
        if head not in body:
            return body
        return keep_valid(self.media.validator, body, (head,), None, DELETE)

    def place(self, body: dict[str, Any], slot: tuple[str, ...], value: str) -> dict[str, Any]:
        """``body`` with ``value`` at ``slot``, creating the holding objects; ``body`` itself when invalid."""
        return keep_valid(self.media.validator, body, slot, value)

    def url_slots(self) -> list[tuple[str, ...]]:
        slots = _SLOTS.get(self.media)
        if slots is None:
            slots = _SLOTS[self.media] = list(dict.fromkeys(_url_slots(self.exchange.api.document, self.schema, ())))
        return slots


_SLOTS: weakref.WeakKeyDictionary[Any, list[tuple[str, ...]]] = weakref.WeakKeyDictionary()
"""URL slots per compiled media, dropped with the media (an ``id()`` key could be reused by a later object)."""


def _url_slots(document: dict[str, Any], schema: Any, at: tuple[str, ...], depth: int = 0) -> Iterator[tuple[str, ...]]:
    """Paths to string properties that hold a URL (``url``, ``*_url``, ``format: uri``), objects only."""
    schema = follow(document, schema)
    if not isinstance(schema, dict) or depth > 4:
        return
    for name, declared in (schema.get("properties") or {}).items():
        prop = follow(document, declared)
        if not isinstance(prop, dict):
            continue
        here = (*at, name)
        if _is_url(name, prop):
            yield here
        else:
            yield from _url_slots(document, prop, here, depth + 1)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword) or ():
            yield from _url_slots(document, branch, at, depth + 1)


def _is_url(name: str, prop: dict[str, Any]) -> bool:
    types = prop.get("type")
    allows_string = types == "string" or (isinstance(types, list) and "string" in types)
    lowered = name.lower()
    return allows_string and (lowered == "url" or lowered.endswith("_url") or prop.get("format") in ("uri", "url"))
