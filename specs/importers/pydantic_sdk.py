"""Importer for a Python SDK reference rendered to text (mkdocstrings/Sphinx style) with pydantic models.

Each model is a heading line (the class name) followed by ``pydantic-model``, an optional
docstring, ``Show JSON schema:`` and the model's JSON Schema (pydantic output, with
``$defs``), then ``Fields:``. The importer collects every schema into
``components.schemas``: each block's ``$defs`` are hoisted and ``#/$defs/…`` references and
discriminator mappings are rewritten to ``#/components/schemas/…``. A model whose block is
empty takes the schema another block defines for it under ``$defs``.

The document names no HTTP method or path (an SDK call is not a URL), so an operation is
built only when the catalogue passes ``method`` and ``path``; its request and response
bodies are the models listed first under the document's "Request Types" and "Response
Types" headings. Without those options the result holds the schemas only, and the API's
overlay adds the operations from the client's source.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source

MODEL_HEADING = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\npydantic-model\n", re.MULTILINE)
SCHEMA_MARKER = "Show JSON schema:\n"
FIELDS_MARKER = "Fields:\n"
FIELD_ENTRY = re.compile(r"^([a-z_][a-z0-9_]*)\(", re.MULTILINE)
DEFS_PREFIX = "#/$defs/"
COMPONENTS_PREFIX = "#/components/schemas/"
REQUEST_SECTION = "Request Types"
RESPONSE_SECTION = "Response Types"


@dataclass(slots=True)
class Model:
    """One ``pydantic-model`` entry of the reference."""

    name: str
    offset: int
    schema: dict[str, Any] | None
    schema_offset: int | None
    fields: list[str] = field(default_factory=list)

    @property
    def has_block(self) -> bool:
        return self.schema_offset is not None


def import_api(source: Source, log: RepairLog, **options: Any) -> dict[str, Any]:
    """An OpenAPI 3.1 document with every model in ``components.schemas``."""
    models = parse_models(source)
    if not models:
        raise source.error(0, "no 'pydantic-model' entries: not an SDK reference with pydantic models")
    schemas = hoist_schemas(models, source, log)
    fill_empty_models(models, schemas, source, log)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": options.get("title") or _title(source), "version": options.get("version") or "0.0.0"},
        "paths": {},
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
    if options.get("path"):
        _add_operation(document, models, source, options)
    return document


# --- parsing -------------------------------------------------------------------------------


def parse_models(source: Source) -> list[Model]:
    headings = list(MODEL_HEADING.finditer(source.text))
    models = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(source.text)
        models.append(_parse_model(source, heading, end))
    return models


def _parse_model(source: Source, heading: re.Match[str], end: int) -> Model:
    name = heading.group(1)
    marker = source.text.find(SCHEMA_MARKER, heading.end(), end)
    if marker == -1:
        return Model(name, heading.start(), None, None, _field_names(source.text, heading.end(), end))
    start = marker + len(SCHEMA_MARKER)
    if not source.text.startswith("{", start):
        return Model(name, heading.start(), None, start, _field_names(source.text, start, end))
    schema, after = _decode_block(source, name, start)
    return Model(name, heading.start(), schema, start, _field_names(source.text, after, end))


def _decode_block(source: Source, name: str, start: int) -> tuple[dict[str, Any], int]:
    try:
        schema, after = json.JSONDecoder().raw_decode(source.text, start)
    except json.JSONDecodeError as error:
        raise source.error(error.pos, f"the JSON schema of {name} is not valid JSON: {error.msg}") from None
    if not isinstance(schema, dict):
        raise source.error(start, f"the JSON schema of {name} is not an object")
    return schema, after


def _field_names(text: str, start: int, end: int) -> list[str]:
    """The names listed under ``Fields:`` (``name(type)`` lines), in order."""
    marker = text.find(FIELDS_MARKER, start, end)
    if marker == -1:
        return []
    names: list[str] = []
    for match in FIELD_ENTRY.finditer(text, marker + len(FIELDS_MARKER), end):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def _title(source: Source) -> str:
    first = source.text.strip().split("\n", 1)[0].strip()
    return first or source.name


# --- hoisting ------------------------------------------------------------------------------


def hoist_schemas(models: list[Model], source: Source, log: RepairLog) -> dict[str, dict[str, Any]]:
    """Every block's schema and ``$defs`` under one name space, references rewritten."""
    schemas: dict[str, dict[str, Any]] = {}
    origin: dict[str, int] = {}
    for model in models:
        if model.schema is None:
            continue
        block = copy.deepcopy(model.schema)
        defs = block.pop("$defs", {})
        if not isinstance(defs, dict):
            raise source.error(model.schema_offset or model.offset, f"$defs of {model.name} is not an object")
        rewritten = rewrite_defs_refs(block) + rewrite_defs_refs(defs)
        for name, schema in defs.items():
            _add_schema(schemas, origin, name, schema, source, model)
        _add_schema(schemas, origin, model.name, block, source, model)
        if defs:
            log.record(
                "hoist-defs",
                f"/components/schemas/{model.name}",
                source=source.where(model.offset),
                before=f"{len(defs)} $defs, {rewritten} references to #/$defs/",
                after=f"components/schemas, references to {COMPONENTS_PREFIX}",
                reason="OpenAPI resolves references from the document root; '#/$defs/…' inside an embedded schema "
                "resolves nowhere",
            )
    return schemas


