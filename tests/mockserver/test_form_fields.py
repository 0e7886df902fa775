"""Form fields (urlencoded and multipart) as the mock and the traffic judge read them, and open query objects."""

from __future__ import annotations

from apitwin.mockserver.validation import form_fields

TYPES = {"tags": {"array"}, "count": {"integer"}, "session": {"object"}, "name": {"string"}}


def test_a_repeated_field_is_a_list_and_one_value_of_an_array_field_too() -> None:
    pairs = [("tags", "a"), ("tags", "b"), ("name", "x"), ("count", "3")]
    assert form_fields(pairs, TYPES) == {"tags": ["a", "b"], "name": "x", "count": 3}
    assert form_fields([("tags", "segment")], TYPES) == {"tags": ["segment"]}
    assert form_fields([("tags", "")], TYPES) == {"tags": [""]}


def test_an_array_or_object_written_as_json_text_is_read_as_json() -> None:
    assert form_fields([("tags", '["a", "b"]')], TYPES) == {"tags": ["a", "b"]}
    assert form_fields([("session", '{"model": "m"}')], TYPES) == {"session": {"model": "m"}}


def test_an_undeclared_repeated_field_keeps_every_value() -> None:
    assert form_fields([("other", "1"), ("other", "2")], TYPES) == {"other": ["1", "2"]}
