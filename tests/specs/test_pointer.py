"""The one JSON-pointer and ``$ref`` layer every stage uses."""

from __future__ import annotations

import pytest

from apitwin.specs.pointer import escape, follow, join, resolve, unescape

DOCUMENT = {
    "components": {
        "schemas": {
            "Id": {"type": "integer"},
            "Alias": {"$ref": "#/components/schemas/Id"},
            "Loop": {"$ref": "#/components/schemas/Loop2"},
            "Loop2": {"$ref": "#/components/schemas/Loop"},
            "a/b~c": {"type": "string"},
        }
    },
    "list": [10, 20],
}


def test_escape_and_join_round_trip_through_resolve() -> None:
    pointer = join("#/components/schemas", "a/b~c")
    assert pointer == "#/components/schemas/a~1b~0c" and unescape(escape("a/b~c")) == "a/b~c"
    assert resolve(DOCUMENT, pointer) == {"type": "string"}
    assert resolve(DOCUMENT, "/list/1") == 20


@pytest.mark.parametrize("pointer", ["#/components/nothing", "/list/2", "/list/x", "/list/1/deeper"])
def test_resolve_raises_key_error_for_what_is_not_there(pointer: str) -> None:
    with pytest.raises(KeyError):
        resolve(DOCUMENT, pointer)


def test_follow_walks_a_chain_and_leaves_plain_nodes_alone() -> None:
    assert follow(DOCUMENT, {"$ref": "#/components/schemas/Alias"}) == {"type": "integer"}
    assert follow(DOCUMENT, {"type": "boolean"}) == {"type": "boolean"}
    assert follow(DOCUMENT, "not a schema") == "not a schema"


@pytest.mark.parametrize(
    "ref", ["#/components/schemas/Missing", "#/components/schemas/Loop", "other.yaml#/components/schemas/Id"]
)
def test_follow_gives_none_for_a_dangling_looping_or_external_chain(ref: str) -> None:
    assert follow(DOCUMENT, {"$ref": ref}) is None


def test_follow_lays_siblings_over_the_target_only_when_asked() -> None:
    node = {"$ref": "#/components/schemas/Id", "description": "the id", "minimum": 1}
    assert follow(DOCUMENT, node) == {"type": "integer"}
    assert follow(DOCUMENT, node, merge_siblings=True) == {"type": "integer", "description": "the id", "minimum": 1}


def test_a_percent_encoded_fragment_resolves_as_rfc_6901_says():
    """conjur's ``#/paths/~1authn~1%7Baccount%7D~1login``: refused as a dangling reference at load."""
    document = {"paths": {"/authn/{account}/login": {"post": {"ok": 1}}, "/100%": {"x": 2}}}
    assert resolve(document, "#/paths/~1authn~1%7Baccount%7D~1login/post/ok") == 1
    assert resolve(document, "#/paths/~1100%/x") == 2  # a literal % still resolves as written
