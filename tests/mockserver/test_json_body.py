"""mockserver/json_body.py: what is refused before schema validation (depth, value count, lone surrogates)."""

from __future__ import annotations

import json
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from apitwin.mockserver import json_body
from apitwin.mockserver.json_body import MAX_DEPTH, MAX_VALUES, parse_json, shape_problem, too_many_values
from apitwin.mockserver.validation import count_values


def problem(text: str):
    return shape_problem(json.loads(text), text)


def test_a_lone_surrogate_is_named_with_its_pointer_and_shown_escaped():
    found = problem(r'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi \udfff"}]}')
    assert found is not None
    assert found.pointer == "/messages/0/content"
    assert found.received == r'"hi \udfff"'
    assert found.message.startswith("body/messages/0/content: a string with a lone surrogate escape")
    found.message.encode("utf-8")  # the message itself is sendable


def test_a_lone_surrogate_in_a_property_name_is_named_too():
    found = problem(r'{"a": {"\ud800": 1}}')
    assert found is not None and found.pointer == "/a" and "property name" in found.message


def test_a_surrogate_pair_and_an_escaped_backslash_are_text():
    assert problem(r'{"emoji": "\ud83d\ude00", "literal": "\\ud800"}') is None


def test_nesting_deeper_than_the_limit_is_refused():
    assert problem("[" * MAX_DEPTH + "]" * MAX_DEPTH) is None
    deep = problem("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert deep is not None and "nested too deeply" in deep.message


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80)
@given(value=JSON_VALUES)
def test_a_body_is_refused_exactly_when_it_cannot_be_utf8(value):
    text = json.dumps(value)  # ASCII: every surrogate drawn by st.text() arrives as an escape
    found = shape_problem(json.loads(text), text)
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        sendable = True
    except UnicodeEncodeError:
        sendable = False
    assert (found is None) == sendable, (value, found)


def test_a_million_item_body_is_a_413_naming_the_limit_before_it_is_parsed(monkeypatch):
    raw = json.dumps({"model": "m", "input": [[1, 2]] * 1_000_000}).encode()
    monkeypatch.setattr(json, "loads", None)  # parsing 8 MB of lists is the cost the limit avoids
    value, status, violation = parse_json("op", raw)
    assert (value, status) == (None, 413)
    assert f"more than {MAX_VALUES} JSON values" in violation.message


UNICODE = st.characters(exclude_categories=["Cs"])
UNICODE_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(UNICODE),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(UNICODE, max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60)
@given(value=UNICODE_VALUES, limit=st.integers(min_value=1, max_value=12))
def test_the_value_limit_counts_every_value_and_the_byte_check_never_refuses_a_body_under_it(value, limit):
    raw = json.dumps(value, ensure_ascii=True).encode()
    values = count_values(value, 10**6)
    with patch.object(json_body, "MAX_VALUES", limit):
        assert not too_many_values(raw) or values > limit
        _, status, violation = parse_json("op", raw)
    assert (status == 413) == (values > limit), (value, limit)
    assert (violation is None) == (values <= limit)


def depth(value) -> int:
    """Levels of arrays and objects (a scalar: 0)."""
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    return 0


BRACKETED_TEXT = st.text(alphabet='[]{}"\\ ,:ab', max_size=6)
NESTED_VALUES = st.recursive(
    st.integers() | BRACKETED_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(BRACKETED_TEXT, inner, max_size=3),
    max_leaves=16,
)


@settings(max_examples=150)
@given(value=NESTED_VALUES, limit=st.integers(min_value=0, max_value=6))
def test_the_depth_limit_is_exact_whatever_the_strings_hold(value, limit):
    raw = json.dumps(value).encode()
    with patch.object(json_body, "MAX_DEPTH", limit):
        found = json_body.structure_problem(raw)
    assert (found is not None and "nested too deeply" in found.message) == (depth(value) > limit), (value, limit)


def test_a_round_peels_one_level_even_where_brackets_and_braces_alternate():
    assert json_body.nested_deeper(b"{[{[]}]}", 3)
    assert not json_body.nested_deeper(b"{[{[]}]}", 4)
    assert not json_body.nested_deeper(b"[]]", 1)  # unbalanced: left for the parser to name


EDGE_TEXTS = [
    "1e999",
    "[NaN, Infinity, -Infinity]",
    "111111111111111111111111111111",
    "-9223372036854775809",
    "18446744073709551616",
    '{"big": 123456789012345678901234567890, "s": "1234567890123456789"}',
    '"\\ud800"',
    '{"a": 1, "a": 2}',
    "-0",
    "0.1e1",
    "2.2250738585072014e-308",
    "[1.0, -0.0, 1E5, 5e-324]",
    '{"\\ud83d\\ude00": "\\u0000"}',
]


@settings(max_examples=150)
@given(value=JSON_VALUES | st.floats() | st.integers(min_value=-(10**30), max_value=10**30), ascii_only=st.booleans())
def test_a_parsed_body_is_what_json_loads_makes_of_it(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    if not ascii_only:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return  # not a body anyone can send
    parsed, _, violation = parse_json("op", text.encode("utf-8"))
    if violation is None:
        assert repr(parsed) == repr(json.loads(text))  # repr: NaN equals itself, 1 is not 1.0
    else:
        assert "lone surrogate" in violation.message, violation.message


def test_what_orjson_would_read_otherwise_is_read_as_json_reads_it():
    for text in EDGE_TEXTS:
        assert repr(json_body.loads(text.encode("utf-8", "surrogatepass"), text)) == repr(json.loads(text)), text


def test_the_collector_is_paused_while_a_body_is_parsed_and_resumed_after(monkeypatch):
    import gc

    seen = []
    real = json_body.orjson.loads
    monkeypatch.setattr(json_body.orjson, "loads", lambda raw: seen.append(gc.isenabled()) or real(raw))
    assert gc.isenabled()
    with json_body.collector_paused():  # another thread parsing at the same time
        parse_json("op", b'{"a": [1, 2]}')
        assert not gc.isenabled()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        parse_json("op", b"[]")
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
