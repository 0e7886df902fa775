"""Parameters read back as the spec declares them: ``$ref``'d schemas, every location, style and explode
(mockserver/parameters.py; issue 10, point 4)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.parameters import coerce, read, shape

OK = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "integer"}}}}}
MESSAGE = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
BAD = {"400": {"description": "Bad", "content": {"application/json": {"schema": MESSAGE}}}}


def parameter(name: str, location: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": location, "required": location == "path", "schema": schema, **extra}


def spec() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Id"}
    paths = {
        "/items/{id}": [parameter("id", "path", ref)],
        "/limits": [parameter("limit", "query", {"$ref": "#/components/schemas/Limit"})],
        "/headers": [parameter("X-Count", "header", ref, required=True)],
        "/cookies": [parameter("session", "cookie", ref, required=True)],
        "/tags/{tags}": [parameter("tags", "path", {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}})],
        "/labels/{ids}": [parameter("ids", "path", {"type": "array", "items": ref}, style="label", explode=True)],
        "/matrix/{id}": [parameter("id", "path", ref, style="matrix")],
        "/deep": [parameter("filter", "query", {"$ref": "#/components/schemas/Range"}, style="deepObject")],
        "/exploded": [parameter("range", "query", {"$ref": "#/components/schemas/Range"})],
        "/spaced": [parameter("ids", "query", {"type": "array", "items": ref}, style="spaceDelimited", explode=False)],
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            path: {"get": {"parameters": parameters, "responses": {**OK, **BAD}}} for path, parameters in paths.items()
        },
        "components": {
            "schemas": {
                "Id": {"type": "integer", "minimum": 1},
                "Limit": {"$ref": "#/components/schemas/Id", "maximum": 100},
                "Tag": {"type": "string", "enum": ["a", "b"]},
                "Range": {
                    "type": "object",
                    "properties": {"min": {"$ref": "#/components/schemas/Id"}, "max": {"type": "integer"}},
                    "additionalProperties": False,
                },
            }
        },
    }


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app({"api": spec()}))


@pytest.mark.parametrize(
    ("url", "headers", "cookies"),
    [
        ("/items/1", {}, {}),
        ("/limits?limit=5", {}, {}),
        ("/headers", {"X-Count": "3"}, {}),
        ("/cookies", {}, {"session": "7"}),
        ("/tags/a,b", {}, {}),
        ("/labels/.1.2", {}, {}),
        ("/matrix/;id=4", {}, {}),
        ("/deep?filter[min]=1&filter[max]=5", {}, {}),
        ("/exploded?min=1&max=2", {}, {}),
        ("/spaced?ids=1%202", {}, {}),
    ],
)
def test_a_valid_parameter_is_read_as_its_declared_type(client, url, headers, cookies):
    client.cookies.clear()
    client.cookies.update(cookies)
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("url", "headers", "cookies", "named"),
    [
        ("/items/x", {}, {}, "path parameter 'id'"),
        ("/items/0", {}, {}, "path parameter 'id'"),
        ("/limits?limit=500", {}, {}, "query parameter 'limit'"),
        ("/headers", {"X-Count": "many"}, {}, "header parameter 'x-count'"),
        ("/cookies", {}, {}, "cookie parameter 'session' is required"),
        ("/cookies", {}, {"session": "x"}, "cookie parameter 'session'"),
        ("/tags/a,c", {}, {}, "path parameter 'tags'"),
        ("/deep?filter[min]=x", {}, {}, "query parameter 'filter'"),
        ("/deep?filter[other]=1", {}, {}, "query parameter 'filter'"),
        ("/spaced?ids=1%20y", {}, {}, "query parameter 'ids'"),
    ],
)
def test_an_invalid_parameter_is_refused_naming_it(client, url, headers, cookies, named):
    client.cookies.clear()
    client.cookies.update(cookies)
    response = client.get(url, headers=headers)
    assert response.status_code == 400
    assert named in response.text


def test_shape_follows_refs_where_types_are_decided():
    document = spec()
    shaped = shape(document, {"$ref": "#/components/schemas/Range"})
    assert shaped["properties"]["min"] == {"type": "integer", "minimum": 1}
    assert shape(document, {"$ref": "#/components/schemas/Limit"}) == {"type": "integer", "minimum": 1, "maximum": 100}
    assert shape(document, {"$ref": "#/components/schemas/Missing"}) == {}


def test_objects_in_simple_style_read_both_explodes():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"}}}
    assert coerce(schema, False, "a,1,b,true") == ({"a": 1, "b": True}, None)
    assert coerce(schema, True, "a=1,b=false") == ({"a": 1, "b": False}, None)


def test_read_returns_none_for_an_absent_parameter():
    empty: dict[str, Any] = {}
    for location in ("path", "query", "header", "cookie"):
        assert read("x", location, "form", True, {}, path=empty, query=empty, headers=empty, cookies=empty) is None
