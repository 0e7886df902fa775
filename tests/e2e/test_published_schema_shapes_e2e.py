"""Schema shapes published specs use, served and self-fuzzed over loopback: never a 500.

A sweep of 90 published specs (APIs.guru) found these answered with a 500 on every request or
refused at start-up: ECMA-262 patterns (``\\p{L}``, most of AWS's), a pattern past jsonschema-rs's
regex size (``^.{1,2097152}$``), a content map keyed ``""``, formats the validator checks but nothing drew (Azure's
``duration``), a ``time`` without the zone RFC 3339 requires, a oneOf of open objects, and a float
``multipleOf`` answered as ``8.700000000000001``.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from apitwin.contracts.fuzz.repro import basic_token
from apitwin.mockserver.xml_body import XmlCodec
from apitwin.specs.validation import SchemaChecker
from tests.e2e.conftest import API_KEY, serving
from tests.e2e.test_fuzz_foreign_examples import self_fuzz
from tests.mockserver.test_xml_body import DOCUMENT as PETS
from tests.mockserver.test_xml_body import PET

AUTH = {"Authorization": f"Bearer {API_KEY}"}

NAME = {"type": "string", "pattern": "^[\\p{L}\\p{N}][\\p{L}\\p{N} ._-]{0,30}$", "examples": ["Zoë"]}
SHAPES = {
    "type": "object",
    "required": ["name", "note", "ttl", "at", "pointer", "relative", "colour", "template", "choice", "ratio"],
    "properties": {
        "name": NAME,
        "note": {"type": "string", "pattern": "^.{1,2097152}$"},
        "ttl": {"type": "string", "format": "duration"},
        "at": {"type": "string", "format": "time"},
        "pointer": {"type": "string", "format": "json-pointer"},
        "relative": {"type": "string", "format": "relative-json-pointer"},
        "colour": {"type": "string", "format": "color"},
        "template": {"type": "string", "format": "uri-template"},
        "choice": {
            "oneOf": [
                {"type": "object", "properties": {"text": {"type": "string"}}},
                {"type": "object", "properties": {"count": {"type": "integer"}}},
            ]
        },
        "ratio": {"type": "number", "minimum": 0, "maximum": 10, "multipleOf": 0.1},
    },
}
ERROR = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Published shapes", "version": "1"},
    "components": {
        "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Shapes": SHAPES, "Error": ERROR},
        "responses": {
            "Bad": {
                "description": "refused",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
    },
    "security": [{"key": []}],
    "paths": {
        "/shapes": {
            "post": {
                "operationId": "createShapes",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": NAME, "note": SHAPES["properties"]["note"]},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "made",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Shapes"}}},
                    },
                    "400": {"$ref": "#/components/responses/Bad"},
                },
            }
        },
        "/notes": {
            "post": {
                "operationId": "createNote",
                "requestBody": {"required": True, "content": {"": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "responses": {
                    "200": {"description": "kept", "content": {"": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    "400": {"$ref": "#/components/responses/Bad"},
                },
            }
        },
        "/shapes/{name}": {
            "get": {
                "operationId": "getShapes",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": NAME}],
                "responses": {
                    "200": {
                        "description": "found",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Shapes"}}},
                    },
                    "400": {"$ref": "#/components/responses/Bad"},
                },
            }
        },
    },
}


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "published-shapes.json"
    path.write_text(json.dumps(SPEC))
    return path


@pytest.mark.e2e
def test_every_shape_is_answered_valid_and_bad_input_is_named(spec_file):
    with serving(str(spec_file)) as base:  # --self-check: every answer is validated against the spec
        for index, name in enumerate(["Zoë", "日本", "R2-D2 unit", "x"]):
            answer = httpx.post(f"{base}/shapes", json={"name": name, "note": f"n{index}"}, headers=AUTH, timeout=30)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["ttl"].startswith("P") and body["pointer"].startswith("/")
            assert len(repr(body["ratio"]).partition(".")[2]) <= 1, body["ratio"]
            assert [item is None for item in body["choice"].values()].count(False) == 1, body["choice"]
        found = httpx.get(f"{base}/shapes/Zoë", headers=AUTH, timeout=30)
        assert found.status_code == 200, found.text
        note = httpx.post(f"{base}/notes", json={"message": "hi"}, headers=AUTH, timeout=30)  # content keyed ""
        assert note.status_code == 200 and isinstance(note.json()["message"], str), note.text

        refused = httpx.post(f"{base}/shapes", json={"name": "-dash first"}, headers=AUTH, timeout=30)
        assert refused.status_code == 400
        assert refused.json()["message"].startswith("body/name"), refused.text
        empty_note = httpx.post(f"{base}/shapes", json={"name": "ok", "note": ""}, headers=AUTH, timeout=30)
        assert empty_note.status_code == 400
        assert "body/note" in empty_note.json()["message"], empty_note.text


@pytest.mark.e2e
def test_the_spec_self_fuzzes_clean(spec_file):
    run = self_fuzz(spec_file, "--max-examples", "15")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 of 3 operations exercised" in run.stdout


def aws_operation(target: str) -> dict:
    """An operation as AWS publishes it: its own path ``/#X-Amz-Target=…`` and the header it names."""
    return {
        "operationId": target.split(".")[1],
        "parameters": [{"name": "X-Amz-Target", "in": "header", "required": True, "schema": {"enum": [target]}}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "properties": {"Limit": {"type": "integer"}}}}
            },
        },
        "responses": {
            "200": {
                "description": "done",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["Target"],
                            "properties": {"Target": {"const": target}},
                        }
                    }
                },
            },
            "400": {"description": "refused", "content": {"application/json": {"schema": ERROR}}},
        },
    }


