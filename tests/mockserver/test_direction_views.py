"""mockserver/direction_views.py: readOnly and writeOnly properties travel one way each."""

from __future__ import annotations

from typing import Any

from apitwin.mockserver.direction_views import views

DOCUMENT: dict[str, Any] = {
    "components": {
        "schemas": {
            "Secret": {"type": "string", "writeOnly": True},
            "User": {
                "type": "object",
                "required": ["id", "name", "password", "pin"],
                "properties": {
                    "id": {"type": "integer", "readOnly": True},
                    "name": {"type": "string"},
                    "password": {"$ref": "#/components/schemas/Secret"},
                    "pin": {"allOf": [{"type": "string"}, {"writeOnly": True}]},
                },
            },
        }
    }
}


def test_each_view_drops_from_required_what_does_not_travel_that_way_and_the_response_forbids_it():
    sent, answered = views(DOCUMENT)
    user_sent, user_answered = sent["components"]["schemas"]["User"], answered["components"]["schemas"]["User"]
    assert user_sent["required"] == ["name", "password", "pin"]
    assert user_sent["properties"]["id"] == {"type": "integer", "readOnly": True}  # still judged if sent
    assert user_answered["required"] == ["id", "name"]
    assert user_answered["properties"]["password"] == {"not": {}} == user_answered["properties"]["pin"]
    assert DOCUMENT["components"]["schemas"]["User"]["required"] == ["id", "name", "password", "pin"]  # untouched


def test_a_document_without_the_annotations_is_its_own_view():
    document = {"components": {"schemas": {"A": {"type": "object", "properties": {"readOnlyHint": {}}}}}}
    sent, answered = views(document)
    assert sent is document and answered is document
