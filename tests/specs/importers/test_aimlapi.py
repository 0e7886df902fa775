"""Tests for specs.importers.aimlapi: pages, fragments, per-model variants, responses, SSE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apitwin.specs.errors import SpecError
from apitwin.specs.importers.aimlapi import extract_fragments, import_api, split_pages
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source

SEEDS = Path(__file__).parents[3] / ".." / "shared" / "seeds"
SEED = SEEDS / "000_60ec40ea988564ea.txt"


def fragment(path: str, method: str, operation: dict[str, Any], components: dict[str, Any] | None = None) -> str:
    document: dict[str, Any] = {"openapi": "3.0.0", "info": {"title": "AIML API", "version": "1.0.0"}}
    document["paths"] = {path: {method: operation}}
    if components:
        document["components"] = components
    return "```json " + json.dumps(document) + " ```"


def chat_body(ids: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {"model": {"type": "string", "enum": ids}, "messages": {"type": "array", "items": {}}}
    properties.update(extra or {})
    schema = {"type": "object", "title": ids[0], "properties": properties, "required": ["model", "messages"]}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def chat_operation(ids: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    chunk = {
        "type": "object",
        "properties": {
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "delta": {
                            "type": "object",
                            "properties": {"content": {"type": "string"}, "role": {"type": "string"}},
                            "required": ["content", "role"],
                        },
                        "finish_reason": {"type": "string", "enum": ["stop"]},
                    },
                },
            }
        },
    }
    return {
        "operationId": "_v1_chat_completions",
        "requestBody": chat_body(ids, extra),
        "responses": {
            "200": {
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/event-stream": {"schema": chunk},
                }
            }
        },
    }


def page(url: str, *blocks: str, models: list[str] | None = None) -> str:
    box = ""
    if models:
        box = (
            "This documentation is valid for the following list of our models: "
            + " ".join(f"* `{model}`" for model in models)
            + " {% endhint %} "
        )
    return f"--- # Source: https://docs.aimlapi.com/{url}.md # Title {box}" + "\n".join(blocks) + "\n"


def run(text: str) -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    return import_api(Source("dump.txt", text), log), log


def kinds(log: RepairLog, kind: str) -> list[dict[str, Any]]:
    return [repair for repair in log.as_list() if repair["kind"] == kind]


# --- pages and fragments ------------------------------------------------------------------


def test_fragments_carry_file_line_and_page_url() -> None:
    text = "# Aimlapi\n" + page("a/one", fragment("/v1/chat/completions", "post", chat_operation(["m1"])))
    text += page("a/two", "prose only")
    source = Source("dump.txt", text)
    pages = split_pages(source)
    fragments = extract_fragments(source, pages)
    assert [p.slug for p in pages] == ["one", "two"]
    assert len(fragments) == 1
    assert fragments[0].provenance() == {"file": "dump.txt", "line": 2, "url": "https://docs.aimlapi.com/a/one.md"}


def test_truncated_fragment_names_file_and_line() -> None:
    broken = fragment("/v1/x", "get", {"responses": {}})[:-30]
    text = page("a/one", "intro") + page("a/two", broken)
    with pytest.raises(SpecError) as error:
        run(text)
    assert error.value.file == "dump.txt"
    assert error.value.location == "line 2"


def test_dump_without_pages_is_an_error() -> None:
    with pytest.raises(SpecError, match="page marker"):
        run("just text")


def test_fragment_with_two_paths_is_an_error() -> None:
    bad = "```json " + json.dumps({"openapi": "3.0.0", "paths": {"/a": {}, "/b": {}}}) + " ```"
    with pytest.raises(SpecError, match="exactly one path"):
        run(page("a/one", bad))


# --- per-model variants ---------------------------------------------------------------------


def test_identical_bodies_share_one_variant_and_distinct_ones_get_their_own() -> None:
    text = page("c/a", fragment("/v1/chat/completions", "post", chat_operation(["a/1", "a/2"])))
    text += page("c/b", fragment("/v1/chat/completions", "post", chat_operation(["b/1"])))
    text += page(
        "c/c", fragment("/v1/chat/completions", "post", chat_operation(["c/1"], {"top_k": {"type": "number"}}))
    )
    document, log = run(text)
    schema = document["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    mapping = schema["discriminator"]["mapping"]
    assert schema["discriminator"]["propertyName"] == "model"
    assert len(schema["oneOf"]) == 2
    assert mapping["a/1"] == mapping["b/1"] != mapping["c/1"]
    variant = document["components"]["schemas"][mapping["a/1"].rsplit("/", 1)[-1]]
    assert variant["properties"]["model"] == {"type": "string", "enum": ["a/1", "a/2", "b/1"]}
    assert "title" not in variant
    assert len(kinds(log, "model-title-dropped")) == 3


def test_same_id_on_two_pages_is_logged_with_what_page_and_enum_say() -> None:
    text = page("c/v31", fragment("/v1/chat/completions", "post", chat_operation(["d/v3.1"])), models=["d/v3.1"])
    text += page(
        "c/speciale", fragment("/v1/chat/completions", "post", chat_operation(["d/v3.1"])), models=["d/speciale"]
    )
    document, log = run(text)
    schema = document["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    variant = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert variant["properties"]["model"]["enum"] == ["d/v3.1"]
    [collision] = kinds(log, "model-id-collision")
    assert "page text says d/speciale, enum says d/v3.1" in collision["reason"]
    assert collision["before"][1]["page_text_models"] == ["d/speciale"]


def test_unversioned_fragment_folds_into_the_v1_operation() -> None:
    text = page("c/a", fragment("/v1/chat/completions", "post", chat_operation(["a"])))
    text += page("c/g", fragment("/chat/completions", "post", chat_operation(["g"])))
    document, log = run(text)
    assert list(document["paths"]) == ["/v1/chat/completions"]
    assert _model_ids(document) == {"a", "g"}
    assert len(kinds(log, "alias-folded")) == 1


def test_a_lone_variant_is_no_union_and_keeps_model_optional() -> None:
    """Luma's page gives `model` a default and its own samples omit it: one variant needs no discriminator, so
    nothing makes `model` required (issue 12)."""
    body = chat_body(["ray-1-6", "ray-2"])
    schema = body["content"]["application/json"]["schema"]
    schema["properties"]["model"]["default"] = "ray-2"
    schema["required"] = ["messages"]
    operation = {"requestBody": body, "responses": {"201": {"description": "queued"}}}
    document, log = run(page("v/luma", fragment("/v2/generate/video/luma-ai/generation", "post", operation)))
    union = document["paths"]["/v2/generate/video/luma-ai/generation"]["post"]["requestBody"]["content"]
    reference = union["application/json"]["schema"]
    assert list(reference) == ["$ref"]
    variant = document["components"]["schemas"][reference["$ref"].rsplit("/", 1)[-1]]
    assert variant["required"] == ["messages"] and variant["properties"]["model"]["default"] == "ray-2"
    assert kinds(log, "model-required") == []


def test_in_a_union_model_becomes_required_and_is_logged() -> None:
    first, second = chat_operation(["a"]), chat_operation(["b"], {"top_k": {"type": "number"}})
    first["requestBody"]["content"]["application/json"]["schema"]["required"] = ["messages"]
    text = page("c/a", fragment("/v1/chat/completions", "post", first))
    text += page("c/b", fragment("/v1/chat/completions", "post", second))
    document, log = run(text)
    schemas = document["components"]["schemas"]
    assert all(schemas[name]["required"][0] == "model" for name in schemas if name.startswith("ChatCompletionsRequest"))
    [required] = kinds(log, "model-required")
    assert "docs.aimlapi.com/c/a.md leaves model optional" in required["reason"]


def test_ids_only_a_page_lists_join_a_variant_of_what_the_documented_ones_share() -> None:
    """A page that links its schema instead of embedding it still lists its models (13 embedding pages)."""
    text = page("c/a", fragment("/v1/chat/completions", "post", chat_operation(["a"], {"n": {"type": "integer"}})))
    text += page("c/b", fragment("/v1/chat/completions", "post", chat_operation(["b"], {"top_k": {"type": "number"}})))
    linked = '{% openapi src="" path="/v1/chat/completions" method="post" %} [linked.json](https://files/linked.json)'
    text += page("c/linked", linked, models=["l/1", "a"])
    text += page("c/other", '{% openapi src="" path="/v1/other" method="post" %}', models=["o/1"])
    document, log = run(text)
    schema = document["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["discriminator"]["mapping"]) == {"a", "b", "l/1"}
    listed = document["components"]["schemas"][schema["discriminator"]["mapping"]["l/1"].rsplit("/", 1)[-1]]
    assert listed["properties"]["model"] == {"type": "string", "enum": ["l/1"]}
    assert set(listed["properties"]) == {"model", "messages"} and listed["required"] == ["model", "messages"]
    assert listed["x-apitwin-source"]["url"] == "https://docs.aimlapi.com/c/linked.md"
    [repair] = kinds(log, "model-ids-from-pages")
    assert repair["after"]["ids"] == ["l/1"] and "https://docs.aimlapi.com/c/linked.md" in repair["reason"]


def test_binary_fields_in_json_become_multipart() -> None:
    schema = {
        "type": "object",
        "properties": {"model": {"enum": ["e"]}, "image": {"type": "string", "format": "binary"}},
        "required": ["model"],
    }
    operation = {
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Edit"}}}},
        "responses": {"201": {"description": "ok"}},
    }
    document, log = run(page("i/e", fragment("/v1/images/edits", "post", operation, {"schemas": {"Edit": schema}})))
    content = document["paths"]["/v1/images/edits"]["post"]["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    assert "Edit" not in document["components"]["schemas"]
    assert kinds(log, "media-type")[0]["after"] == "multipart/form-data"


# --- responses ------------------------------------------------------------------------------


def test_get_answering_201_becomes_200() -> None:
    operation = {"responses": {"201": {"content": {"application/json": {"schema": {"type": "object"}}}}}}
    document, log = run(page("s/poll", fragment("/v1/stt/{generation_id}", "get", operation)))
    assert list(document["paths"]["/v1/stt/{generation_id}"]["get"]["responses"]) == ["200"]
    assert kinds(log, "status-code")[0]["before"] == "201"


def test_usage_accepts_credits_used_or_tokens_used() -> None:
    usage = {"type": "object", "properties": {"credits_used": {"type": "number"}}, "required": ["credits_used"]}
    response = {"type": "object", "properties": {"meta": {"type": "object", "properties": {"usage": usage}}}}
    operation = {"responses": {"200": {"content": {"application/json": {"schema": response}}}}}
    document, log = run(page("v/a", fragment("/v2/video/generations", "get", operation)))
    schema = document["paths"]["/v2/video/generations"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    fixed = schema["properties"]["meta"]["properties"]["usage"]
    assert set(fixed["properties"]) == {"credits_used", "tokens_used"}
    assert fixed["anyOf"] == [{"required": ["credits_used"]}, {"required": ["tokens_used"]}]
    assert kinds(log, "usage-field")


def test_minority_response_variant_is_dropped_and_logged() -> None:
    def operation(kind: str) -> dict[str, Any]:
        return {"responses": {"200": {"content": {"application/json": {"schema": {"type": kind}}}}}}

    text = "".join(page(f"x/{n}", fragment("/vision", "post", operation("object"))) for n in range(2))
    text += page("x/odd", fragment("/vision", "post", operation("array")))
    document, log = run(text)
    assert document["paths"]["/vision"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "object"
    }
    assert "odd" in kinds(log, "response-variant-dropped")[0]["reason"]


def test_status_enum_widened_only_with_page_evidence() -> None:
    schema = {"type": "object", "properties": {"status": {"type": "string", "enum": ["queued", "completed"]}}}
    operation = {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}
    text = page("v/a", fragment("/v2/video/generations", "get", operation), "Response {'status': 'succeeded'}")
    document, log = run(text)
    enum = document["paths"]["/v2/video/generations"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]["properties"]["status"]["enum"]
    assert enum == ["queued", "completed", "succeeded"]
    assert [repair["after"] for repair in kinds(log, "status-enum-widened")] == ["succeeded"]


# --- streams --------------------------------------------------------------------------------


def test_chat_stream_is_framed_and_chunk_relaxed() -> None:
    document, log = run(page("c/a", fragment("/v1/chat/completions", "post", chat_operation(["a"]))))
    stream = document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    data = stream["schema"]["properties"]["data"]
    assert stream["schema"]["required"] == ["data"]
    assert data["if"] == {"const": "[DONE]"}
    assert data["else"]["contentSchema"] == {"$ref": "#/components/schemas/ChatCompletionsChunk"}
    choice = document["components"]["schemas"]["ChatCompletionsChunk"]["properties"]["choices"]["items"]
    assert "required" not in choice["properties"]["delta"]
    assert choice["properties"]["delta"]["properties"]["content"]["nullable"] is True
    assert choice["properties"]["finish_reason"]["nullable"] is True
    assert kinds(log, "sse-framing") and kinds(log, "sse-chunk-relaxed")


def test_event_stream_becomes_named_events_with_a_discriminated_union() -> None:
    def event(name: str) -> dict[str, Any]:
        return {"type": "object", "properties": {"type": {"type": "string", "enum": [name]}}, "required": ["type"]}

    stream = {"oneOf": [event("response.created"), event("response.completed")]}
    operation = chat_operation(["r"])
    operation["responses"]["200"]["content"]["text/event-stream"]["schema"] = stream
    document, _ = run(page("r/a", fragment("/v1/responses", "post", operation)))
    framed = document["paths"]["/v1/responses"]["post"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert framed["properties"]["event"]["enum"] == ["response.created", "response.completed"]
    union = document["components"]["schemas"]["ResponsesStreamEvent"]
    assert union["discriminator"]["mapping"]["response.created"] == (
        "#/components/schemas/ResponsesStreamEvent.response.created"
    )


# --- the real seed --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_import() -> tuple[dict[str, Any], RepairLog]:
    if not SEED.exists():
        pytest.skip("vendor documents not available")
    log = RepairLog()
    document = import_api(Source.read(SEED), log)
    return document, log


def _model_ids(document: dict[str, Any]) -> set[str]:
    from apitwin.specs.inventory import model_ids

    return set(model_ids(document))


def _mappings(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                mapping = (media["schema"].get("discriminator") or {}).get("mapping")
                if mapping:
                    found[f"{method} {path}"] = mapping
    return found


@pytest.mark.seeds
def test_seed_merges_into_29_operations_with_406_model_ids(seed_import: Any) -> None:
    """390 ids in the fragments' enums, 16 more in the model lists of pages that link their schema (13 embedding
    models, 3 Llama Guard moderation models served by chat)."""
    document, log = seed_import
    operations = [(path, method) for path, item in document["paths"].items() for method in item]
    assert len(operations) == 29
    ids = _model_ids(document)
    assert len(ids) == 406
    listed = {model_id for repair in kinds(log, "model-ids-from-pages") for model_id in repair["after"]["ids"]}
    assert len(listed) == 16 and {"BAAI/bge-base-en-v1.5", "voyage-2", "meta-llama/LlamaGuard-2-8b"} <= listed
    assert len(ids - listed) == 390


@pytest.mark.seeds
def test_seed_each_model_id_maps_to_one_variant_holding_it(seed_import: Any) -> None:
    document, _ = seed_import
    schemas = document["components"]["schemas"]
    for mapping in _mappings(document).values():
        for model_id, reference in mapping.items():
            assert model_id in schemas[reference.rsplit("/", 1)[-1]]["properties"]["model"]["enum"]


@pytest.mark.seeds
def test_seed_repairs_include_the_two_collisions_and_the_vendor_fixes(seed_import: Any) -> None:
    _, log = seed_import
    counts = log.kinds()
    assert counts["model-id-collision"] == 2
    assert counts["model-title-dropped"] == 320
    assert counts["sse-framing"] == 2
    assert counts["status-code"] == 1
    collisions = " ".join(repair["reason"] for repair in kinds(log, "model-id-collision"))
    assert "deepseek/deepseek-v3.2-speciale" in collisions
    assert "openai/gpt-image-1-5" in collisions
