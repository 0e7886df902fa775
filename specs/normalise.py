"""Normalise: upgrade a vendor's OpenAPI document to 3.1 and repair what is broken.

Every change is recorded in the repair log; nothing is changed silently. What is generic
to OpenAPI lives here; what is specific to one vendor document lives in its importer
(``specs.importers``) or its overlay (``specs/overlays``).
"""

from __future__ import annotations

import copy
import datetime
import http
import math
from collections.abc import Iterator
from typing import Any

from apitwin.specs.errors import SpecError
from apitwin.specs.example_ids import IdExamples
from apitwin.specs.jsontypes import json_type
from apitwin.specs.pointer import join, resolve
from apitwin.specs.repairs import RepairLog
from apitwin.specs.samples import response_samples
from apitwin.specs.streams import recognise_streams
from apitwin.specs.structure import check_structure
from apitwin.specs.validation import SchemaChecker
from apitwin.specs.walk import (
    HTTP_METHODS,
    answer_schemas,
    iter_operations,
    schema_holders,
    walk_document,
    walk_schema,
)

COUNT_KEYWORDS = (
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
)
EXCLUSIVE_KEYWORDS = ("exclusiveMinimum", "exclusiveMaximum")
NUMERIC_KEYWORDS = ("minimum", "maximum", *EXCLUSIVE_KEYWORDS, "multipleOf", *COUNT_KEYWORDS)
JSON_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")
BODYLESS_METHODS = ("get", "head", "delete")


def normalise(document: dict[str, Any], log: RepairLog, *, source: str) -> dict[str, Any]:
    """A repaired OpenAPI 3.1 copy of ``document``; repairs go to ``log``."""
    _check_is_openapi(document, source)
    document = copy.deepcopy(document)
    document = _repair_yaml_scalars(document, "", log, source)
    legacy = str(document["openapi"]).startswith("3.0")
    _upgrade_header(document, log, source)
    check_structure(document, log, source=source)  # the containers every later stage walks
    walk_document(document, lambda schema, pointer: _repair_schema(schema, pointer, log, source, legacy))
    _repair_operations(document, log, source, legacy)
    _repair_empty_media_types(document, log, source)
    _repair_security_schemes(document, log, source)
    _repair_recursive_refs(document, log, source)
    _repair_dangling_refs(document, log, source)
    recognise_streams(document, log, source=source)  # adds discriminators the next stage maps
    _repair_discriminators(document, log, source)
    _repair_values_against_schemas(document, log, source)
    _ids_from_meta_examples(document, log, source)
    return document


# --- the document itself -------------------------------------------------------------------


def _check_is_openapi(document: Any, source: str) -> None:
    if not isinstance(document, dict):
        raise SpecError(source, "/", f"not an OpenAPI document: the top level is a {type(document).__name__}")
    if "swagger" in document:
        raise SpecError(source, "/swagger", "Swagger 2.0 is not supported: convert it to OpenAPI 3 first")
    version = document.get("openapi")
    if version is None:
        raise SpecError(source, "/", "not an OpenAPI document: it has no 'openapi' field")
    if not str(version).startswith(("3.0", "3.1")):
        raise SpecError(source, "/openapi", f"unsupported OpenAPI version {version!r}: expected 3.0.x or 3.1.x")
    if not isinstance(document.get("paths", {}), dict):
        raise SpecError(source, "/paths", "'paths' must be an object")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _repair_yaml_scalars(value: Any, pointer: str, log: RepairLog, source: str) -> Any:
    """What YAML reads but JSON cannot hold: dates become their ISO text, keys become strings.

    Anything else that is not JSON (binary, sets, NaN) cannot be repaired without guessing.
    """
    if isinstance(value, dict):
        repaired: dict[str, Any] = {}
        for key, child in value.items():
            name = key
            if not isinstance(key, str):
                name = _key_text(key)
                log.record(
                    "yaml-key",
                    join(pointer, name),
                    source=source,
                    before=repr(key),
                    after=name,
                    reason=f"YAML read this mapping key as a {type(key).__name__}; JSON object keys are strings",
                )
                if name in value or name in repaired:
                    raise SpecError(source, join(pointer, name), f"the key {name!r} is given twice")
            repaired[name] = _repair_yaml_scalars(child, join(pointer, name), log, source)
        return repaired
    if isinstance(value, list):
        return [_repair_yaml_scalars(child, join(pointer, index), log, source) for index, child in enumerate(value)]
    if isinstance(value, (datetime.date, datetime.datetime)):
        text = value.isoformat()
        log.record(
            "yaml-date",
            pointer,
            source=source,
            before=text,
            after=text,
            reason="YAML read an unquoted date as a date; JSON has no dates, so it is the string as written",
        )
        return text
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(source, pointer or "/", f"{value} is not a JSON number")
        return value
    raise SpecError(source, pointer or "/", f"a YAML {type(value).__name__} is not a JSON value")


