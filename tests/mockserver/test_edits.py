"""One rule for editing a generated value: an edit is kept only if the value still validates
(``mockserver.edits``), whether the value is copied (errors, jobs) or changed in place (behaviours)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from apitwin.mockserver.edits import DELETE, edit, first_valid, keep_valid, placed, settle
from apitwin.specs.validation import SchemaChecker

SCHEMA = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "pattern": "^job_"},
        "status": {"enum": ["queued", "done"]},
        "ended_at": {"type": ["integer", "null"]},
        "result": {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}}},
    },
    "additionalProperties": False,
}
VALIDATOR = SchemaChecker({}).fast(SCHEMA)


class _Counting:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def is_valid(self, instance: Any, /) -> bool:
        self.seen.append(instance)
        return instance == 2


def test_first_valid_stops_at_the_first_accepted_trial() -> None:
    judge = _Counting()
    assert first_valid(judge, iter([1, 2, 3]), "none") == 2
    assert judge.seen == [1, 2]
    assert first_valid(judge, [1, 3], "none") == "none"
    assert first_valid(None, [5, 6], "none") == 5


def test_keep_valid_copies_and_leaves_the_original_alone() -> None:
    body = {"id": "job_1", "status": "queued", "result": {"url": "https://example.test/"}}
    kept = keep_valid(VALIDATOR, body, ("status",), "running", "done")
    assert kept == {"id": "job_1", "status": "done", "result": {"url": "https://example.test/"}}
    assert body["status"] == "queued"
    nested = keep_valid(VALIDATOR, body, ("result", "url"), "not a url", "https://example.test/a.png")
    assert nested["result"] == {"url": "https://example.test/a.png"}
    assert nested["result"] is not body["result"] and body["result"] == {"url": "https://example.test/"}


def test_keep_valid_answers_the_same_object_when_nothing_fits() -> None:
    body = {"id": "job_1", "status": "queued"}
    assert keep_valid(VALIDATOR, body, ("id",), "nope", 7) is body
    assert keep_valid(VALIDATOR, body, ("status",), DELETE) is body  # required


def test_delete_keeps_the_order_of_the_other_keys() -> None:
    body = {"id": "job_1", "ended_at": 1, "status": "done"}
    assert list(keep_valid(VALIDATOR, body, ("ended_at",), DELETE)) == ["id", "status"]
    assert keep_valid(VALIDATOR, body, ("ended_at",), "soon", None) == {
        "id": "job_1",
        "ended_at": None,
        "status": "done",
    }


def test_placed_creates_the_holders_it_needs() -> None:
    assert placed({"a": 1}, ("b", "c"), 2) == {"a": 1, "b": {"c": 2}}
    assert placed(None, ("b",), 2) == {"b": 2}
    assert placed({"a": 1}, (), 2) == 2


def test_settle_keeps_what_validates_in_place() -> None:
    value: dict[str, Any] = {"id": "job_1", "status": "queued", "ended_at": 3}
    settle(value, VALIDATOR, [edit(value, "status", "running", "done"), edit(value, "ended_at", "late", DELETE)])
    assert value == {"id": "job_1", "status": "done"}
    settle(value, VALIDATOR, [edit(value, "id", "bad", 4)])
    assert value == {"id": "job_1", "status": "done"}


@given(
    st.dictionaries(
        st.sampled_from(["id", "status", "ended_at", "extra"]), st.sampled_from(["job_1", "done", 5, None])
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["id", "status", "ended_at", "extra"]),
            st.lists(st.sampled_from(["job_2", "queued", "x", 0, None, DELETE]), max_size=3),
        ),
        max_size=4,
    ),
)
def test_settle_in_place_equals_keep_valid_edit_by_edit(start: dict[str, Any], wanted: list[Any]) -> None:
    """The two ways of trying edits agree whenever the edits do not all fit at once: each edit, in order,
    takes its first option that keeps the value valid."""
    copied = dict(start)
    for key, options in wanted:
        copied = keep_valid(VALIDATOR, copied, (key,), *options)
    in_place = dict(start)
    settle(in_place, VALIDATOR, [edit(in_place, key, *options) for key, options in wanted])
    everything_at_once = dict(start)
    for key, options in wanted:
        if options:
            everything_at_once = placed(everything_at_once, (key,), options[0])
    if not VALIDATOR.is_valid(everything_at_once):
        assert in_place == copied
