"""Tests for mockserver/routing.py: literal before templated paths, and paths published with a fixed query."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.app import routing_path
from apitwin.mockserver.routing import Router


def test_literal_paths_win_over_templates():
    router: Router[str] = Router()
    router.add("/items/{id}", "get", "one")
    router.add("/items/new", "get", "new")
    assert router.match("/items/new", "GET").target == "new"
    assert router.match("/items/7", "GET").target == "one"
    assert router.match("/items/7", "GET").path_parameters == {"id": "7"}


def test_a_path_whose_route_lacks_the_method_goes_on_to_the_next_route_that_has_it():
    """vercel publishes ``DELETE /v2/secrets/{idOrName}`` beside ``POST /v2/secrets/{name}``: a POST used to get the
    first template's 405. A literal path lacking the method gives way to a template too, as starlette routes."""
    router: Router[str] = Router()
    router.add("/v2/secrets/{idOrName}", "delete", "delete")
    router.add("/v2/secrets/{name}", "post", "create")
    router.add("/users/me", "get", "me")
    router.add("/users/{id}", "delete", "remove")
    created = router.match("/v2/secrets/s1", "POST")
    assert (created.target, created.path_parameters) == ("create", {"name": "s1"})
    assert router.match("/v2/secrets/s1", "DELETE").path_parameters == {"idOrName": "s1"}
    assert router.match("/users/me", "GET").target == "me"
    assert router.match("/users/me", "DELETE").target == "remove"
    refused = router.match("/v2/secrets/s1", "PATCH")  # no route has it: the first route's 405
    assert refused.target is None and refused.route is not None and router.allowed(refused.route) == ["DELETE"]
    assert router.match("/users/me", "PUT").route is not None and router.match("/nowhere", "GET").route is None


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


def test_a_fragment_operation_is_selected_by_a_header_or_the_query():
    """AWS publishes ``/#X-Amz-Target=…`` and ``/#Action=…``; the fragment never reaches a server."""
    router: Router[str] = Router()
    router.add("/#X-Amz-Target=Svc.ListThings", "post", "list")
    router.add("/#X-Amz-Target=Svc.GetThing", "post", "get")
    router.add("/#Action=DescribeThings", "get", "describe")
    router.add("/{Bucket}#uploads", "post", "uploads")
    assert router.match("/", "POST", "", {"x-amz-target": "Svc.GetThing"}).target == "get"
    assert router.match("/", "POST", "", {"x-amz-target": "Svc.ListThings"}).target == "list"
    assert router.match("/", "POST", "X-Amz-Target=Svc.GetThing").target == "get"
    assert router.match("/", "GET", "Action=DescribeThings").target == "describe"
    assert router.match("/", "GET", "", {"action": "DescribeThings"}).target == "describe"
    # No selector, or an unknown one: the first operation, whose own validation names the header.
    assert router.match("/", "POST").target == "list"
    assert router.match("/", "POST", "", {"x-amz-target": "Nope"}).target == "list"
    assert router.match("/media", "POST", "uploads").target == "uploads"
    route = router.match("/", "GET").route
    assert route is not None and router.allowed(route) == ["GET", "POST"]


def test_the_mock_answers_each_fragment_operation_and_caches_them_apart():
    def operation(name: str) -> dict[str, Any]:
        return {
            "parameters": [
                {"name": "X-Amz-Target", "in": "header", "required": True, "schema": {"const": f"Svc.{name}"}}
            ],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"const": name}}}},
                "400": {"description": "refused"},
            },
        }

    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/#X-Amz-Target=Svc.List": {"post": operation("List")},
            "/#X-Amz-Target=Svc.Get": {"post": operation("Get")},
        },
    }
    client = TestClient(create_app({"api": document}))
    for _ in range(2):  # the second round comes from the answer cache
        assert client.post("/", headers={"X-Amz-Target": "Svc.Get"}).json() == "Get"
        assert client.post("/", headers={"X-Amz-Target": "Svc.List"}).json() == "List"
    refused = client.post("/", headers={"X-Amz-Target": "Svc.Other"})
    assert refused.status_code == 400 and "x-amz-target" in refused.text


def test_a_slash_percent_encoded_inside_a_segment_stays_in_its_path_parameter():
    """shutterstock's editorial ids carry a slash, sent as ``%2F``: the server decoded the path before routing and
    every such request was a 404. The segment now matches its parameter and the parameter is decoded once."""
    id_parameter = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z]+/"}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/images/{id}": {
                "get": {
                    "parameters": [id_parameter],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {}}}}},
                }
            }
        },
    }
    client = TestClient(create_app({"api": document}))
    assert client.get("/images/editorial%2F123").status_code == 200
    assert client.get("/images/editorial%2f123").status_code == 200
    assert client.get("/images/Editorial%2F123").status_code == 400  # still validated, after decoding
    refused = client.get("/images/editorial")
    assert refused.status_code == 400 and "'id'" in refused.text
    assert client.get("/images/a/b").status_code == 404  # a real slash is still two segments


@pytest.mark.parametrize(
    ("raw", "path", "routed"),
    [
        (b"/images/plain", "/images/plain", "/images/plain"),
        (b"/images/editorial%2F123", "/images/editorial/123", "/images/editorial%2F123"),
        (b"/images/ab%2561%2Fc", "/images/ab%61/c", "/images/ab%2561%2Fc"),  # decoded once, where matched
        (b"/images/caf%C3%A9", "/images/caf\u00e9", "/images/caf\u00e9"),
        (b"/images/100%25", "/images/100%", "/images/100%25"),
        (b"/mounted/images/a%2Fb", "/images/a/b", "/images/a/b"),  # the raw path is not this path's: decoded as is
    ],
)
def test_the_path_routed_keeps_what_a_segment_encodes_as_uvicorn_reports_it(raw, path, routed):
    """uvicorn decodes ``raw_path`` into ``path`` once (starlette's TestClient decodes twice, hence these scopes)."""
    assert routing_path({"path": path, "raw_path": raw}) == routed
    router: Router[str] = Router()
    router.add("/images/{id}", "get", "image")
    found = router.match(routed, "GET")
    if routed.count("/") == 2:
        assert found.path_parameters == {"id": path.removeprefix("/images/")}