AWS_STYLE = {
    "openapi": "3.1.0",
    "info": {"title": "AWS style", "version": "1"},
    "paths": {
        "/#X-Amz-Target=Things_2024.ListThings": {"post": aws_operation("Things_2024.ListThings")},
        "/#X-Amz-Target=Things_2024.GetThing": {"post": aws_operation("Things_2024.GetThing")},
    },
}


@pytest.mark.e2e
def test_aws_operations_on_one_path_are_told_apart_by_their_header_and_self_fuzz_clean(tmp_path):
    """Every request arrives as POST / (the fragment stays with the client); all were 404s before."""
    spec = tmp_path / "aws-style.json"
    spec.write_text(json.dumps(AWS_STYLE))
    with serving(str(spec)) as base:
        for target in ["Things_2024.GetThing", "Things_2024.ListThings", "Things_2024.GetThing"]:
            answer = httpx.post(f"{base}/", json={}, headers={**AUTH, "X-Amz-Target": target}, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"Target": target}
    run = self_fuzz(spec, "--max-examples", "10")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 of 2 operations exercised" in run.stdout


@pytest.mark.e2e
def test_an_http_basic_spec_self_fuzzes_with_the_key_as_its_password(tmp_path):
    """The fuzzer sent ``Bearer <key>`` to http basic: every request a 401, nothing exercised."""
    basic = {
        **SPEC,
        "components": {**SPEC["components"], "securitySchemes": {"key": {"type": "http", "scheme": "basic"}}},
    }
    spec = tmp_path / "basic.json"
    spec.write_text(json.dumps(basic))
    html = tmp_path / "report.html"
    run = self_fuzz(spec, "--max-examples", "5", "--html", str(html))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 of 3 operations exercised" in run.stdout
    report = html.read_text()
    assert API_KEY not in report and basic_token(API_KEY) not in report


@pytest.mark.e2e
def test_an_xml_api_reads_xml_answers_xml_and_self_fuzzes_clean(tmp_path):
    """schemathesis sends XML bodies as the xml hints say; the mock refused every valid one and answered JSON text."""
    spec = tmp_path / "pets.json"
    spec.write_text(json.dumps(PETS))
    sent = XmlCodec(PET, PETS).write({"name": "Rex", "photoUrls": ["https://e/1.png"]})
    with serving(str(spec)) as base:
        answer = httpx.post(f"{base}/pets", content=sent, headers={**AUTH, "content-type": "application/xml"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        assert SchemaChecker(PETS).error(PET, XmlCodec(PET, PETS).read(answer.content)) is None
    run = self_fuzz(spec, "--max-examples", "15")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 of 1 operations exercised" in run.stdout


USER = {
    "type": "object",
    "required": ["id", "name", "password"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True},
    },
}
USERS = {
    "openapi": "3.0.3",
    "info": {"title": "users", "version": "1"},
    "components": {"schemas": {"User": USER}},
    "paths": {
        "/users": {
            "post": {
                "operationId": "createUser",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
                    },
                    "400": {"description": "refused"},
                },
            }
        }
    },
}


@pytest.mark.e2e
def test_read_and_write_only_properties_travel_one_way_each(tmp_path):
    """One ``User`` schema for both directions, its ``id`` readOnly and its ``password`` writeOnly, both required:
    schemathesis failed every answer that carried the password, and a request without the id (as an SDK builds it)
    was refused."""
    spec = tmp_path / "users.json"
    spec.write_text(json.dumps(USERS))
    with serving(str(spec)) as base:
        made = httpx.post(f"{base}/users", json={"name": "ann", "password": "s3cret"}, headers=AUTH)
        assert made.status_code == 201, made.text
        assert "password" not in made.json() and made.json()["name"]
        assert isinstance(made.json()["id"], int)  # required where it travels
        missing = httpx.post(f"{base}/users", json={"name": "ann"}, headers=AUTH)
        assert missing.status_code == 400 and "password" in missing.text  # still required where it is sent
    run = self_fuzz(spec, "--max-examples", "15")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


