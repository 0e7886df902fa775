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
