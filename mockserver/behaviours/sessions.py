"""Sessions carried in a header: returned on every answer, continued when the client sends it back.

Keyed on the spec: an operation that accepts a request header and declares the same header on its
success answer, with "session" in its name (Sequrity's ``X-Session-ID``). The behaviour answers
nothing itself; it settles the header for whatever answer the next behaviours (or the generator)
send, and leaves the session in ``exchange.notes["session"]`` for them.

A known id continues its session (the same id comes back, the turn count grows). An unknown id
starts a new session with a fresh id: the spec documents no error for it (its 4XX is a generic
client error), and says the answer's header names "the session this answer belongs to", which the
client sends back next, so the client follows the new id instead of failing.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.operations import CompiledApi, Operation

SESSION_KIND = "session"


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    accepted = {parameter.name for parameter in operation.parameters if parameter.location == "header"}
    for status, response in operation.responses.items():
        if not status.startswith("2"):
            continue
        for name in response.headers:
            if "session" in name.lower() and name.lower() in accepted:
                return _session_behaviour(name)
    return None


def _session_behaviour(header: str) -> Behaviour:
    async def session(exchange: Exchange) -> Response | None:
        if header not in exchange.response.headers:
            return None  # the chosen answer (an error) does not carry the session
        store, now = exchange.services.store, exchange.services.clock()
        sent = exchange.headers.get(header.lower())

        def next_turn(record: dict[str, Any]) -> dict[str, Any]:
            return {**record, "turns": record["turns"] + 1, "last": now}

        record = await store.update(SESSION_KIND, _key(exchange, sent), next_turn) if sent else None
        if record is None:
            record = {"id": str(uuid.uuid4()), "created": now, "turns": 1, "continued_from": sent}
            await store.put(SESSION_KIND, _key(exchange, record["id"]), record)
        exchange.reply_headers[header] = record["id"]
        exchange.notes["session"] = record
        return None

    return session


def _key(exchange: Exchange, session_id: str | None) -> str:
    return f"{exchange.api.name}\x1f{session_id}"
