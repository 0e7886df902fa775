from __future__ import annotations

import pytest

from apitwin.specs.errors import SpecError
from apitwin.specs.overlay import apply_overlay, read_overlay


def doc():
    return {
        "openapi": "3.1.0",
        "paths": {
            "/a": {"post": {"responses": {"200": {"description": "OK"}}, "tags": ["x"]}},
            "/b": {"get": {"responses": {"200": {"description": "OK"}}}},
        },
    }


def overlay(*actions):
    return {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": list(actions)}


def test_update_merges_objects_recursively():
    result = apply_overlay(
        doc(),
        overlay({"target": "$.paths['/a'].post", "update": {"responses": {"401": {"description": "Unauthorized"}}}}),
        name="o",
    )
    assert set(result["paths"]["/a"]["post"]["responses"]) == {"200", "401"}


def test_update_on_an_array_target_appends():
    result = apply_overlay(doc(), overlay({"target": "$.paths['/a'].post.tags", "update": "y"}), name="o")
    assert result["paths"]["/a"]["post"]["tags"] == ["x", "y"]


def test_wildcard_target_updates_every_match():
    result = apply_overlay(
        doc(), overlay({"target": "$.paths.*[get,post]", "update": {"security": [{"bearer": []}]}}), name="o"
    )
    assert result["paths"]["/a"]["post"]["security"] == result["paths"]["/b"]["get"]["security"] == [{"bearer": []}]


def test_remove_deletes_the_target():
    result = apply_overlay(doc(), overlay({"target": "$.paths['/b']", "remove": True}), name="o")
    assert list(result["paths"]) == ["/a"]


def test_remove_deletes_a_list_item_by_position():
    document = doc()
    document["tags"] = [{"name": "first"}, {"name": "second"}]
    result = apply_overlay(document, overlay({"target": "$.tags[0]", "remove": True}), name="o")
    assert result["tags"] == [{"name": "second"}]


def test_update_of_a_list_item_by_position_merges_into_it():
    document = doc()
    document["tags"] = [{"name": "first"}, {"name": "second"}]
    result = apply_overlay(document, overlay({"target": "$.tags[1]", "update": {"description": "2nd"}}), name="o")
    assert result["tags"] == [{"name": "first"}, {"name": "second", "description": "2nd"}]


def test_the_input_is_not_changed():
    original = doc()
    apply_overlay(original, overlay({"target": "$.paths['/b']", "remove": True}), name="o")
    assert "/b" in original["paths"]


def test_a_target_that_matches_nothing_fails_loudly():
    with pytest.raises(SpecError, match="matches nothing") as caught:
        apply_overlay(doc(), overlay({"target": "$.paths['/gone'].post", "update": {}}), name="o.yaml")
    assert caught.value.location == "/actions/0"


@pytest.mark.parametrize(
    "bad",
    [
        {"overlay": "2.0.0", "actions": [{"target": "$", "update": {}}]},
        {"overlay": "1.0.0", "actions": []},
        {"overlay": "1.0.0", "actions": [{"target": "$"}]},
        {"overlay": "1.0.0", "actions": [{"target": "$", "update": {}, "remove": True}]},
    ],
)
def test_malformed_overlays_are_spec_errors(bad):
    with pytest.raises(SpecError):
        apply_overlay(doc(), bad, name="o.yaml")


def test_unparseable_overlay_file_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("overlay: 1.0.0\nactions: [\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML") as caught:
        read_overlay(path)
    assert caught.value.location.startswith("line ")
