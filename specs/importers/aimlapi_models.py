"""Per-model request variants: one operation, many model pages, one ``model``-discriminated union.

Each model page documents the request body its models accept. Merging them into one
schema would let a request pass with another model's parameters, so each distinct body
becomes a variant in ``components.schemas`` whose ``model`` is an enum of its ids, and the
operation's body is a ``oneOf`` of the variants with a discriminator mapping every id to
exactly one variant. Pages whose bodies differ only in the model enum share one variant; a lone variant is
the body itself, no union. A page that links its schema instead of embedding it still lists its models: those
ids join a variant of what the documented ones agree on.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apitwin.specs.errors import SpecError
from apitwin.specs.pointer import join
from apitwin.specs.repairs import RepairLog

if TYPE_CHECKING:
    from apitwin.specs.importers.aimlapi import Fragment, OperationGroup

JSON = "application/json"
MULTIPART = "multipart/form-data"
MODEL_LIST = re.compile(r"valid for the following list of our models:(.*?)\{% endhint", re.S)
BACKTICKED = re.compile(r"`([^`]+)`")
# Python code on a page that uploads a file as a multipart field: ``files={"audio": ...}``.
MULTIPART_UPLOAD = re.compile(r"files\s*=\s*\{\s*[\"'](\w+)[\"']")
COMPONENT_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(slots=True)
class Variant:
    """One distinct request body and the model ids (and pages) that share it."""

    schema: dict[str, Any]
    ids: list[str] = field(default_factory=list)
    fragments: list[Fragment] = field(default_factory=list)
    name: str = ""
    listed: list[tuple[str, str]] = field(default_factory=list)
    """``(page url, file:line)`` of the pages that only list this variant's ids (they carry no fragment)."""


def build_request_variants(group: OperationGroup, components: dict[str, Any], log: RepairLog) -> dict[str, Any] | None:
    """The operation's requestBody: a discriminated union when its pages carry model enums (one variant alone
    is no union: it needs no discriminator, so ``model`` stays as optional as the vendor wrote it)."""
    bodies: list[tuple[Fragment, dict[str, Any]]] = [
        (fragment, found)
        for fragment in group.fragments
        if isinstance(found := fragment.operation.get("requestBody"), dict)
    ]
    if not bodies:
        return None
    first_body = copy.deepcopy(bodies[0][1])
    variants = _collect_variants(bodies, components, group, log)
    if not variants:
        return first_body
    _add_listed_ids(variants, group, log)
    if len(variants) > 1:
        for variant in variants:
            _require_model(variant, group, log)
    _name_variants(variants, group.path, components)
    schemas = components.setdefault("schemas", {})
    for variant in variants:
        schemas[variant.name] = variant.schema
    _drop_replaced_components(bodies, components)
    union = _union(variants)
    body: dict[str, Any] = {"required": bool(first_body.get("required", True)), "content": {JSON: {"schema": union}}}
    _move_binary_to_multipart(body, variants, group, log)
    _add_multipart_upload(body, variants, group, log)
    return body


# --- variants -----------------------------------------------------------------------------


def _collect_variants(
    bodies: list[tuple[Fragment, dict[str, Any]]],
    components: dict[str, Any],
    group: OperationGroup,
    log: RepairLog,
) -> list[Variant]:
    """Distinct request schemas (ignoring the model enum and title), in page order."""
    by_key: dict[str, Variant] = {}
    for fragment, body in bodies:
        raw = _resolved_body_schema(body, components)
        ids = _model_ids(raw)
        if ids is None:
            continue
        key = json.dumps(_without_model_enum(raw, ids), sort_keys=True)
        if key not in by_key:
            by_key[key] = Variant(_prepare_variant(json.loads(json.dumps(raw)), ids, fragment, group, log))
        else:
            _log_title(raw, ids, fragment, group, log)
        variant = by_key[key]
        variant.fragments.append(fragment)
        for model_id in ids:
            if model_id not in variant.ids:
                variant.ids.append(model_id)
    variants = list(by_key.values())
    for variant in variants:
        variant.schema["properties"]["model"]["enum"] = list(variant.ids)
    _log_shared_ids(variants, group, log)
    return variants


