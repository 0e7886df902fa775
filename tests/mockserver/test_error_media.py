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


def test_an_operations_own_default_shapes_its_errors_before_the_apis_usual_400():
    """OpenAPI makes ``default`` the description of every status an operation does not list, and schemathesis holds
    the answer to it; the API's usual 400 (declared by other operations) is only for operations that say nothing.
    Shaped after a published spec (wikimedia) whose rendering operations declare a problem+json ``default``."""
    problem = {
        "type": "object",
        "required": ["title", "detail"],
        "properties": {"title": {"type": "string"}, "detail": {"type": "string"}},
    }
    usual = {"description": "Bad", "content": {"application/json": {"schema": MESSAGE}}}
    own_default = {"description": "Error", "content": {"application/problem+json": {"schema": problem}}}
    document = item_lookup({"200": OK, "default": own_default})
    document["paths"]["/others/{id}"] = {
        "get": {
            "operationId": "other",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": OK, "400": usual},
        }
    }
    client = TestClient(create_app({"api": document}))
    own = client.get("/items/x")
    assert own.status_code == 400
    assert own.headers["content-type"].startswith("application/problem+json")
    assert set(own.json()) >= {"title", "detail"} and "path parameter 'id'" in own.json()["detail"]
    other = client.get("/others/x")
    assert other.status_code == 400
    assert other.headers["content-type"].startswith("application/json")
    assert "path parameter 'id'" in other.json()["message"]


@pytest.mark.parametrize("key", ["400", "4XX", "default"])
def test_an_error_carries_the_headers_its_status_declares(key):
    """Shaped after a published spec (ably) that declares headers on every error response: the mock's refusals
    used to leave them out, so a client reading them (and schemathesis) found none."""
    declared = {
        "description": "Error",
        "headers": {
            "X-Ably-Errorcode": {"required": True, "schema": {"type": "integer", "minimum": 40000, "maximum": 50000}},
            "X-Ably-Errormessage": {"schema": {"type": "string", "pattern": "^[a-z]{3}$"}},
        },
        "content": {"application/json": {"schema": MESSAGE}},
    }
    client = api({key: declared})
    response = client.get("/items/x")
    assert response.status_code == 400
    assert 40000 <= int(response.headers["x-ably-errorcode"]) <= 50000
    assert len(response.headers["x-ably-errormessage"]) == 3
    assert response.headers == client.get("/items/x").headers  # drawn for the error, the same every time
    assert "x-ably-errorcode" not in api({"404": declared}).get("/items/x").headers  # another status's headers
