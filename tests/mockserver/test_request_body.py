"""Reading a request body: its size limit (413) and the deadline for each piece (408), on a fake clock.

The deadlines' own timer is far off (a timeout of an hour); each test moves the fake clock and sweeps by hand.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from apitwin.mockserver.request_body import BodyReader

TIMEOUT = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Client:
    """Sends the body's pieces when the test says so (``send``), or goes away (``leave``)."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.messages.get()

    def send(self, piece: bytes, more: bool) -> None:
        self.messages.put_nowait({"type": "http.request", "body": piece, "more_body": more})

    def leave(self) -> None:
        self.messages.put_nowait({"type": "http.disconnect"})


def request(client: Client) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": []}, client.receive)


async def settle() -> None:
    """Let the reading task take every message sent so far."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_body_whose_pieces_keep_coming_is_read_whole_however_long_it_takes_in_all():
    async def scenario() -> tuple[bytes, int]:
        clock, client = Clock(), Client()
        reader = BodyReader(1000, TIMEOUT, clock)
        reading = asyncio.create_task(reader.read(request(client), None))
        await settle()
        deadlines = reader.deadlines(asyncio.get_running_loop())
        for piece in (b'{"a"', b": 1", b"}"):
            clock.now += TIMEOUT * 0.9  # each piece just in time, three timeouts after the first wait began
            deadlines.sweep()
            client.send(piece, more=piece != b"}")
            await settle()
        assert reading.done()
        return reading.result()

    assert asyncio.run(scenario()) == (b'{"a": 1}', 0)


def test_a_body_that_stops_coming_gets_408_once_a_whole_timeout_passed_since_its_last_piece():
    async def scenario() -> tuple[bool, tuple[bytes, int]]:
        clock, client = Clock(), Client()
        reader = BodyReader(1000, TIMEOUT, clock)
        reading = asyncio.create_task(reader.read(request(client), None))
        await settle()
        deadlines = reader.deadlines(asyncio.get_running_loop())
        client.send(b'{"a"', more=True)
        await settle()
        clock.now += TIMEOUT * 0.99
        deadlines.sweep()
        await settle()
        waiting_before = not reading.done()
        clock.now += TIMEOUT * 0.02
        deadlines.sweep()
        await settle()
        assert reading.done()
        return waiting_before, reading.result()

    waiting_before, outcome = asyncio.run(scenario())
    assert waiting_before
    assert outcome == (b"", 408)


def test_a_408_leaves_the_task_uncancelled_for_the_answer_that_follows():
    async def scenario() -> tuple[tuple[bytes, int], int]:
        clock, client = Clock(), Client()
        reader = BodyReader(1000, TIMEOUT, clock)

        async def read_then_answer() -> tuple[tuple[bytes, int], int]:
            outcome = await reader.read(request(client), None)
            await asyncio.sleep(0)  # the error answer is written after the read: it must not be cancelled
            task = asyncio.current_task()
            assert task is not None
            return outcome, task.cancelling()

        reading = asyncio.create_task(read_then_answer())
        await settle()
        clock.now += TIMEOUT
        deadlines = reader.deadlines(asyncio.get_running_loop())
        deadlines.sweep()
        await settle()
        assert not deadlines.pending and not deadlines.expired
        return await reading

    assert asyncio.run(scenario()) == ((b"", 408), 0)


def test_a_request_cancelled_from_outside_stays_cancelled_and_is_no_408():
    async def scenario() -> None:
        client = Client()
        reader = BodyReader(1000, TIMEOUT, Clock())
        reading = asyncio.create_task(reader.read(request(client), None))
        await settle()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert not reader.deadlines(asyncio.get_running_loop()).pending

    asyncio.run(scenario())


def test_a_body_over_the_limit_gets_413_whether_announced_or_not():
    async def scenario() -> tuple[tuple[bytes, int], tuple[bytes, int]]:
        reader = BodyReader(10, TIMEOUT, Clock())
        announced = await reader.read(request(Client()), "11")  # refused before a byte is read
        client = Client()
        client.send(b"0123456", more=True)
        client.send(b"789ab", more=False)
        sent = await reader.read(request(client), None)
        assert not reader.deadlines(asyncio.get_running_loop()).pending
        return announced, sent

    assert asyncio.run(scenario()) == ((b"", 413), (b"", 413))


def test_a_client_leaving_mid_body_raises_client_disconnect():
    async def scenario() -> None:
        client = Client()
        client.send(b"{", more=True)
        client.leave()
        reader = BodyReader(1000, TIMEOUT, Clock())
        with pytest.raises(ClientDisconnect):
            await reader.read(request(client), None)
        assert not reader.deadlines(asyncio.get_running_loop()).pending  # no later sweep cancels this task

    asyncio.run(scenario())


def test_the_body_is_kept_for_starlettes_form_parser():
    async def scenario() -> bytes:
        client = Client()
        client.send(b"a=1", more=False)
        incoming = request(client)
        await BodyReader(1000, TIMEOUT, Clock()).read(incoming, None)
        return await incoming.body()

    assert asyncio.run(scenario()) == b"a=1"
