"""The proxy benchmark's pieces that need no apitwin: the keep-alive client's reading and timing, the table."""

from __future__ import annotations

import asyncio

from bench import keepalive, proxy_bench


def test_the_client_reads_chunked_and_sized_answers_on_one_connection_and_sees_the_first_event():
    answers = [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n: hi\r\n9\r\ndata: 1\n\n\r\n0\r\n\r\n",
        b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok",
    ]

    async def main() -> list[keepalive.Answer]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for answer in answers:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(answer)
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = keepalive.request_bytes("127.0.0.1", port, "/x", b"", ())
        got = [await keepalive.exchange(reader, writer, request) for _ in answers]
        writer.close()
        server.close()
        return got

    stream, sized = asyncio.run(main())
    assert (stream.status, stream.size, stream.first_event_ms is not None) == (200, 13, True)
    assert (sized.status, sized.size, sized.first_event_ms) == (201, 2, None)


def side(*totals: float) -> proxy_bench.Side:
    load = keepalive.Load(1, 1.0, [keepalive.Answer(total, total / 2, 200, 10) for total in totals])
    return proxy_bench.Side(load, upstream_cpu_s=0.001 * len(totals), proxy_cpu_s=0.002 * len(totals))


def test_what_the_proxy_adds_is_proxied_minus_direct_and_the_target_is_judged_at_c16():
    results = proxy_bench.ProxyResults(proxy_bench.Settings(1, 0, (16,)), {"cpus": 2, "cpu_model": "x",
                                       "load_average_at_start": [0], "python": "3", "date": "d"})  # fmt: skip
    results.rows = [
        proxy_bench.Row("chat", 16, side(1.0, 1.0, 1.0), side(2.0, 2.5, 3.0)),
        proxy_bench.Row("stream", 16, side(4.0), side(10.0)),
    ]
    assert results.rows[0].added(0.5) == 1.5 and results.rows[1].added(0.5, first_event=True) == 3.0
    assert results.verdicts() == [
        ("chat: p50 added at c=16", 1.5, True),
        ("stream: first event added at c=16", 3.0, False),
    ]
    table = proxy_bench.markdown(results)
    assert "| chat | 16 | through the proxy | 3.0 | 2.50 |" in table and "MISSED" in table
    assert results.rows[0].proxied.as_json()["proxy_cpu_ms_per_exchange"] == 2.0


def test_alternating_rounds_join_into_one_side_per_target():
    first, second = side(1.0, 2.0), side(3.0)
    joined = first.joined(second)
    assert [answer.total_ms for answer in joined.load.answers] == [1.0, 2.0, 3.0]
    assert joined.load.seconds == 2.0 and joined.load.rate == 1.5
    assert (joined.upstream_cpu_s, joined.proxy_cpu_s) == (0.003, 0.006)
