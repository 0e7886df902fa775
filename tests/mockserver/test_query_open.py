"""An exploded form object parameter that does not forbid other properties takes any query key."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app


def spec(additional: Any) -> dict[str, Any]:
    window: dict[str, Any] = {"type": "object", "properties": {"gt": {"type": "integer"}}}
    if additional is not None:
        window["additionalProperties"] = additional
    return {
        "openapi": "3.1.0",
        "info": {"title": "logs", "version": "1"},
        "paths": {
            "/logs": {
                "get": {
                    "operationId": "listLogs",
                    "parameters": [{"name": "window", "in": "query", "schema": window}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "400": {"description": "bad", "content": {"application/json": {"schema": {"type": "object"}}}},
                    },
                }
            }
        },
    }


@pytest.mark.parametrize(("additional", "status"), [(None, 200), (True, 200), ({"type": "string"}, 200), (False, 400)])
def test_other_keys_are_the_objects_own_unless_it_forbids_them(additional: Any, status: int) -> None:
    client = TestClient(create_app({"logs": spec(additional)}))
    assert client.get("/logs", params={"gt": "3", "actor": "me"}).status_code == status
    assert client.get("/logs", params={"gt": "3"}).status_code == 200
