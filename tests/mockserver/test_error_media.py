"""Error answers in the media and status the operation declares for them
(mockserver/error_media.py, errors.validation_status; issue 10, point 4)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
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
