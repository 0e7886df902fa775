"""Tests for mockserver/routing.py: literal before templated paths, and paths published with a fixed query."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.routing import Router


def test_literal_paths_win_over_templates():
    router: Router[str] = Router()
    router.add("/items/{id}", "get", "one")
    router.add("/items/new", "get", "new")
    assert router.match("/items/new", "GET").target == "new"
    assert router.match("/items/7", "GET").target == "one"
    assert router.match("/items/7", "GET").path_parameters == {"id": "7"}


def test_a_fixed_query_picks_its_own_operation():
    router: Router[str] = Router()
    router.add("/responses", "post", "plain")
    router.add("/responses?beta=true", "post", "beta")
    router.add("/responses/{id}?beta=true", "get", "beta-get")
    assert router.match("/responses", "POST").target == "plain"
    assert router.match("/responses", "POST", "beta=true").target == "beta"
    assert router.match("/responses", "POST", "beta=false").target == "plain"
    assert router.match("/responses/r1", "GET").target == "beta-get"  # only published with its query
    assert router.match("/responses/r1", "HEAD", "beta=true").target == "beta-get"
    route = router.match("/responses", "GET").route
    assert route is not None and router.allowed(route) == ["POST"]


def test_the_mock_serves_both_operations_of_a_query_qualified_path():
    def answer(schema: dict[str, Any]) -> dict[str, Any]:
        return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}

    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/responses": {"post": {"responses": answer({"type": "integer"})}},
            "/responses?beta=true": {"post": {"responses": answer({"type": "string", "const": "beta"})}},
        },
    }
    client = TestClient(create_app({"api": document}))
    assert isinstance(client.post("/responses").json(), int)
    beta = client.post("/responses?beta=true")
    assert beta.status_code == 200 and beta.json() == "beta"