def _add_listed_ids(variants: list[Variant], group: OperationGroup, log: RepairLog) -> None:
    """Ids only a page's model list names (the page points at the operation but embeds no fragment) join one
    variant of what every documented variant of the operation agrees on: refusing them would refuse the
    vendor's own samples, and allowing any other variant's parameters would accept what no page documents."""
    known = {model_id for variant in variants for model_id in variant.ids}
    listed: list[tuple[str, str, list[str]]] = []
    for url, where, ids in group.listed:
        new = [model_id for model_id in ids if model_id not in known]
        if new:
            listed.append((url, where, new))
            known.update(new)
    if not listed:
        return
    ids = [model_id for _, _, page_ids in listed for model_id in page_ids]
    variant = Variant(_shared_core(variants, ids), ids=ids, listed=[(url, where) for url, where, _ in listed])
    variant.schema["x-apitwin-source"] = {
        "file": listed[0][1].rsplit(":", 1)[0],
        "line": int(listed[0][1].rsplit(":", 1)[1]),
        "url": listed[0][0],
    }
    variants.append(variant)
    log.record(
        "model-ids-from-pages",
        join(group.pointer, "requestBody"),
        source=", ".join(dict.fromkeys(where for _, where, _ in listed)),
        after={"ids": ids, "properties": sorted(variant.schema["properties"])},
        reason=(
            f"{len(listed)} pages point their API schema at {group.method.upper()} {group.path} and list "
            f"{len(ids)} model ids no fragment declares ({', '.join(ids)}), but embed no fragment of their own: "
            f"{', '.join(url for url, _, _ in listed)}. Their code samples send these ids, so they are accepted, "
            "in one variant holding what every documented variant of the operation agrees on (the fields all of "
            "them require, declared as any of them declares it, and the properties all of them declare alike)"
        ),
    )


def _shared_core(variants: list[Variant], ids: list[str]) -> dict[str, Any]:
    """What every variant agrees on: the fields all of them require (declared as any of them declares it, an
    ``anyOf`` where they differ) and the optional properties all of them declare alike; ``model`` an enum."""
    first = variants[0].schema
    required = [
        name for name in first.get("required") or [] if all(name in (v.schema.get("required") or []) for v in variants)
    ]
    properties: dict[str, Any] = {"model": {"type": "string", "enum": list(ids)}}
    for name in [*required, *(first.get("properties") or {})]:
        if name == "model" or name in properties:
            continue
        declared = [(variant.schema.get("properties") or {}).get(name) for variant in variants]
        if any(declaration is None for declaration in declared):
            continue
        distinct = list({json.dumps(declaration, sort_keys=True): declaration for declaration in declared}.values())
        if len(distinct) == 1:
            properties[name] = copy.deepcopy(distinct[0])
        elif name in required:
            properties[name] = {"anyOf": copy.deepcopy(distinct)}
    # The variant is apitwin's, made to be told apart by its model: it requires one whatever the others do.
    return {"type": "object", "properties": properties, "required": ["model", *(n for n in required if n != "model")]}