def _add_schema(
    schemas: dict[str, dict[str, Any]],
    origin: dict[str, int],
    name: str,
    schema: dict[str, Any],
    source: Source,
    model: Model,
) -> None:
    if name in schemas and schemas[name] != schema:
        first = source.line_of(origin[name])
        raise source.error(model.offset, f"{name} is defined differently here and in the model at line {first}")
    if name not in schemas:
        schemas[name] = schema
        origin[name] = model.offset


def rewrite_defs_refs(node: Any) -> int:
    """Point ``#/$defs/X`` (``$ref`` values and discriminator mappings) at components; count them."""
    count = 0
    if isinstance(node, list):
        for item in node:
            count += rewrite_defs_refs(item)
        return count
    if not isinstance(node, dict):
        return 0
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(DEFS_PREFIX):
        node["$ref"] = COMPONENTS_PREFIX + ref[len(DEFS_PREFIX) :]
        count += 1
    discriminator = node.get("discriminator")
    if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
        mapping = discriminator["mapping"]
        for key, target in mapping.items():
            if isinstance(target, str) and target.startswith(DEFS_PREFIX):
                mapping[key] = COMPONENTS_PREFIX + target[len(DEFS_PREFIX) :]
                count += 1
    for key, value in node.items():
        if key != "discriminator":
            count += rewrite_defs_refs(value)
    return count


def fill_empty_models(models: list[Model], schemas: dict[str, dict[str, Any]], source: Source, log: RepairLog) -> None:
    """A model shown with an empty schema block takes the schema another block gives it."""
    for model in models:
        if model.schema is not None or not model.has_block:
            continue
        schema = schemas.get(model.name)
        if schema is None:
            schema = _schema_from_fields(model)
            schemas[model.name] = schema
            reason = (
                "the model's 'Show JSON schema:' block is empty and no other schema defines it; its documented fields "
                "are accepted with any value"
            )
        else:
            reason = (
                "the model's 'Show JSON schema:' block is empty; the schema another model gives it under $defs is used"
            )
        _check_fields(model, schema, source)
        log.record(
            "empty-schema",
            f"/components/schemas/{model.name}",
            source=source.where(model.offset),
            before={"documented fields": model.fields},
            after=copy.deepcopy(schema),
            reason=reason,
        )


def _schema_from_fields(model: Model) -> dict[str, Any]:
    properties: dict[str, Any] = {name: {} for name in model.fields}
    return {"type": "object", "title": model.name, "properties": properties}


def _check_fields(model: Model, schema: dict[str, Any], source: Source) -> None:
    """The documented fields must all be in the schema taken for the model."""
    properties = schema.get("properties") or {}
    missing = [name for name in model.fields if name not in properties]
    if missing:
        raise source.error(model.offset, f"{model.name} documents fields {missing} that its schema elsewhere lacks")


# --- the operation (only when the catalogue gives an address) ------------------------------


def _section_model(models: list[Model], source: Source, heading: str) -> Model | None:
    """The first model after a line that is exactly ``heading``."""
    match = re.search(rf"^{re.escape(heading)}$", source.text, re.MULTILINE)
    if match is None:
        return None
    for model in models:
        if model.offset > match.start():
            return model
    return None


def _add_operation(document: dict[str, Any], models: list[Model], source: Source, options: dict[str, Any]) -> None:
    request = _section_model(models, source, REQUEST_SECTION)
    response = _section_model(models, source, RESPONSE_SECTION)
    if request is None or response is None:
        raise source.error(
            0, f"an operation needs the '{REQUEST_SECTION}' and '{RESPONSE_SECTION}' sections, each followed by a model"
        )
    method = str(options.get("method") or "post").lower()
    operation = {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": COMPONENTS_PREFIX + request.name}}},
        },
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": COMPONENTS_PREFIX + response.name}}},
            }
        },
        "x-apitwin-sources": [
            {"file": source.name, "line": source.line_of(request.offset), "pointer": COMPONENTS_PREFIX + request.name},
            {
                "file": source.name,
                "line": source.line_of(response.offset),
                "pointer": COMPONENTS_PREFIX + response.name,
            },
        ],
    }
    document["paths"][options["path"]] = {method: operation}
