"""The SSE wire format round-trips: what the mock encodes, every reader splits and reads back as the same events,
whatever the line endings and however the bytes arrive."""

from __future__ import annotations

import codecs
import itertools

from hypothesis import given
from hypothesis import strategies as st

from apitwin.specs.sse_wire import DONE, LINE_BREAK, Splitter, comment, frame, json_frame, parse_block, split

NO_BREAKS = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12)
DATA = st.lists(
    st.one_of(
        st.sampled_from(["\n", "\r\n", "\r", ":", " ", "data: ", DONE]), st.characters(blacklist_categories=("Cs",))
    ),
    max_size=30,
).map("".join)
MESSAGE = st.tuples(st.one_of(st.none(), NO_BREAKS.filter(bool)), DATA, st.one_of(st.none(), NO_BREAKS))
"""(event name, data, a comment sent before it)."""


def _encoded(messages: list[tuple[str | None, str, str | None]]) -> bytes:
    body = b""
    for name, data, note in messages:
        if note is not None:
            body += comment(note)
        body += frame(data, name)
    return body


def _expected(messages: list[tuple[str | None, str, str | None]]) -> list[tuple[str | None, str]]:
    """A value's line breaks come back as ``\\n`` (the format has no other way to carry one)."""
    return [(name, LINE_BREAK.sub("\n", data)) for name, data, _ in messages]


def _read(blocks: list[str]) -> list[tuple[str | None, str]]:
    return [parsed for parsed in map(parse_block, blocks) if parsed is not None]


def _pieces(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(body) + 1) for cut in cuts} | {0, len(body)})
    return [body[start:end] for start, end in itertools.pairwise(points)]


@given(st.lists(MESSAGE, max_size=6), st.sampled_from(["\n", "\r\n", "\r"]))
def test_encode_then_split_gives_the_events_back(messages, line_end) -> None:
    body = _encoded(messages).decode("utf-8").replace("\n", line_end)
    assert _read([block.text for block in split(body)]) == _expected(messages)


@given(st.lists(MESSAGE, max_size=6), st.sampled_from(["\n", "\r\n", "\r"]), st.lists(st.integers(0, 500), max_size=10))
def test_bytes_cut_anywhere_split_into_the_same_blocks(messages, line_end, cuts) -> None:
    """Fed piece by piece (a UTF-8 character or a ``\\r\\n`` may straddle two pieces), the splitter finds the
    blocks, and where they end, that it finds in the whole body."""
    body = _encoded(messages).decode("utf-8").replace("\n", line_end).encode("utf-8")
    splitter, decoder = Splitter(), codecs.getincrementaldecoder("utf-8")()
    blocks = [block for piece in _pieces(body, cuts) for block in splitter.feed(decoder.decode(piece))]
    blocks += splitter.feed(decoder.decode(b"", final=True)) + splitter.finish()
    assert blocks == split(body.decode("utf-8"))
    assert _read([block.text for block in blocks]) == _expected(messages)


def test_a_json_frame_is_a_frame_of_its_text() -> None:
    payload = '{"a": "x\\ny", "b": [1, 2]}'
    assert json_frame(payload.encode(), "delta") == frame(payload, "delta")
    assert json_frame(payload.encode(), None) == frame(payload)


def test_the_fields_go_out_in_the_order_a_reader_expects() -> None:
    assert frame("{}", "entry", event_id=7) == b"id: 7\nevent: entry\ndata: {}\n\n"
    assert frame(retry=500) == b"retry: 500\n\n"
    assert frame(DONE) == b"data: [DONE]\n\n"
    assert frame("a\nb") == b"data: a\ndata: b\n\n"
    assert comment("keep-alive") == b": keep-alive\n\n"


def test_a_block_without_data_is_no_event() -> None:
    assert parse_block(": keep-alive") is None
    assert parse_block("retry: 10\nid: 3") is None
    assert parse_block("data") == (None, "")
    assert parse_block("event: a:b\ndata:  x") == ("a:b", " x")


def test_the_last_block_counts_without_its_blank_line() -> None:
    blocks = split("data: 1\n\ndata: 2\n")
    assert [(block.text, block.end, block.ended) for block in blocks] == [
        ("data: 1", 9, True),
        ("data: 2\n", 17, False),
    ]


def test_a_trailing_carriage_return_waits_for_the_next_piece() -> None:
    splitter = Splitter()
    assert splitter.feed("data: 1\r\n\r") == []
    assert [block.text for block in splitter.feed("\ndata: 2\r\n\r\n")] == ["data: 1", "data: 2"]
    assert splitter.finish() == []
