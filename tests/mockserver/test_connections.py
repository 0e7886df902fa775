"""An answer's head leaves with the first piece of its body (mockserver.connections.JoinedWrites)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from apitwin.mockserver.connections import JoinedWrites


class Transport:
    """What a request cycle's transport is asked, written down: one entry per system call it would make."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def writelines(self, pieces: Any) -> None:
        self.sent.append(b"".join(pieces))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def on_a_loop(scenario: Callable[[JoinedWrites, Transport], Awaitable[None]]) -> None:
    """Run ``scenario`` with a JoinedWrites over a recording transport, on a real event loop (turns matter)."""

    async def main() -> None:
        transport = Transport()
        await scenario(JoinedWrites(transport, asyncio.get_running_loop()), transport)

    asyncio.run(main())


def test_the_head_leaves_with_the_body_in_one_write() -> None:
    async def scenario(joined: JoinedWrites, transport: Transport) -> None:
        joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        joined.write(b"{}")
        assert transport.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        await asyncio.sleep(0)  # the head's own turn comes, with nothing left to send
        assert len(transport.sent) == 1

    on_a_loop(scenario)


def test_a_head_whose_body_comes_later_leaves_alone_on_the_next_turn() -> None:
    async def scenario(joined: JoinedWrites, transport: Transport) -> None:
        joined.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        assert transport.sent == []
        await asyncio.sleep(0)
        assert transport.sent == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"]
        joined.write(b"5\r\nhello\r\n")
        joined.write(b"0\r\n\r\n")
        assert transport.sent[1:] == [b"5\r\nhello\r\n", b"0\r\n\r\n"]  # a stream's pieces go out as they come

    on_a_loop(scenario)


def test_closing_sends_a_held_head_first() -> None:
    async def scenario(joined: JoinedWrites, transport: Transport) -> None:
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        joined.close()
        assert transport.sent == [b"HTTP/1.1 200 OK\r\n\r\n"] and transport.closed
        await asyncio.sleep(0)
        assert len(transport.sent) == 1

    on_a_loop(scenario)
