"""Error answers in the media and status the operation declares for them
(mockserver/error_media.py, errors.validation_status; issue 10, point 4)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.operations import answered_as
from tests.mockserver.documents import item_lookup

OK = {"description": "OK", "content": {"application/json": {"schema": {"type": "integer"}}}}
MESSAGE = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}


def api(errors: dict[str, Any]) -> TestClient:
    """One operation, ``GET /items/{id}`` with an integer id, declaring ``errors`` beside its 200."""
    return TestClient(create_app({"api": item_lookup({"200": OK, **errors})}))


def test_a_400_declared_as_text_html_is_answered_as_html():
    client = api({"400": {"description": "Bad", "content": {"text/html": {"schema": {"type": "string"}}}}})
    response = client.get("/items/<b>x")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>400 Bad Request</h1>" in response.text
    assert "path parameter &#x27;id&#x27;" in response.text
    assert "<b>x" not in response.text and "&lt;b&gt;x" in response.text  # escaped, not markup


def test_a_constrained_text_error_is_generated_from_its_schema():
    plain = {"schema": {"type": "string", "enum": ["invalid request"]}}
    client = api({"400": {"description": "Bad", "content": {"text/plain": plain}}})
    response = client.get("/items/x")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "invalid request"


def test_a_json_error_keeps_its_declared_shape():
    client = api({"400": {"description": "Bad", "content": {"application/json": {"schema": MESSAGE}}}})
    response = client.get("/items/x")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert "path parameter 'id'" in response.json()["message"]


@pytest.mark.parametrize(
    ("declared", "status"),
    [
        ({}, 400),
        ({"422": {"description": "Unprocessable"}}, 422),
        ({"400": {"description": "Bad"}, "422": {"description": "Unprocessable"}}, 400),
        ({"404": {"description": "Not found"}}, 400),
    ],
)
def test_an_invalid_request_gets_the_declared_status_else_400(declared, status):
    assert api(declared).get("/items/x").status_code == status


@pytest.mark.parametrize("declared", ["*/*", "application/*"])
@pytest.mark.parametrize("status", ["400", "4XX", "default"])
def test_an_error_declared_as_any_media_over_an_object_is_json_with_the_message(declared, status):
    """Published specs write ``*/*`` over error objects; the answer was text/plain with an invented message."""
    client = api({status: {"description": "Bad", "content": {declared: {"schema": MESSAGE}}}})
    response = client.get("/items/x")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert "path parameter 'id'" in response.json()["message"]


def test_a_default_error_in_text_is_answered_in_text():
    client = api({"default": {"description": "Error", "content": {"text/html": {"schema": {"type": "string"}}}}})
    response = client.get("/items/x")
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("declared", "schema", "answered"),
    [
        ("*/*", {"type": "object"}, "application/json"),
        ("*/*", {"type": "array", "items": {}}, "application/json"),
        ("*/*", {"$ref": "#/components/schemas/Thing"}, "application/json"),
        ("*/*", {"type": "string"}, "text/plain"),
        ("*/*", {"type": "string", "format": "binary"}, "application/octet-stream"),
        ("*/*", None, "text/plain"),
        ("application/*", {"type": "string"}, "application/octet-stream"),
        ("application/*", {"type": "object"}, "application/json"),
        ("text/*", {"type": "object"}, "text/plain"),
        ("application/xml", {"type": "object"}, "application/xml"),
    ],
)
def test_a_wildcard_is_answered_as_a_media_type_a_content_type_can_name(declared, schema, answered):
    assert answered_as(declared, schema) == answered


def test_a_success_declared_as_any_media_is_sent_as_json_not_as_a_wildcard():
    client = TestClient(
        create_app({"api": item_lookup({"200": {"description": "OK", "content": {"*/*": {"schema": MESSAGE}}}})})
    )
    response = client.get("/items/3")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["message"], str)
