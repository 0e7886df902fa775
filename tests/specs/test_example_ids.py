"""Ids of a vendor's examples given to the string schemas they fill (specs/example_ids.py), issue 12 point 3."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apitwin.specs.example_ids import IdExamples, agreed_prefix, id_like, id_prefix
from apitwin.specs.repairs import RepairLog


@pytest.mark.parametrize(
    ("value", "prefix"),
    [
        ("chatcmpl-123", "chatcmpl-"),
        ("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "chatcmpl-"),
        ("chatcmpl-81964e30-1a7c-9668-b78c-a750587ec497", "chatcmpl-"),
        ("resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", "resp_"),
        ("file-abc123", "file-"),
        ("batch_abc123", "batch_"),
        ("gen-1752165706-Nd1dXa1kuCCoOIpp5oxy", "gen-"),
        # Names, not ids: no digit in the first run, a version, a bare UUID, a composite key.
        ("text-embedding-3-small", None),
        ("gpt-4o", None),
        ("c13865eb-50bf-440c-922f-19b1bb000000", None),
        ("video_68e56d5e6ca8:openai/sora-2", None),
        ("resp_abc", None),
        ("Chatcmpl-123", None),
    ],
)
def test_the_prefix_an_id_shows(value: str, prefix: str | None) -> None:
    assert id_prefix(value) == prefix


def test_id_like_names() -> None:
    assert id_like("id") and id_like("file_id") and id_like("previous_response_id")
    assert not id_like("identity") and not id_like("ids") and not id_like("model")


def test_the_prefix_most_ids_show_is_agreed_when_it_is_common_enough() -> None:
    # A gateway's chat answers: OpenAI-style ids lead, OpenRouter-style and bare UUIDs follow.
    gateway = ["chatcmpl-a1b2c3"] * 38 + ["gen-1744191323-N0aZ"] * 23 + ["c13865eb-50bf-440c"] * 50
    assert agreed_prefix(gateway) == "chatcmpl-"
    assert agreed_prefix(["file-abc123"]) == "file-"
    assert agreed_prefix(["msg_1a", "rs_2b"]) is None  # a tie says nothing
    assert agreed_prefix(["cgt-2025x"] * 3 + ["c13865eb-50bf"] * 20) is None  # one upstream's, not the API's
    assert agreed_prefix(["01Fs8jKevgqjiFmYQIzTZ85k"]) is None


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {},
    "components": {
        "schemas": {
            "Completion": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string"},
                    "object": {"type": "string", "enum": ["chat.completion"]},
                    "file_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "run_id": {"$ref": "#/components/schemas/RunId"},
                    "owner_id": {"type": "string", "examples": ["org-abc123"]},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                },
            },
            "RunId": {"type": "string"},
            "Item": {
                "oneOf": [{"$ref": "#/components/schemas/Message"}, {"$ref": "#/components/schemas/Call"}],
                "discriminator": {
                    "propertyName": "type",
                    "mapping": {"message": "#/components/schemas/Message", "call": "#/components/schemas/Call"},
                },
            },
            "Message": {
                "type": "object",
                "properties": {"type": {"const": "message"}, "id": {"type": "string"}},
            },
            "Call": {"type": "object", "properties": {"type": {"const": "call"}, "id": {"type": "string"}}},
        }
    },
}
COMPLETION = "/components/schemas/Completion"


def _given(values: list[Any]) -> tuple[dict[str, Any], RepairLog]:
    document = copy.deepcopy(DOCUMENT)
    ids = IdExamples(document)
    for number, value in enumerate(values):
        ids.add(value, document["components"]["schemas"]["Completion"], COMPLETION, f"page-{number}")
    log = RepairLog()
    ids.give(document, log, kind="examples-from-samples", examples="response examples")
    return document, log


def test_ids_go_to_the_string_schema_they_fill_through_refs_and_branches() -> None:
    example = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "file_id": "file-abc123",
        "run_id": "run_abc123",
        "owner_id": "org-xyz789",
        "items": [{"type": "message", "id": "msg_abc123"}, {"type": "call", "id": "call_abc123"}],
    }
    document, log = _given([example])
    schemas = document["components"]["schemas"]
    completion = schemas["Completion"]["properties"]
    assert completion["id"]["examples"] == ["chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"]
    assert completion["file_id"]["anyOf"][0]["examples"] == ["file-abc123"]  # the branch the value takes
    assert schemas["Message"]["properties"]["id"]["examples"] == ["msg_abc123"]  # the discriminator's branch
    assert schemas["Call"]["properties"]["id"]["examples"] == ["call_abc123"]
    # A shared schema behind a $ref is not the property's own (the mock compiles it without the name); the
    # document's own examples already show a prefix; an enumeration is no id.
    assert "examples" not in schemas["RunId"]
    assert completion["owner_id"]["examples"] == ["org-abc123"]
    assert "examples" not in completion["object"]
    assert {repair.kind for repair in log.repairs} == {"examples-from-samples"}
    first = log.repairs[0]
    assert first.pointer == f"{COMPLETION}/properties/id/examples"
    assert first.before == "<absent>" and first.after == ["chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"]
    assert first.source == "page-0" and "'chatcmpl-'" in first.reason


def test_only_ids_that_agree_on_a_prefix_are_given_and_at_most_three() -> None:
    agreeing = [{"id": f"chatcmpl-{number}abcdefgh"} for number in range(5)]
    document, log = _given([*agreeing, {"id": "gen-1744191323-N0aZ"}, {"id": "c13865eb-50bf-440c-922f"}])
    given = document["components"]["schemas"]["Completion"]["properties"]["id"]["examples"]
    assert given == ["chatcmpl-0abcdefgh", "chatcmpl-1abcdefgh", "chatcmpl-2abcdefgh"]
    assert log.repairs[0].source == ", ".join(f"page-{number}" for number in range(5))
    assert log.repairs[0].reason.startswith("5 of the 7 ids")
    split = [{"id": "chatcmpl-1abcdefgh"}, {"id": "gen-1744191323-N0aZ"}]
    document, log = _given(split)
    assert "examples" not in document["components"]["schemas"]["Completion"]["properties"]["id"] and not log.repairs


def test_an_object_several_branches_accept_says_nothing_about_its_branch() -> None:
    document = copy.deepcopy(DOCUMENT)
    loose = {"oneOf": [{"type": "object", "properties": {"id": {"type": "string"}}}, {"type": "object"}]}
    document["components"]["schemas"]["Loose"] = loose
    ids = IdExamples(document)
    ids.add({"id": "msg_abc123"}, loose, "/components/schemas/Loose", "page")
    log = RepairLog()
    assert ids.give(document, log, kind="k", examples="e") == 0 and not log.repairs
    assert "examples" not in loose["oneOf"][0]["properties"]["id"]
