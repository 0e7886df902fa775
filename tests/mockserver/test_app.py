"""The mock server in-process (ASGI): routing, validation, auth, error shapes, selection, determinism."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.specs.validation import SchemaChecker

AUTH = {"Authorization": "Bearer test-key"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture(scope="module")
def aiml():
    return TestClient(create_app(["aimlapi"], self_check=True, api_key="test-key"))


@pytest.fixture(scope="module")
def lmdeploy():
    return TestClient(create_app(["lmdeploy"], self_check=True))


def error_schema(api, path, method, status):
    document = specs.load(api)
    response = document["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return document, response["content"]["application/json"]["schema"]


def assert_valid(api, schema, body):
    assert SchemaChecker(specs.load(api)).error(schema, body) is None


def test_valid_request_gets_a_schema_valid_answer(aiml):
    response = aiml.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 200
    document = specs.load("aimlapi")
    schema = document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert_valid("aimlapi", schema, response.json())


def test_same_request_same_seed_is_byte_identical(aiml):
    first = aiml.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    second = aiml.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert first.content == second.content
    other_seed = aiml.post("/v1/chat/completions", json=CHAT, headers={**AUTH, "Prefer": "seed=7"})
    assert other_seed.status_code == 200 and other_seed.content != first.content


def test_unknown_model_is_rejected_naming_the_accepted_ids(aiml):
    response = aiml.post("/v1/chat/completions", json={**CHAT, "model": "no-such-model"}, headers=AUTH)
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith(
        'body/model: "no-such-model" is not one of the 174 accepted values: MiniMax-Text-01, '
    )
    assert body["message"].endswith("(174 in all)")
    assert_valid("aimlapi", error_schema("aimlapi", "/v1/chat/completions", "post", 400)[1], body)


def test_each_model_is_checked_against_its_own_variant(aiml):
    response = aiml.post("/v1/chat/completions", json={**CHAT, "messages": []}, headers=AUTH)
    assert response.status_code == 400
    assert "body/messages" in response.json()["message"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing credentials"),
        ({"Authorization": "Token x"}, "malformed credentials"),
        ({"Authorization": "Bearer wrong"}, "invalid credentials"),
    ],
)
def test_auth_failures_are_401_in_the_api_shape(aiml, headers, reason):
    response = aiml.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 401
    assert reason in response.json()["message"]
    assert_valid("aimlapi", error_schema("aimlapi", "/v1/chat/completions", "post", 401)[1], response.json())


def test_any_well_formed_key_passes_without_api_key():
    client = TestClient(create_app(["aimlapi"]))
    assert (
        client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer anything"}).status_code == 200
    )


def test_operation_without_security_needs_no_key_until_the_server_has_one(aiml):
    assert TestClient(create_app(["aimlapi"])).get("/models").status_code == 200
    assert aiml.get("/models").status_code == 401  # --api-key covers every operation (issue 16)
    assert aiml.get("/models", headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type", "status", "fragment"),
    [
        (b"{bad json", "application/json", 400, "malformed JSON at line 1 column 2"),
        (b'{"model": "\xff"}', "application/json", 400, "not valid UTF-8"),
        (b"[" * 200 + b"]" * 200, "application/json", 400, "nested too deeply"),
        (b"model=gpt-4o", "text/plain", 415, "content type text/plain is not accepted"),
        (b"", "application/json", 400, "request body is required"),
    ],
)
def test_bad_bodies_get_a_clear_4xx_in_the_api_shape(aiml, content, content_type, status, fragment):
    response = aiml.post("/v1/chat/completions", content=content, headers={**AUTH, "Content-Type": content_type})
    assert response.status_code == status
    assert fragment in response.json()["message"]
    assert response.json()["statusCode"] in (status, str(status))


def test_body_over_the_limit_is_413():
    client = TestClient(create_app(["aimlapi"], max_body=1024))
    response = client.post(
        "/v1/chat/completions", content=b"{" + b" " * 4096 + b"}", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than the limit of 1024 bytes" in response.json()["message"]


def test_unknown_path_and_wrong_method_answer_in_the_api_shape(lmdeploy):
    missing = lmdeploy.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["detail"][0]["msg"] == "no operation at GET /v1/nothing-here"
    wrong = lmdeploy.delete("/v1/models")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET"
    assert "DELETE is not allowed" in wrong.json()["detail"][0]["msg"]


def test_fastapi_style_422_lists_each_violation_with_its_location(lmdeploy):
    response = lmdeploy.post(
        "/v1/chat/completions", json={"model": "m", "messages": "hi", "max_tokens": "10", "n": "two"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [item["loc"] for item in detail] == [["body", "max_tokens"], ["body", "n"]]
    assert all('"10"' in item["msg"] or '"two"' in item["msg"] for item in detail)
    assert_valid("lmdeploy", error_schema("lmdeploy", "/v1/chat/completions", "post", 422)[1], response.json())


def test_stream_true_answers_server_sent_events_ending_in_done(lmdeploy):
    response = lmdeploy.post("/v1/chat/completions", json={"model": "m", "messages": "hi", "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [frame for frame in response.text.split("\n\n") if frame]
    assert frames[-1] == "data: [DONE]"
    chunk_schema = {"$ref": "#/components/schemas/ChatCompletionStreamResponse"}
    for frame in frames[:-1]:
        assert frame.startswith("data: ")
        assert_valid("lmdeploy", chunk_schema, json.loads(frame[len("data: ") :]))


def test_prefer_code_selects_a_declared_response(aiml):
    response = aiml.post("/v1/chat/completions", json=CHAT, headers={**AUTH, "Prefer": "code=429"})
    assert response.status_code == 429
    assert_valid("aimlapi", error_schema("aimlapi", "/v1/chat/completions", "post", 429)[1], response.json())


def test_prefer_code_that_is_not_declared_is_refused(lmdeploy):
    response = lmdeploy.get("/v1/models", headers={"Prefer": "code=418"})
    assert response.status_code == 400
    assert "code=418 is not a response GET /v1/models declares" in response.json()["detail"]


def test_prefer_unknown_example_is_refused(lmdeploy):
    response = lmdeploy.get("/v1/models", headers={"Prefer": "example=nope"})
    assert response.status_code == 400
    assert "example=nope" in response.json()["detail"]


def test_several_apis_are_served_under_their_names():
    client = TestClient(create_app(["lmdeploy", "lmdeploy-proxy"]))
    assert client.get("/lmdeploy/v1/models").status_code == 200
    assert client.get("/lmdeploy-proxy/nodes/status").status_code == 200
    assert client.get("/other/v1/models").status_code == 404
    assert client.get("/_apitwin/apis").json()["lmdeploy"]["base_path"] == "/lmdeploy"


PETS = """\
openapi: 3.0.3
info: {title: Pets, version: "1.0"}
paths:
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer, minimum: 1}}
        - {name: verbose, in: query, schema: {type: boolean}}
      responses:
        "200":
          description: A pet
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
        "400":
          description: Bad request
          content:
            application/json:
              schema:
                type: object
                required: [code, message]
                properties: {code: {type: integer}, message: {type: string}}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, minimum: 1}
        name: {type: string, nullable: true}
