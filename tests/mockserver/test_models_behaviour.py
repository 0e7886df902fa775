"""Model lists (``behaviours/models.py``): ``GET …/models`` lists the ids the API's requests accept."""

from __future__ import annotations

from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.specs.inventory import model_ids
from tests.mockserver.test_chat_behaviour import AUTH


def test_aimlapi_lists_every_accepted_model_in_both_shapes_and_chat_takes_them() -> None:
    client = TestClient(create_app(["aimlapi"], self_check=True), headers=AUTH)
    accepted = set(model_ids(specs.load("aimlapi")))
    page = client.get("/v1/models").json()
    assert page["object"] == "list" and {item["id"] for item in page["data"]} == accepted
    bare = client.get("/models").json()
    assert isinstance(bare, list) and [item["id"] for item in bare] == [item["id"] for item in page["data"]]
    assert "owned_by" not in bare[0]  # the documented bare item has no such field
    by_id = {item["id"]: item for item in page["data"]}
    assert by_id["anthropic/claude-3-5-haiku"]["owned_by"] == "anthropic"
    assert "/v1/chat/completions" in by_id["gpt-4o"]["endpoints"]
    chat = [item["id"] for item in page["data"] if "/v1/chat/completions" in item["endpoints"]]
    answer = client.post(
        "/v1/chat/completions", json={"model": chat[0], "messages": [{"role": "user", "content": "hi"}]}
    )
    assert answer.status_code == 200


def test_an_api_that_accepts_any_model_keeps_its_documented_owner() -> None:
    """LMDeploy accepts any model id; its ModelCard says owned_by 'lmdeploy' (overlay)."""
    client = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH)
    page = client.get("/v1/models").json()
    assert page["data"] and {item["owned_by"] for item in page["data"]} == {"lmdeploy"}
