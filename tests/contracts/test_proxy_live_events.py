"""Events cut out of a stream as its bytes pass: the same events as a whole-body parse, however the bytes split."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from apitwin.contracts.proxy.live_events import LiveEvents
from apitwin.contracts.sse import Stream, StreamSpec, parse_events, run_stream_checks
from apitwin.specs.validation import SchemaChecker

PAYLOAD = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}


def spec() -> StreamSpec:
    return StreamSpec(PAYLOAD, SchemaChecker({}).validator(PAYLOAD), (), "[DONE]", None, False, False)


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(body) + 1) for cut in cuts} | {0, len(body)})
    return [body[start:end] for start, end in itertools.pairwise(points)]


def judged(pieces: list[bytes]) -> list[tuple[Any, ...]]:
    live = LiveEvents(spec())
    problems = [problem for piece in pieces for problem in live.feed(piece)] + live.finish()
    return [(problem.event, problem.pointer, problem.message) for problem in problems]


LINE_BREAKS = st.sampled_from(["\n", "\r\n", "\r"])
EVENT = st.tuples(
    st.one_of(st.integers(-3, 3).map(str), st.just('"x"'), st.just("{bad"), st.just("[DONE]"), st.just("é ü")),
    st.booleans(),
    LINE_BREAKS,
    LINE_BREAKS,
)


@given(st.lists(EVENT, max_size=8), st.lists(st.integers(0, 400), max_size=12))
def test_the_events_judged_piece_by_piece_are_those_of_the_whole_body(events, cuts):
    text = ""
    for value, named, first, second in events:
        data = value if value == "[DONE]" or not value.lstrip("-").isdigit() else f'{{"n": {value}}}'
        text += (f"event: e{first}" if named else ": comment" + first) + f"data: {data}{first}{second}"
    body = text.encode()
    whole = Stream(spec(), parse_events(body))
    expected = [
        (problem.event, problem.pointer, problem.message)
        for problem in run_stream_checks(whole)
        if problem.check == "sse_event_schema"
    ]
    assert judged(split(body, cuts)) == expected


def test_a_broken_event_is_reported_when_its_blank_line_arrives_not_before():
    live = LiveEvents(spec())
    assert live.feed(b'data: {"n": 1}\n\ndata: {"n": "one"}') == []
    assert live.feed(b"\r") == []  # a \r may still become \r\n
    problems = live.feed(b"\n\r\n")
    assert [(problem.event, problem.pointer) for problem in problems] == [(1, "/data/n")]
    assert live.feed(b"data: [DONE]\n\n") == [] and live.finish() == []
    assert [event.read for event in live.events] == [0, 2, 3]  # the piece each one was completed in


def test_a_multi_byte_character_split_between_pieces_is_one_character():
    live = LiveEvents(spec())
    body = 'data: {"n": "é"}\n\n'.encode()
    cut = body.index("é".encode()) + 1
    problems = live.feed(body[:cut]) + live.feed(body[cut:])
    assert [problem.received for problem in problems] == ['"é"']
