"""mockserver/validation.py ``shape_problem``: what is refused before schema validation (depth, lone surrogates)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from apitwin.mockserver.validation import MAX_DEPTH, shape_problem


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
