"""XML bodies as OpenAPI's ``xml`` object describes them (mockserver/xml_body.py), and served."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.xml_body import XmlBodyError, XmlCodec
from apitwin.specs.validation import SchemaChecker

# The shape of the Swagger petstore's Pet, whose XML the OpenAPI specification shows.
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "pets", "version": "1"},
    "components": {
        "schemas": {
            "Tag": {"type": "object", "xml": {"name": "tag"}, "properties": {"name": {"type": "string"}}},
            "Pet": {
                "type": "object",
                "xml": {"name": "pet"},
                "required": ["name", "photoUrls"],
                "properties": {
                    "id": {"type": "integer", "xml": {"attribute": True}},
                    "name": {"type": "string"},
                    "available": {"type": "boolean"},
                    "weight": {"type": ["number", "null"]},
                    "photoUrls": {
                        "type": "array",
                        "xml": {"wrapped": True},
                        "items": {"type": "string", "xml": {"name": "photoUrl"}},
                    },
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                },
            },
            "Error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            },
        }
    },
    "paths": {
        "/pets": {
            "post": {
                "operationId": "addPet",
                "requestBody": {
                    "required": True,
                    "content": {"application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                },
                "responses": {
                    "200": {
                        "description": "added",
                        "content": {"application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    },
                    "400": {
                        "description": "refused",
                        "content": {"application/xml": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                },
            }
        }
    },
}
PET = {"$ref": "#/components/schemas/Pet"}
VALUE = {
    "id": 7,
    "name": "Rex & Co",
    "available": True,
    "weight": 4.5,
    "photoUrls": ["https://e/1.png", "https://e/2.png"],
    "tags": [{"name": "dog"}, {"name": "good"}],
}


def test_a_value_is_written_as_its_xml_hints_say():
    written = XmlCodec(PET, DOCUMENT).write(VALUE)
    assert written.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ElementTree.fromstring(written)
    assert root.tag == "pet" and root.get("id") == "7"  # the schema's name; id an attribute
    assert root.findtext("name") == "Rex & Co" and root.findtext("available") == "true"
    assert [url.text for url in root.findall("photoUrls/photoUrl")] == VALUE["photoUrls"]  # wrapped
    assert [tag.findtext("name") for tag in root.findall("tag")] == ["dog", "good"]  # repeated, named by the item


def test_what_is_written_reads_back_as_the_same_value():
    codec = XmlCodec(PET, DOCUMENT)
    assert codec.read(codec.write(VALUE)) == VALUE
    assert codec.read(codec.write({**VALUE, "weight": None, "tags": []}))["weight"] is None


def test_text_that_is_not_the_declared_type_stays_text_for_the_validator_to_name():
    value = XmlCodec(PET, DOCUMENT).read(b'<pet id="seven"><name>x</name><photoUrls/></pet>')
    assert value == {"id": "seven", "name": "x", "photoUrls": []}
    assert "'seven' is not of type 'integer'" in (SchemaChecker(DOCUMENT).error(PET, value) or "")


@pytest.mark.parametrize(
    "raw",
    [
        b"<pet><name>x</name>",
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><pet>&b;</pet>',
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><pet>&x;</pet>',
    ],
)
def test_malformed_xml_and_entities_are_refused(raw):
    with pytest.raises(XmlBodyError):
        XmlCodec(PET, DOCUMENT).read(raw)


def test_an_array_at_the_root_is_wrapped_in_one_element():
    codec = XmlCodec({"type": "array", "items": PET}, DOCUMENT)
    root = ElementTree.fromstring(codec.write([VALUE, VALUE]))
    assert root.tag == "root" and [child.tag for child in root] == ["pet", "pet"]
    assert codec.read(codec.write([VALUE])) == [VALUE]


def test_the_mock_reads_xml_requests_and_answers_in_xml():
    """A valid XML body was judged as one string against the Pet object and refused; answers were JSON text."""
    client = TestClient(create_app({"pets": DOCUMENT}, self_check=True))
    headers = {"content-type": "application/xml"}
    sent = XmlCodec(PET, DOCUMENT).write(VALUE)
    answer = client.post("/pets", content=sent, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    pet = XmlCodec(PET, DOCUMENT).read(answer.content)
    assert SchemaChecker(DOCUMENT).error(PET, pet) is None
    assert ElementTree.fromstring(answer.content).tag == "pet"

    refused = client.post("/pets", content=b'<pet id="7"><photoUrls/></pet>', headers=headers)  # no name
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/xml")
    error = ElementTree.fromstring(refused.content)
    assert error.tag == "Error" and error.findtext("code") == "400"
    assert error.findtext("message") == 'body: "name" is a required property'  # as a JSON error words it
    malformed = client.post("/pets", content=b"<pet>", headers=headers)
    assert malformed.status_code == 400 and malformed.headers["content-type"].startswith("application/xml")
