"""Compose: one finished OpenAPI 3.1 document per API.

After the overlay is applied: alias path items (``{"$ref": "#/paths/..."}``) become real
copies, identical sub-schemas are hoisted into components, and every operation gets a
unique, stable ``operationId``. The result is ordered deterministically so a rebuild is
byte-identical.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from apitwin.specs.dedupe import dedupe
from apitwin.specs.pointer import join, resolve, unescape
from apitwin.specs.repairs import RepairLog
from apitwin.specs.walk import HTTP_METHODS, iter_operations


def compose(document: dict[str, Any], log: RepairLog, *, source: str) -> dict[str, Any]:
    document = copy.deepcopy(document)
    _materialise_path_aliases(document, log, source)
    dedupe(document, log, source=source)
    _assign_operation_ids(document, log, source)
    return _ordered(document)


def _materialise_path_aliases(document: dict[str, Any], log: RepairLog, source: str) -> None:
    """A path item that is only a ``$ref`` to another path becomes a copy of it.

    Tools disagree on path-item references, so the shipped document has none: the copy's
    operations are marked with ``x-apitwin-alias-of`` to say which path they mirror. Keys beside the
    ``$ref`` are the alias's own: path-level ones (``parameters``) replace the target's, and an
    operation's (``post: {security: …}``) replace those keys of the copied operation only (an alias that
    authenticates or takes its body differently is still the same operation).
    """
    paths = document.get("paths") or {}
    for path, item in list(paths.items()):
        ref = item.get("$ref") if isinstance(item, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/paths/"):
            continue
        target_path = resolve_path_name(ref)
        target = copy.deepcopy(resolve(document, ref))
        for method in HTTP_METHODS:
            if isinstance(target.get(method), dict):
                target[method]["x-apitwin-alias-of"] = target_path
                target[method].pop("operationId", None)
        extra = {key: value for key, value in item.items() if key != "$ref"}
        for method in HTTP_METHODS:
            if isinstance(extra.get(method), dict) and isinstance(target.get(method), dict):
                target[method].update(extra.pop(method))
        paths[path] = {**target, **extra}
        log.record(
            "path-alias",
            join("", "paths", path),
            source=source,
            before=item,
            after=f"a copy of {target_path}",
            reason="path-item references are not understood by every tool; the alias is written out",
        )


def resolve_path_name(ref: str) -> str:
    return unescape(ref[len("#/paths/") :])


def _assign_operation_ids(document: dict[str, Any], log: RepairLog, source: str) -> None:
    """Keep the vendor's operationId when it is unique; otherwise derive one from method and path."""
    seen: dict[str, int] = {}
    for _path, _method, operation in iter_operations(document):
        identifier = operation.get("operationId")
        if isinstance(identifier, str):
            seen[identifier] = seen.get(identifier, 0) + 1
    taken: set[str] = {identifier for identifier, count in seen.items() if count == 1}
    for path, method, operation in iter_operations(document):
        identifier = operation.get("operationId")
        if isinstance(identifier, str) and seen.get(identifier) == 1:
            continue
        derived = _unique(derive_operation_id(method, path), taken)
        taken.add(derived)
        operation["operationId"] = derived
        reason = (
            "missing operationId"
            if identifier is None
            else f"operationId {identifier!r} is used by {seen[identifier]} operations"
        )
        log.record(
            "operation-id",
            join("", "paths", path, method, "operationId"),
            source=source,
            before=identifier if identifier is not None else "<absent>",
            after=derived,
            reason=reason,
        )


def derive_operation_id(method: str, path: str) -> str:
    """``post /v1/stt/{generation_id}`` → ``post_v1_stt_by_generation_id``."""
    parts = [method]
    for segment in path.strip("/").split("/"):
        if not segment:
            continue
        template = re.fullmatch(r"\{(.+)\}", segment)
        word = f"by_{template.group(1)}" if template else segment
        parts.append(re.sub(r"[^0-9A-Za-z]+", "_", word).strip("_").lower())
    return "_".join(part for part in parts if part)


def _unique(base: str, taken: set[str]) -> str:
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}_{counter}", counter + 1
    return name


TOP_LEVEL_ORDER = (
    "openapi",
    "info",
    "jsonSchemaDialect",
    "servers",
    "security",
    "tags",
    "externalDocs",
    "paths",
    "webhooks",
    "components",
)
COMPONENT_ORDER = (
    "securitySchemes",
    "parameters",
    "headers",
    "requestBodies",
    "responses",
    "schemas",
    "examples",
    "links",
    "callbacks",
    "pathItems",
)


def _ordered(document: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys in the conventional order; components sorted by name."""
    result = {key: document[key] for key in TOP_LEVEL_ORDER if key in document}
    result.update({key: value for key, value in document.items() if key not in result})
    components = result.get("components")
    if isinstance(components, dict):
        ordered = {key: components[key] for key in COMPONENT_ORDER if key in components}
        ordered.update({key: value for key, value in components.items() if key not in ordered})
        result["components"] = {
            key: dict(sorted(value.items())) if isinstance(value, dict) else value for key, value in ordered.items()
        }
    return result