"""


def test_a_user_openapi_30_file_is_served_and_validated(tmp_path):
    path = tmp_path / "pets.yaml"
    path.write_text(PETS, encoding="utf-8")
    client = TestClient(create_app([path], self_check=True))
    ok = client.get("/pets/3?verbose=true")
    assert ok.status_code == 200
    assert set(ok.json()) >= {"id", "name"}
    bad = client.get("/pets/zero")
    assert bad.status_code == 400
    assert bad.json()["code"] == 400
    assert bad.json()["message"] == "path parameter 'petId': expected integer, received \"zero\""
    flag = client.get("/pets/3?verbose=maybe")
    assert flag.status_code == 400 and "verbose" in flag.json()["message"]


@pytest.mark.parametrize("declared", ["*/*", "application/*"])
def test_a_body_declared_as_any_media_type_is_read_as_the_client_sent_it(declared):
    """A JSON body sent to either was judged as one long string (specs normalise ``""`` to ``*/*``)."""
    schema = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {"required": True, "content": {declared: {"schema": schema}}},
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}},
                }
            }
        },
    }
    client = TestClient(create_app({"api": document}))
    assert client.post("/things", json={"n": 1}).status_code == 200
    refused = client.post("/things", json={"n": "one"})
    assert refused.status_code == 400 and "body/n" in refused.json()["detail"]
    as_text = client.post("/things", content=b"n=1", headers={"content-type": "text/plain"})
    assert as_text.status_code == (415 if declared == "application/*" else 400)


def test_write_only_properties_are_never_answered():
    """OpenAPI: a writeOnly property is sent in requests only; schemathesis fails an answer that has one."""
    secret = {"type": "string", "writeOnly": True}
    link = {
        "type": "object",
        "required": ["url", "password"],
        "properties": {"url": {"type": "string"}, "password": secret, "pin": {"$ref": "#/components/schemas/Pin"}},
        "examples": [{"url": "https://e/1", "password": "hunter2"}],
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "components": {"schemas": {"Pin": {"type": "integer", "writeOnly": True}, "Link": link}},
        "paths": {
            "/links": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Link"}}},
                        }
                    }
                }
            }
        },
    }
    client = TestClient(create_app({"api": document}, self_check=True))
    for seed in range(10):
        answer = client.get("/links", headers={"Prefer": f"seed={seed}"})
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"url"}


@pytest.mark.parametrize(
    ("responses", "status"),
    [
        ({"400": {"description": "Bad"}, "default": {"description": "OK"}}, 200),  # not the first listed
        ({"404": {"description": "Gone"}, "302": {"description": "Found"}}, 302),
        ({"400": {"description": "Bad"}, "2XX": {"description": "OK"}}, 200),
        ({"404": {"description": "Gone"}}, 404),  # nothing but an error: that error, as before
    ],
)
def test_a_valid_request_gets_a_success_where_the_operation_declares_one_beside_its_errors(responses, status):
    """An operation that lists an error before its ``default`` (as many published specs do, the success undocumented
    but for ``default``) answered every valid request with that error."""
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"get": {"responses": responses}}},
    }
    answer = TestClient(create_app({"api": document}), follow_redirects=False).get("/things")
    assert answer.status_code == status


def test_a_response_schema_no_value_satisfies_is_a_500_that_names_where_not_an_empty_200(caplog):
    """vercel publishes ``type: "null"`` beside a oneOf of objects: nothing satisfies both. The answer was a 200
    with an empty JSON body, which no client can parse; it now says what the spec asks for that cannot be."""
    objects = [
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]},
    ]
    impossible = {"type": "object", "properties": {"thing": {"type": "null", "oneOf": objects}}, "required": ["thing"]}

    def answer(schema: dict) -> dict:
        return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}

    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": answer(impossible)}}, "/y": {"get": {"responses": answer(objects[0])}}},
    }
    client = TestClient(create_app({"api": document}))
    refused = client.get("/x")
    assert refused.status_code == 500
    assert refused.headers["content-type"] == "application/problem+json"
    assert "properties/thing" in refused.json()["detail"] and "contradicts" in refused.json()["detail"]
    assert "no answer the spec allows for GET /x" in caplog.text and "Traceback" not in caplog.text
    assert client.get("/x").json() == refused.json()  # asked again: the same answer, not a build error
    assert client.get("/y").status_code == 200