TAGGING = {
    "openapi": "3.0.3",
    "info": {"title": "tagging", "version": "1"},
    "components": {
        "securitySchemes": {
            "appKey": {"type": "apiKey", "in": "header", "name": "X-App-Key"},
            "appToken": {"type": "apiKey", "in": "header", "name": "X-App-Token"},
        }
    },
    "security": [{"appKey": [], "appToken": []}],
    "paths": {
        "/tags": {
            "post": {
                "operationId": "tag",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"type": "object", "properties": {"arn": {"type": "string"}}}}
                    },
                },
                "responses": {
                    "204": {"description": "tagged", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"description": "refused"},
                },
            }
        }
    },
}


@pytest.mark.e2e
def test_a_204_declared_with_content_and_two_keys_at_once_self_fuzz_clean(tmp_path):
    """A 204 with a drawn body broke the framing (uvicorn: "Response content longer than Content-Length"), and the
    fuzzer sent only the first of two apiKey schemes a requirement names (vtex, plaid): every request a 401."""
    spec = tmp_path / "tagging.json"
    spec.write_text(json.dumps(TAGGING))
    with serving(str(spec)) as base:
        keys = {"X-App-Key": API_KEY, "X-App-Token": API_KEY}
        tagged = httpx.post(f"{base}/tags", json={"arn": "a"}, headers=keys)
        assert tagged.status_code == 204 and tagged.content == b""
        assert "content-length" not in tagged.headers or tagged.headers["content-length"] == "0"
        assert httpx.post(f"{base}/tags", json={"arn": "a"}, headers={"X-App-Key": API_KEY}).status_code == 401
    run = self_fuzz(spec, "--max-examples", "10")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 of 1 operations exercised" in run.stdout


def _secret_path(method: str, name: str) -> dict:
    return {
        method: {
            "operationId": f"{method}Secret",
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ERROR}}}},
        }
    }


PROBLEM = {
    "type": "object",
    "required": ["title", "detail"],
    "properties": {"title": {"type": "string"}, "detail": {"type": "string"}},
}
ROUTES = {
    "openapi": "3.1.0",
    "info": {"title": "Routes as published", "version": "1"},
    "paths": {
        # vercel: one template shape, its methods split between two parameter names
        "/v2/secrets/{idOrName}": _secret_path("delete", "idOrName"),
        "/v2/secrets/{name}": _secret_path("post", "name"),
        # shutterstock: ids with a slash, sent as %2F; wikimedia: errors in the operation's own `default`
        "/images/{id}": {
            "get": {
                "operationId": "getImage",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[a-z]+/[0-9]+$", "examples": ["editorial/123"]},
                    }
                ],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": ERROR}}},
                    "default": {
                        "description": "Error",
                        # ably: headers on every error
                        "headers": {"X-Error-Code": {"required": True, "schema": {"type": "integer", "minimum": 1}}},
                        "content": {"application/problem+json": {"schema": PROBLEM}},
                    },
                },
            }
        },
        "/videos/{id}": {
            "get": {
                "operationId": "getVideo",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": ERROR}}},
                    "400": {"description": "Bad", "content": {"application/json": {"schema": ERROR}}},
                },
            }
        },
    },
}


@pytest.mark.e2e
def test_routes_as_published_are_served_with_their_own_errors_and_self_fuzz_clean(tmp_path):
    """Methods split between same-shape templates were a 405, an id with an encoded slash a 404, and an error took
    the API's usual 400 shape without its headers where the operation declares its own ``default``."""
    spec = tmp_path / "routes.json"
    spec.write_text(json.dumps(ROUTES))
    with serving(str(spec)) as base, httpx.Client(base_url=base, headers=AUTH) as client:
        assert client.post("/v2/secrets/s1").status_code == 200
        assert client.delete("/v2/secrets/s1").status_code == 200
        patched = client.patch("/v2/secrets/s1")
        assert patched.status_code == 405 and patched.headers["allow"] == "DELETE"

        assert client.get("/images/editorial%2F123").status_code == 200
        assert client.get("/images/editorial/123").status_code == 404  # two segments
        refused = client.get("/images/ab%2561%2F1")  # decoded once: "ab%61/1", which the pattern refuses
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "'id'" in refused.json()["detail"] and int(refused.headers["x-error-code"]) >= 1
        other = client.get("/videos/x")
        assert other.status_code == 400 and other.headers["content-type"].startswith("application/json")
        assert "x-error-code" not in other.headers
    run = self_fuzz(spec, "--max-examples", "15", "--include-unsafe")  # the DELETE too
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "4 of 4 operations exercised" in run.stdout
