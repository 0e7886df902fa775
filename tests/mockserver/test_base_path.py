"""Tests for mockserver/base_path.py and routing under the spec's server path (issue 10, point 3)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.base_path import sdk_path, server_path, strip


def spec(servers: list[dict[str, Any]] | None, paths: tuple[str, ...] = ("/items",)) -> dict[str, Any]:
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "integer"}}}}}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {path: {"get": {"responses": ok}} for path in paths},
    }
    if servers is not None:
        document["servers"] = servers
    return document


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        ([{"url": "https://api.example.com/v1"}], "/v1"),
        ([{"url": "https://api.example.com/v1/"}, {"url": "https://other/v2"}], "/v1"),
        ([{"url": "/api/v3"}], "/api/v3"),
        ([{"url": "https://api.example.com"}], ""),
        ([{"url": "https://api.example.com/"}], ""),
        ([{"url": "https://{region}.example.com/{version}", "variables": {"version": {"default": "v2"}}}], "/v2"),
        ([{"url": 42}], ""),
        (None, ""),
    ],
)
def test_the_first_server_url_gives_the_base_path(servers, expected):
    assert server_path(spec(servers)) == expected


def test_the_sdk_path_is_the_server_path_else_the_usual_version_segment():
    assert sdk_path(spec([{"url": "https://x/v1"}])) == "/v1"
    assert sdk_path(spec(None, ("/v1/a", "/v1/b", "/v2/c", "/health"))) == "/v1"
    assert sdk_path(spec(None, ("/a", "/b"))) == ""


def test_strip():
    assert strip("/v1", "/v1/items") == "/items"
    assert strip("/v1", "/v1") == "/"
    assert strip("/v1", "/v10/items") is None
    assert strip("", "/items") is None


def test_operations_are_served_under_the_server_path_and_at_the_root():
    client = TestClient(create_app({"api": spec([{"url": "https://api.example.com/v1"}])}))
    under = client.get("/v1/items")
    root = client.get("/items")
    assert under.status_code == root.status_code == 200
    assert under.content == root.content
    assert client.get("/v2/items").status_code == 404


def test_a_path_that_already_starts_with_the_server_path_still_matches():
    client = TestClient(create_app({"api": spec([{"url": "https://x/v1"}], ("/v1/items",))}))
    assert client.get("/v1/items").status_code == 200


def test_several_apis_each_honour_their_own_server_path():
    apis = {"one": spec([{"url": "https://x/v1"}]), "two": spec([{"url": "https://y/api"}])}
    client = TestClient(create_app(apis))
    assert client.get("/one/v1/items").status_code == 200
    assert client.get("/two/api/items").status_code == 200
    assert client.get("/two/items").status_code == 200
    listed = client.get("/_apitwin/apis").json()
    assert listed["one"]["sdk_base_path"] == "/one/v1"
    assert listed["two"]["sdk_base_path"] == "/two/api"