def _resolved_body_schema(body: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    schema = ((body.get("content") or {}).get(JSON) or {}).get("schema") or {}
    reference = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
        schema = (components.get("schemas") or {}).get(reference.rsplit("/", 1)[-1], {})
    return schema if isinstance(schema, dict) else {}


def _model_ids(schema: dict[str, Any]) -> list[str] | None:
    model = (schema.get("properties") or {}).get("model")
    if not isinstance(model, dict) or not isinstance(model.get("enum"), list):
        return None
    return [str(value) for value in model["enum"]]


def _prepare_variant(
    schema: dict[str, Any], ids: list[str], fragment: Fragment, group: OperationGroup, log: RepairLog
) -> dict[str, Any]:
    """Typed model enum, no model-id title."""
    if _log_title(schema, ids, fragment, group, log):
        del schema["title"]
    model = schema["properties"]["model"]
    if model.get("type") != "string":
        model["type"] = "string"
    schema["x-apitwin-source"] = fragment.provenance()
    return schema


def _require_model(variant: Variant, group: OperationGroup, log: RepairLog) -> None:
    """In a union of several variants ``model`` is required: the discriminator picks the variant by it.

    (A lone variant is no union: luma's page gives ``model`` a default and its own samples omit it.)"""
    required = variant.schema.setdefault("required", [])
    if "model" in required:
        return
    required.insert(0, "model")
    url = variant.fragments[0].page.url if variant.fragments else variant.listed[0][0]
    log.record(
        "model-required",
        join(group.pointer, "requestBody", "content", JSON, "schema", "required"),
        source=variant.fragments[0].where if variant.fragments else variant.listed[0][1],
        after="model",
        reason=(
            f"{url} leaves model optional, but the operation's body is a union "
            "discriminated by model: without it a request would match no single variant"
        ),
    )


def _log_title(
    schema: dict[str, Any], ids: list[str], fragment: Fragment, group: OperationGroup, log: RepairLog
) -> bool:
    """A request schema titled with its model id: the title goes (the enum says it)."""
    if schema.get("title") not in ids:
        return False
    log.record(
        "model-title-dropped",
        join(group.pointer, "requestBody", "content", JSON, "schema", "title"),
        source=fragment.where,
        before=schema["title"],
        reason=f"the request schema's title is the model id ({fragment.page.url}); the variant's model enum says it",
    )
    return True


def _without_model_enum(schema: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """The schema as a comparison key: no model enum, no model-id title (shallow copies only)."""
    stripped = {key: value for key, value in schema.items() if not (key == "title" and value in ids)}
    properties = dict(stripped["properties"])
    properties["model"] = {key: value for key, value in properties["model"].items() if key != "enum"}
    stripped["properties"] = properties
    return stripped


def _log_shared_ids(variants: list[Variant], group: OperationGroup, log: RepairLog) -> None:
    """An id declared by several pages of one operation: say what each page and enum says."""
    for variant in variants:
        for model_id in variant.ids:
            declaring = [fragment for fragment in variant.fragments if model_id in (_model_ids(_body(fragment)) or [])]
            if len(declaring) > 1:
                log.record(
                    "model-id-collision",
                    join(group.pointer, "requestBody"),
                    source=", ".join(fragment.where for fragment in declaring),
                    before=[_page_claim(fragment) for fragment in declaring],
                    after={"id": model_id, "variant_ids": list(variant.ids)},
                    reason=_collision_reason(model_id, declaring),
                )
    _check_exclusive(variants, group)


def _body(fragment: Fragment) -> dict[str, Any]:
    schema = ((fragment.operation.get("requestBody") or {}).get("content") or {}).get(JSON, {}).get("schema") or {}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = ((fragment.document.get("components") or {}).get("schemas") or {}).get(name, {})
    return schema


def page_model_list(text: str) -> list[str]:
    """The ids a page's "valid for the following list of our models" box names."""
    match = MODEL_LIST.search(text)
    return BACKTICKED.findall(match.group(1)) if match else []


def _page_claim(fragment: Fragment) -> dict[str, Any]:
    return {
        "page": fragment.page.url,
        "page_text_models": page_model_list(fragment.page.text),
        "enum": _model_ids(_body(fragment)) or [],
    }


def _collision_reason(model_id: str, declaring: list[Fragment]) -> str:
    parts = []
    for fragment in declaring:
        listed = page_model_list(fragment.page.text)
        if model_id in listed:
            parts.append(f"{fragment.page.slug}: page text and enum both say {model_id}")
        else:
            parts.append(f"{fragment.page.slug}: page text says {', '.join(listed) or 'nothing'}, enum says {model_id}")
    return (
        f"{model_id} is in the model enum of {len(declaring)} pages ({'; '.join(parts)}). Their request "
        "schemas are identical apart from the model enum and title, so they form one variant and the id maps "
        "to exactly one schema. The spec follows the enums, the machine-readable contract, and adds no id that "
        "only the text of a page with an enum names; a page whose text names another id is a "
        "copy-paste error for the vendor to fix"
    )


def _check_exclusive(variants: list[Variant], group: OperationGroup) -> None:
    """oneOf must stay exclusive: an id in two distinct variants is unresolvable input."""
    owner: dict[str, Variant] = {}
    for variant in variants:
        for model_id in variant.ids:
            if model_id in owner and owner[model_id] is not variant:
                first = owner[model_id].fragments[0]
                second = variant.fragments[0]
                raise SpecError(
                    second.where.rsplit(":", 1)[0],
                    f"line {second.where.rsplit(':', 1)[1]}",
                    f"model {model_id} of {group.method.upper()} {group.path} has a different request schema "
                    f"here than on {first.page.url}",
                )
            owner[model_id] = variant


# --- naming and the union -----------------------------------------------------------------


def _name_variants(variants: list[Variant], path: str, components: dict[str, Any]) -> None:
    prefix = operation_prefix(path) + "Request"
    taken = set((components.get("schemas") or {}).keys())
    for variant in variants:
        base = f"{prefix}.{COMPONENT_NAME_UNSAFE.sub('_', variant.ids[0])}"
        name = base
        counter = 2
        while name in taken:
            name = f"{base}.{counter}"
            counter += 1
        taken.add(name)
        variant.name = name


def operation_prefix(path: str) -> str:
    """``/v1/chat/completions`` → ``ChatCompletions``: a readable stem for component names."""
    words: list[str] = []
    for segment in path.strip("/").split("/"):
        if re.fullmatch(r"v\d+", segment) or segment.startswith("{"):
            continue
        words.extend(part.capitalize() for part in re.split(r"[-_.]", segment) if part)
    return "".join(words) or "Root"


def _union(variants: list[Variant]) -> dict[str, Any]:
    if len(variants) == 1:
        return {"$ref": f"#/components/schemas/{variants[0].name}"}
    mapping = {}
    for variant in variants:
        for model_id in variant.ids:
            mapping[model_id] = f"#/components/schemas/{variant.name}"
    return {
        "oneOf": [{"$ref": f"#/components/schemas/{variant.name}"} for variant in variants],
        "discriminator": {"propertyName": "model", "mapping": mapping},
    }


def _drop_replaced_components(bodies: list[tuple[Fragment, dict[str, Any]]], components: dict[str, Any]) -> None:
    """A component that was only the request body is now a variant; keep no stale copy."""
    schemas = components.get("schemas") or {}
    for _fragment, body in bodies:
        reference = (((body.get("content") or {}).get(JSON) or {}).get("schema") or {}).get("$ref")
        if not isinstance(reference, str):
            continue
        name = reference.rsplit("/", 1)[-1]
        others = json.dumps({key: value for key, value in schemas.items() if key != name})
        if name in schemas and f'"{reference}"' not in others:
            del schemas[name]


# --- media types --------------------------------------------------------------------------


def _move_binary_to_multipart(
    body: dict[str, Any], variants: list[Variant], group: OperationGroup, log: RepairLog
) -> None:
    """A file field (``format: binary``) cannot travel in JSON: such a body is multipart."""
    fields = sorted({name for variant in variants for name in _binary_fields(variant.schema)})
    if not fields:
        return
    body["content"] = {MULTIPART: body["content"][JSON]}
    log.record(
        "media-type",
        join(group.pointer, "requestBody", "content"),
        source=group.fragments[0].where,
        before=JSON,
        after=MULTIPART,
        reason=f"{', '.join(fields)} are format: binary files, which JSON cannot carry; file uploads are "
        f"multipart/form-data",
    )


def _binary_fields(schema: dict[str, Any]) -> list[str]:
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and (
            prop.get("format") == "binary" or (prop.get("items") or {}).get("format") == "binary"
        ):
            fields.append(name)
    return fields


def _add_multipart_upload(body: dict[str, Any], variants: list[Variant], group: OperationGroup, log: RepairLog) -> None:
    """Pages whose code uploads ``files={"<field>": …}`` show a multipart form the fragments omit."""
    evidence = _upload_evidence(group)
    if not evidence or MULTIPART in body["content"]:
        return
    fields = sorted({name for name, _ in evidence})
    ids = [model_id for variant in variants for model_id in variant.ids]
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["model", *fields],
        "properties": {
            "model": {"type": "string", "enum": ids},
            **{
                name: {"type": "string", "format": "binary", "description": "The uploaded audio file."}
                for name in fields
            },
        },
        "additionalProperties": True,
    }
    body["content"][MULTIPART] = {"schema": schema}
    pages = sorted({url for _, url in evidence})
    log.record(
        "media-type",
        join(group.pointer, "requestBody", "content", MULTIPART),
        source=group.fragments[0].where,
        after=MULTIPART,
        reason=(
            f'the code on {len(pages)} pages uploads the file as multipart (files={{"{fields[0]}": ...}}) while '
            f"every fragment documents only a JSON body with a URL: {', '.join(pages)}"
        ),
    )


def _upload_evidence(group: OperationGroup) -> list[tuple[str, str]]:
    evidence = []
    for fragment in group.fragments:
        for match in MULTIPART_UPLOAD.finditer(fragment.page.text):
            evidence.append((match.group(1), fragment.page.url))
    return evidence
