"""An API's own words come from its document, not from code: ``x-apitwin-error-fields`` names the properties of an
error body that carry the status, the request id, …; ``x-apitwin-error-types`` the ``type`` of each kind of error;
``x-apitwin-image-count`` the property that asks for several images. A document without them gets generic words."""

from __future__ import annotations

import copy
from typing import Any

from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.mockserver.errors import KINDS, error_words
from tests.mockserver.documents import item_lookup

ERROR = {
    "type": "object",
    "required": ["httpStatus", "traceRef", "kind", "status", "type"],
    "properties": {
        "httpStatus": {"type": "integer"},
        "traceRef": {"type": "string"},
        "kind": {"type": "string"},
        "status": {"type": "integer"},
        "type": {"type": "string"},
    },
}


def client(**extensions: Any) -> TestClient:
    """``GET /items/{id}`` (an integer id), a 400 in the ``ERROR`` shape; the document carries ``extensions``."""
    ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "integer"}}}}
    bad = {"description": "Bad", "content": {"application/json": {"schema": ERROR}}}
    return TestClient(create_app({"api": item_lookup({"200": ok, "400": bad}, **extensions)}))


def test_declared_error_fields_carry_what_they_mean() -> None:
    error = client(error_fields={"status": ["httpStatus"], "request-id": ["traceRef"]}).get("/items/x").json()
    assert error["httpStatus"] == 400 and error["status"] == 400
    assert len(error["traceRef"]) == 36 and error["traceRef"].count("-") == 4  # a request id, a UUID


def test_without_the_extension_only_generic_names_are_filled() -> None:
    plain = client().get("/items/x").json()
    assert plain["status"] == 400 and plain["httpStatus"] != 400


def test_a_type_field_says_the_apis_word_for_the_kind_of_error() -> None:
    assert client(error_types={"invalid_request": "bad_input"}).get("/items/x").json()["type"] == "bad_input"
    assert client().get("/items/x").json()["type"] == "invalid_request"


def test_error_words_read_the_document_once_and_keep_generic_names() -> None:
    document: dict[str, Any] = {"x-apitwin-error-fields": {"status": ["statusCode"]}}
    words = error_words(document)
    assert words is error_words(document)
    assert words.means("statusCode", "status") and words.means("status_code", "status")
    assert not error_words({}).means("statusCode", "status")
    assert [words.type_of(kind) for kind in KINDS] == list(KINDS)


def test_the_shipped_specs_declare_the_words_the_mock_used_to_know() -> None:
    aimlapi, openresponses = specs.load("aimlapi"), specs.load("openresponses")
    assert aimlapi["x-apitwin-error-fields"] == {"status": ["statusCode"], "request-id": ["requestId"]}
    assert aimlapi["x-apitwin-image-count"] == ["num_images"]
    assert error_words(openresponses).type_of("not_found") == "not_found_error"


def test_the_image_count_is_read_under_the_declared_name_only() -> None:
    asked = {"model": "alibaba/qwen-image", "prompt": "a red fox", "num_images": 3}
    for declared, count in ((True, 3), (False, 1)):
        document = specs.load("aimlapi")
        if not declared:
            document = {key: value for key, value in document.items() if key != "x-apitwin-image-count"}
        http = TestClient(create_app({"aimlapi": document}), headers={"Authorization": "Bearer k"})
        answer = http.post("/v1/images/generations", json=asked)
        assert answer.status_code == 200 and len(answer.json()["data"]) == count


def test_a_cancelled_job_says_when_in_the_property_its_extension_names() -> None:
    """aimlapi's batches say when a cancel was asked in ``cancel_initiated_at`` (``x-apitwin-job.cancel.time``);
    without that word a job fills only the generic ``cancelled_at``/``canceled_at``."""
    asked = {"requests": [{"custom_id": "a", "params": {"model": "claude-3-5-haiku-20241022", "messages": []}}]}
    asked["requests"][0]["params"]["messages"] = [{"role": "user", "content": "Hi"}]
    said = {}
    for declared in (True, False):
        document = copy.deepcopy(specs.load("aimlapi"))
        cancel = document["paths"]["/v1/batches"]["post"]["x-apitwin-job"]["cancel"]
        assert cancel["time"] == ["cancel_initiated_at"]
        if not declared:
            del cancel["time"]
        app = create_app({"aimlapi": document}, clock=lambda: 1_800_000_000.0, self_check=True)
        http = TestClient(app, headers={"Authorization": "Bearer k"})
        batch = http.post("/v1/batches", json=asked).json()
        said[declared] = http.post(f"/v1/batches/cancel/{batch['id']}").json().get("cancel_initiated_at")
    assert said[True] == "2027-01-15T08:00:00+00:00"
    assert said[False] != said[True]