def _key_text(key: Any) -> str:
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    if isinstance(key, (datetime.date, datetime.datetime)):
        return key.isoformat()
    return str(key)


def _upgrade_header(document: dict[str, Any], log: RepairLog, source: str) -> None:
    if not isinstance(document["openapi"], str):
        document["openapi"] = str(document["openapi"])  # `openapi: 3.1` unquoted; the upgrade below logs it
    if document["openapi"] != "3.1.0":
        log.record(
            "upgrade-3.1",
            "/openapi",
            source=source,
            before=document["openapi"],
            after="3.1.0",
            reason="apitwin ships OpenAPI 3.1 (JSON Schema 2020-12) documents",
        )
        document["openapi"] = "3.1.0"
    info = document.get("info")
    if not isinstance(info, dict) or not _text(info.get("title")) or not _text(info.get("version")):
        fixed = dict(info) if isinstance(info, dict) else {}
        for key in ("title", "version"):
            if fixed.get(key) is not None and not isinstance(fixed[key], str):
                fixed[key] = str(fixed[key])  # `version: 1.0` unquoted
            if not fixed.get(key):
                fixed.pop(key, None)
        fixed.setdefault("title", source)
        fixed.setdefault("version", "0.0.0")
        log.record(
            "missing-info",
            "/info",
            source=source,
            before=info,
            after=fixed,
            reason="info.title and info.version are required",
        )
        document["info"] = fixed
    document.setdefault("paths", {})


# --- schemas -------------------------------------------------------------------------------


def _repair_schema(schema: dict[str, Any], pointer: str, log: RepairLog, source: str, legacy: bool) -> None:
    _repair_placeholder_type(schema, pointer, log, source)
    if legacy or "nullable" in schema:
        _upgrade_nullable(schema, pointer, log, source)
    _repair_null_beside_composition(schema, pointer, log, source)
    _upgrade_example(schema, pointer, log, source)  # deprecated in 3.1 documents too
    _repair_numeric_keywords(schema, pointer, log, source)
    _upgrade_exclusive_bounds(schema, pointer, log, source)  # 3.0 booleans turn up in 3.1 documents too
    _repair_boolean_required(schema, pointer, log, source)
    _repair_duplicate_required(schema, pointer, log, source)
    _infer_enum_type(schema, pointer, log, source)


