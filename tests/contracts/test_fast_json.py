"""JSON read in C only where that changes nothing: the value and the error are ``json``'s."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apitwin.contracts import fast_json

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20)


@given(values)
def test_every_json_text_reads_as_json_reads_it(value: object) -> None:
    text = json.dumps(value)
    read = fast_json.loads(text)
    assert read == json.loads(text) and type(read) is type(json.loads(text))
    quick = fast_json.quick(text.encode())
    assert quick is fast_json.UNREAD or quick == read


@pytest.mark.parametrize(
    "text",
    ["123456789012345678901234567890", "-9223372036854775809", '{"n": 18446744073709551616}', '"\\ud800"', "1e400"],
)
def test_what_orjson_would_read_otherwise_or_refuses_is_left_to_json(text: str) -> None:
    assert fast_json.quick(text) is fast_json.UNREAD
    assert fast_json.loads(text) == json.loads(text)


def test_nan_and_errors_are_jsons() -> None:
    assert math.isnan(fast_json.loads("NaN"))
    with pytest.raises(json.JSONDecodeError) as error:
        fast_json.loads('{"a": 1,}')
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads('{"a": 1,}')
    assert (error.value.msg, error.value.pos) == (expected.value.msg, expected.value.pos)