def _repair_numeric_keywords(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    """YAML reads ``1e-08`` (no dot) as a string: a keyword that needs a number gets the number."""
    for keyword in NUMERIC_KEYWORDS:
        value = schema.get(keyword)
        if not isinstance(value, str) or (keyword in EXCLUSIVE_KEYWORDS and value in ("true", "false")):
            continue
        number = _number(value)
        if keyword in COUNT_KEYWORDS and number is not None and number == int(number) and number >= 0:
            number = int(number)
        elif keyword in COUNT_KEYWORDS:
            number = None
        if number is None:
            del schema[keyword]
            after: Any = "<absent>"
            reason = f"{keyword!r} must be a number and {value!r} is not one; the keyword is dropped"
        else:
            schema[keyword] = after = number
            reason = f"{keyword!r} must be a number; YAML read {value!r} as a string"
        log.record("numeric-keyword", join(pointer, keyword), source=source, before=value, after=after, reason=reason)


def _number(text: str) -> float | int | None:
    for parse in (int, float):
        try:
            number = parse(text.strip())
        except ValueError:
            continue
        return number if math.isfinite(number) else None
    return None


def _repair_placeholder_type(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared]
    if declared is None or all(t in JSON_TYPES for t in types):
        return
    log.record(
        "placeholder-type",
        join(pointer, "type"),
        source=source,
        before=declared,
        after="<absent>",
        reason=f"{declared!r} is not a JSON Schema type; the schema no longer constrains the type",
    )
    del schema["type"]
    if schema.get("title") == declared:
        del schema["title"]


def _upgrade_nullable(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    if "nullable" not in schema:
        return
    nullable = schema.pop("nullable")
    before = {**schema, "nullable": nullable}
    if nullable is not True:
        log.record(
            "nullable",
            join(pointer, "nullable"),
            source=source,
            before=nullable,
            after="<absent>",
            reason="'nullable' is not a JSON Schema 2020-12 keyword",
        )
        return
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "null" not in types:
            schema["type"] = [*types, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if "const" in schema:
        schema["anyOf"] = [{"const": schema.pop("const")}, {"type": "null"}]
    elif "type" not in schema and "enum" not in schema:
        if not _constraining_keys(schema):
            reason = "a bare {nullable: true} accepts any value in 3.1 terms; it becomes {}"
            log.record("nullable-catch-all", pointer, source=source, before=before, after=dict(schema), reason=reason)
            return
        _wrap_nullable_composition(schema)
    log.record(
        "nullable",
        pointer,
        source=source,
        before=before,
        after=dict(schema),
        reason="3.0 'nullable' becomes a 'null' type (and null in the enum)",
    )


def _repair_null_beside_composition(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    """``{type: "null", oneOf: [string, number]}`` allows no value: null is none of the branches, and each branch
    is not null. It is a 3.0 ``nullable`` written into 3.1 by hand (vercel publishes 17), meant as "null, or
    one of these"; null becomes one more alternative. Only where every branch is written inline with a type that
    excludes null (a branch behind a ``$ref`` is left as published)."""
    if schema.get("type") not in ("null", ["null"]):
        return
    keyword = next((keyword for keyword in ("oneOf", "anyOf") if isinstance(schema.get(keyword), list)), None)
    if keyword is None or not schema[keyword] or not all(_excludes_null(branch) for branch in schema[keyword]):
        return
    before = {"type": schema.pop("type"), keyword: list(schema[keyword])}
    schema[keyword] = [*schema[keyword], {"type": "null"}]
    log.record(
        "null-beside-composition",
        join(pointer, "type"),
        source=source,
        before=before,
        after={keyword: schema[keyword]},
        reason=f"type 'null' beside a {keyword} of non-null branches allows no value; read as null or one of them",
    )


def _excludes_null(branch: Any) -> bool:
    if not isinstance(branch, dict) or "type" not in branch:
        return False
    types = branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
    return "null" not in types


def _constraining_keys(schema: dict[str, Any]) -> list[str]:
    annotations = {"title", "description", "default", "examples", "example", "deprecated", "readOnly", "writeOnly"}
    return [key for key in schema if key not in annotations and not key.startswith("x-")]


def _wrap_nullable_composition(schema: dict[str, Any]) -> None:
    """``{oneOf: [...], nullable: true}`` and friends: null becomes one more alternative."""
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            schema[keyword] = [*schema[keyword], {"type": "null"}]
            return
    moved = {key: schema.pop(key) for key in _constraining_keys(schema)}
    schema["anyOf"] = [moved, {"type": "null"}]


def _upgrade_example(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    if "example" not in schema:
        return
    example = schema.pop("example")
    schema.setdefault("examples", [example])
    log.record(
        "schema-example",
        join(pointer, "example"),
        source=source,
        before=example,
        after={"examples": schema["examples"]},
        reason="'example' in a schema is deprecated in 3.1; 'examples' is an array",
    )


def _upgrade_exclusive_bounds(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(exclusive)
        if not isinstance(value, bool):
            continue
        before = {exclusive: value, bound: schema.get(bound)}
        if value and bound in schema:
            schema[exclusive] = schema.pop(bound)
        else:
            del schema[exclusive]
        log.record(
            "exclusive-bound",
            join(pointer, exclusive),
            source=source,
            before=before,
            after={exclusive: schema.get(exclusive), bound: schema.get(bound)},
            reason="3.0 boolean exclusive bounds become numbers in 3.1",
        )


def _repair_duplicate_required(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    """``required`` must list each name once (JSON Schema); a name written twice says nothing more."""
    required = schema.get("required")
    if not isinstance(required, list):
        return
    unique = [name for index, name in enumerate(required) if name not in required[:index]]
    if len(unique) == len(required):
        return
    schema["required"] = unique
    log.record(
        "duplicate-required",
        join(pointer, "required"),
        source=source,
        before=required,
        after=unique,
        reason="'required' must not name a property twice; the repeats are dropped",
    )


def _repair_recursive_refs(document: dict[str, Any], log: RepairLog, source: str) -> None:
    """2019-09's ``$recursiveRef: "#"`` / ``$recursiveAnchor`` in a 2020-12 document: the recursion
    is to the schema the reference sits in (OpenAI's CompoundFilter), so it becomes a ``$ref`` to it."""

    def fix(root: Any, root_pointer: str) -> None:
        def visit(schema: dict[str, Any], pointer: str) -> None:
            if schema.get("$recursiveRef") == "#" and "$ref" not in schema:
                del schema["$recursiveRef"]
                schema["$ref"] = "#" + root_pointer
                log.record(
                    "recursive-ref",
                    join(pointer, "$recursiveRef"),
                    source=source,
                    before="#",
                    after={"$ref": schema["$ref"]},
                    reason="$recursiveRef is JSON Schema 2019-09; in 2020-12 the recursion is a $ref",
                )
            if "$recursiveAnchor" in schema:
                value = schema.pop("$recursiveAnchor")
                log.record(
                    "recursive-ref",
                    join(pointer, "$recursiveAnchor"),
                    source=source,
                    before=value,
                    after="<absent>",
                    reason="$recursiveAnchor is JSON Schema 2019-09; its $recursiveRefs are now plain $refs",
                )

        walk_schema(root, root_pointer, visit)

    for holder, pointer in schema_holders(document):
        fix(holder["schema"], join(pointer, "schema"))
    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        fix(schema, join("", "components", "schemas", name))


def _repair_boolean_required(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    """Swagger-style ``"required": true`` on a property moves to the parent's list."""
    if isinstance(schema.get("required"), bool):
        # A schema that is not reached as a property: nothing to move it to.
        value = schema.pop("required")
        log.record(
            "boolean-required",
            join(pointer, "required"),
            source=source,
            before=value,
            after="<absent>",
            reason="'required' must be an array of property names",
        )
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for name, child in properties.items():
        if not isinstance(child, dict) or not isinstance(child.get("required"), bool):
            continue
        flag = child.pop("required")
        if flag:
            required = schema.setdefault("required", [])
            if name not in required:
                required.append(name)
        log.record(
            "boolean-required",
            join(pointer, "properties", name, "required"),
            source=source,
            before=flag,
            after={"required": schema.get("required", [])},
            reason="a property's boolean 'required' moves to its parent's 'required' array",
        )


def _infer_enum_type(schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    enum = schema.get("enum")
    if "type" in schema or not isinstance(enum, list) or not enum:
        return
    types: list[str] = []
    for value in enum:
        name = json_type(value)
        if name not in types:
            types.append(name)
    schema["type"] = types[0] if len(types) == 1 else types
    log.record(
        "enum-type",
        join(pointer, "type"),
        source=source,
        before="<absent>",
        after=schema["type"],
        reason="an enum without a type; the type is what its values are",
    )


# --- operations and responses --------------------------------------------------------------


def _repair_operations(document: dict[str, Any], log: RepairLog, source: str, legacy: bool) -> None:
    for path, item in document["paths"].items():
        if not isinstance(item, dict):
            continue
        if item.get("parameters") == []:
            del item["parameters"]
            log.record(
                "empty-parameters",
                join("", "paths", path, "parameters"),
                source=source,
                before=[],
                after="<absent>",
                reason="an empty list says nothing",
            )
    for path, method, operation in iter_operations(document):
        pointer = join("", "paths", path, method)
        if operation.get("parameters") == []:
            del operation["parameters"]
            log.record(
                "empty-parameters",
                join(pointer, "parameters"),
                source=source,
                before=[],
                after="<absent>",
                reason="an empty list says nothing",
            )
        _repair_bodyless_request(operation, method, pointer, log, source)
        if "responses" not in operation and not legacy:
            operation["responses"] = {"default": {"description": _reason_phrase("default")}}
            log.record(
                "missing-responses",
                join(pointer, "responses"),
                source=source,
                before="<absent>",
                after=operation["responses"],
                reason="OpenAPI 3.1 lets an operation leave its responses out; the mock answers with an empty default",
            )
        responses = operation.get("responses")
        if not isinstance(responses, dict) or not responses:
            raise SpecError(source, join(pointer, "responses"), "an operation must declare at least one response")
        for status, response in responses.items():
            _repair_response_description(response, status, join(pointer, "responses", status), log, source)


def _repair_empty_media_types(document: dict[str, Any], log: RepairLog, source: str) -> None:
    """A content map keyed ``""`` (a Swagger 2 conversion with no ``consumes``/``produces``) names no
    media type; no client can send it, schemathesis refuses the operation. It means "any": ``*/*``."""
    for content, pointer in _content_maps(document):
        for key in [key for key in content if not key.strip()]:
            media = content.pop(key)
            kept = "*/*" not in content
            if kept:
                content["*/*"] = media
            log.record(
                "empty-media-type",
                join(pointer, key),
                source=source,
                before=key,
                after="*/*" if kept else "<absent>",
                reason="an empty media type names none; it is read as any (*/*)"
                + ("" if kept else ", which the map already declares"),
            )


def _content_maps(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every request body's and response's ``content`` map, in operations and components, with its pointer."""
    components = document.get("components") or {}
    holders: list[tuple[Any, str]] = [
        (body, join("", "components", "requestBodies", name))
        for name, body in (components.get("requestBodies") or {}).items()
    ]
    holders += [
        (response, join("", "components", "responses", name))
        for name, response in (components.get("responses") or {}).items()
    ]
    for path, method, operation in iter_operations(document):
        pointer = join("", "paths", path, method)
        holders.append((operation.get("requestBody"), join(pointer, "requestBody")))
        holders += [
            (response, join(pointer, "responses", status))
            for status, response in (operation.get("responses") or {}).items()
        ]
    for holder, pointer in holders:
        content = holder.get("content") if isinstance(holder, dict) else None
        if isinstance(content, dict):
            yield content, join(pointer, "content")


def _repair_bodyless_request(operation: dict[str, Any], method: str, pointer: str, log: RepairLog, source: str) -> None:
    """A GET/HEAD/DELETE with a request body that constrains nothing: a documentation artefact."""
    body = operation.get("requestBody")
    if method not in BODYLESS_METHODS or not isinstance(body, dict):
        return
    schemas = [media.get("schema") for media in (body.get("content") or {}).values() if isinstance(media, dict)]
    if any(isinstance(schema, dict) and _constraining_keys(schema) for schema in schemas):
        return
    del operation["requestBody"]
    log.record(
        "bodyless-request",
        join(pointer, "requestBody"),
        source=source,
        before=body,
        after="<absent>",
        reason=f"{method.upper()} has no request body and this one constrains nothing (a placeholder)",
    )


def _repair_response_description(response: Any, status: str, pointer: str, log: RepairLog, source: str) -> None:
    if not isinstance(response, dict) or "$ref" in response:
        return
    if isinstance(response.get("description"), str) and response["description"].strip():
        return
    description = _reason_phrase(status)
    log.record(
        "response-description",
        join(pointer, "description"),
        source=source,
        before=response.get("description", "<absent>"),
        after=description,
        reason="a response object must have a description",
    )
    response["description"] = description


def _reason_phrase(status: str) -> str:
    if status == "default":
        return "Unexpected error"
    try:
        return http.HTTPStatus(int(status)).phrase
    except ValueError:
        return f"Status {status}"


def _repair_security_schemes(document: dict[str, Any], log: RepairLog, source: str) -> None:
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for name, scheme in schemes.items():
        if not isinstance(scheme, dict) or scheme.get("type") != "http":
            continue
        pointer = join("", "components", "securitySchemes", name)
        if scheme.get("bearerFormat") == "":
            del scheme["bearerFormat"]
            log.record(
                "security-scheme",
                join(pointer, "bearerFormat"),
                source=source,
                before="",
                after="<absent>",
                reason="an empty bearerFormat says nothing",
            )
        if "in" in scheme:
            value = scheme.pop("in")
            log.record(
                "security-scheme",
                join(pointer, "in"),
                source=source,
                before=value,
                after="<absent>",
                reason="'in' belongs to apiKey schemes; an http scheme always uses the Authorization header",
            )


# --- references ----------------------------------------------------------------------------


def _repair_dangling_refs(document: dict[str, Any], log: RepairLog, source: str) -> None:
    """A ``$ref`` that resolves nowhere: try it relative to its schema root, else fail."""

    def fix(root: Any, root_pointer: str) -> None:
        def visit(schema: dict[str, Any], pointer: str) -> None:
            ref = schema.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#"):
                return
            try:
                resolve(document, ref)
                return
            except KeyError:
                pass
            try:
                target = copy.deepcopy(resolve(root, ref))
            except KeyError:
                # Guessing what was meant would loosen or invent a contract: the input must be fixed.
                raise SpecError(
                    source,
                    join(pointer, "$ref"),
                    f"dangling reference {ref}: it resolves neither in the document nor in the schema it sits in",
                ) from None
            reason = (
                f"{ref} resolves relative to the schema it sits in ({root_pointer}), not to the document; "
                "the target is inlined"
            )
            del schema["$ref"]
            if ref in repr(target):
                target = {}
            schema.update(target)
            log.record("dangling-ref", join(pointer, "$ref"), source=source, before=ref, after=target, reason=reason)

        walk_schema(root, root_pointer, visit)

    for holder, pointer in schema_holders(document):
        fix(holder["schema"], join(pointer, "schema"))
    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        fix(schema, join("", "components", "schemas", name))


def _repair_discriminators(document: dict[str, Any], log: RepairLog, source: str) -> None:
    def visit(schema: dict[str, Any], pointer: str) -> None:
        discriminator = schema.get("discriminator")
        if not isinstance(discriminator, dict) or "mapping" in discriminator:
            return
        branches = schema.get("oneOf") or schema.get("anyOf") or []
        mapping = _discriminator_mapping(document, branches, discriminator.get("propertyName"))
        if mapping is None:
            del schema["discriminator"]
            log.record(
                "discriminator",
                join(pointer, "discriminator"),
                source=source,
                before=discriminator,
                after="<absent>",
                reason="the branches do not each fix a value of the discriminating property, so no mapping can be "
                "given",
            )
            return
        if all(ref.rsplit("/", 1)[-1] == value for value, ref in mapping.items()):
            return  # the implicit mapping (schema name == value) already works
        discriminator["mapping"] = mapping
        log.record(
            "discriminator",
            join(pointer, "discriminator", "mapping"),
            source=source,
            before="<absent>",
            after=mapping,
            reason="the values of the discriminating property differ from the schema names, so the implicit mapping "
            "resolves nowhere",
        )

    walk_document(document, visit)


def _discriminator_mapping(document: dict[str, Any], branches: list[Any], prop: Any) -> dict[str, str] | None:
    mapping: dict[str, str] = {}
    for branch in branches:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if not isinstance(ref, str) or not isinstance(prop, str):
            return None
        try:
            target = resolve(document, ref)
        except KeyError:
            return None
        values = _fixed_values(document, target, prop)
        if not values:
            return None
        for value in values:
            mapping.setdefault(value, ref)
    return mapping


def _fixed_values(document: dict[str, Any], schema: Any, prop: str) -> list[str]:
    """The values a schema allows for ``prop``, if it pins them down (const or enum)."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        try:
            return _fixed_values(document, resolve(document, schema["$ref"]), prop)
        except KeyError:
            return []
    if prop not in (schema.get("required") or []):
        for part in schema.get("allOf") or []:
            values = _fixed_values(document, part, prop)
            if values:
                return values
        return []
    declared = (schema.get("properties") or {}).get(prop)
    if isinstance(declared, dict) and "$ref" in declared:
        try:
            declared = resolve(document, declared["$ref"])
        except KeyError:
            return []
    if not isinstance(declared, dict):
        return []
    if isinstance(declared.get("const"), str):
        return [declared["const"]]
    enum = declared.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(value, str) for value in enum):
        return list(enum)
    return []


# --- defaults and examples -----------------------------------------------------------------


def _repair_values_against_schemas(document: dict[str, Any], log: RepairLog, source: str) -> None:
    checker = SchemaChecker(document)

    def visit(schema: dict[str, Any], pointer: str) -> None:
        _repair_default(checker, schema, pointer, log, source)
        _repair_schema_examples(checker, schema, pointer, log, source)

    walk_document(document, visit)
    for holder, pointer in schema_holders(document):
        _repair_holder_examples(checker, holder, pointer, log, source)


def _repair_default(checker: SchemaChecker, schema: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    if "default" not in schema:
        return
    default = schema["default"]
    if checker.error(schema, default) is None:
        return
    coerced = _coerce(default)
    if coerced is not None and checker.error(schema, coerced) is None:
        schema["default"] = coerced
        log.record(
            "default",
            join(pointer, "default"),
            source=source,
            before=default,
            after=coerced,
            reason="the default is a string spelling of a value the schema allows; it now has the schema's type",
        )
        return
    del schema["default"]
    log.record(
        "default",
        join(pointer, "default"),
        source=source,
        before=default,
        after="<absent>",
        reason=f"the default is not valid against its own schema: {checker.error(schema, default)}",
    )


def _coerce(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    for parse in (int, float):
        try:
            return parse(value)
        except ValueError:
            continue
    return {"true": True, "false": False, "null": None}.get(value)


def _repair_schema_examples(
    checker: SchemaChecker, schema: dict[str, Any], pointer: str, log: RepairLog, source: str
) -> None:
    examples = schema.get("examples")
    if not isinstance(examples, list) or not examples:
        return
    kept = []
    for index, example in enumerate(examples):
        error = checker.error(schema, example)
        if error is None:
            kept.append(example)
            continue
        log.record(
            "invalid-example",
            join(pointer, "examples", index),
            source=source,
            before=example,
            after="<absent>",
            reason=f"the example contradicts its own schema: {error}",
        )
    if kept:
        schema["examples"] = kept
    else:
        del schema["examples"]


def _repair_holder_examples(
    checker: SchemaChecker, holder: dict[str, Any], pointer: str, log: RepairLog, source: str
) -> None:
    """Media-type and parameter ``example``/``examples`` checked against the holder's schema."""
    schema = holder["schema"]
    if "example" in holder:
        error = checker.error(schema, holder["example"])
        if error is not None:
            log.record(
                "invalid-example",
                join(pointer, "example"),
                source=source,
                before=holder.pop("example"),
                after="<absent>",
                reason=f"the example contradicts its schema: {error}",
            )
    examples = holder.get("examples")
    if not isinstance(examples, dict):
        return
    for name, example in list(examples.items()):
        if not isinstance(example, dict) or "value" not in example:
            continue
        error = checker.error(schema, example["value"])
        if error is not None:
            del examples[name]
            log.record(
                "invalid-example",
                join(pointer, "examples", name),
                source=source,
                before=example["value"],
                after="<absent>",
                reason=f"the example contradicts its schema: {error}",
            )
    if not examples:
        del holder["examples"]


# --- ids from the examples OpenAI keeps in x-oaiMeta ----------------------------------------------------

META_KIND = "examples-from-x-oaiMeta"


def _ids_from_meta_examples(document: dict[str, Any], log: RepairLog, source: str) -> None:
    """OpenAI's document keeps its examples as JSON text in ``x-oaiMeta``: a schema's ``example``, an operation's
    ``examples[].response``. Where they parse, their ids go to the string schemas they fill, as examples where the
    ids of one schema agree on a prefix (``specs/example_ids.py``), so answers carry ``chatcmpl-…``, ``file-…``."""
    ids = IdExamples(document)
    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        meta = schema.get("x-oaiMeta") if isinstance(schema, dict) else None
        pointer = join("", "components", "schemas", name)
        for value in _meta_values(meta.get("example") if isinstance(meta, dict) else None):
            ids.add(value, schema, pointer, f"{source}#{pointer}/x-oaiMeta/example")
    for path, method, operation in iter_operations(document):
        meta = operation.get("x-oaiMeta")
        examples = meta.get("examples") if isinstance(meta, dict) else None
        pointer = join("", "paths", path, method)
        answers = answer_schemas(document, operation, pointer)
        for index, example in enumerate(examples if isinstance(examples, list) else [examples]):
            where = f"{source}#{pointer}/x-oaiMeta/examples" + (f"/{index}" if isinstance(examples, list) else "")
            for value in _meta_values(example.get("response") if isinstance(example, dict) else None):
                answer = _answer_for(ids, answers, value)
                if answer is not None:
                    ids.add(value, answer[1], answer[0], f"{where}/response")
    ids.give(document, log, kind=META_KIND, examples="x-oaiMeta examples")


def _meta_values(text: Any) -> list[Any]:
    """The JSON values of an example's text (a stream's text holds one per event); none when it does not parse."""
    if not isinstance(text, str):
        return []
    return [sample.value for sample in response_samples("", 0, "json", text) if sample.problem is None]


def _answer_for(ids: IdExamples, answers: list[tuple[str, Any]], value: Any) -> tuple[str, Any] | None:
    """The answer schema an operation's example shows: its only one, else the first that accepts the value."""
    if len(answers) == 1:
        return answers[0]
    return next((answer for answer in answers if ids.accepts(answer[1], value)), None)


__all__ = ["HTTP_METHODS", "normalise"]
