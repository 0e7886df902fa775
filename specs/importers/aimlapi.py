"""Importer for the AIML API documentation dump: hundreds of per-model OpenAPI fragments.

The dump is a concatenation of docs pages, each starting with ``# Source: <url>``. Model
pages embed a one-line OpenAPI 3.0 fragment in a ```` ```json {"openapi":…} ``` ```` block,
each describing one (method, path). Many pages document the same path for a different
model, so this importer merges the fragments per operation: the request body becomes a
``model``-discriminated union of per-model variants (``aimlapi_models``) and the response
variants are reconciled (``aimlapi_responses``). The result is still in the vendor's 3.0
dialect; ``specs.normalise`` upgrades it.
"""

from __future__ import annotations

import bisect
import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from apitwin.specs.importers.aimlapi_models import build_request_variants, page_model_list
from apitwin.specs.importers.aimlapi_responses import merge_responses, rewrite_streams
from apitwin.specs.pointer import join
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source
from apitwin.specs.walk import HTTP_METHODS

PAGE_MARKER = re.compile(r"# Source: (\S+)")
FRAGMENT_MARKER = re.compile(r"```json\s*(?=\{\s*\"openapi\")")
# GitBook's tag for an API schema: ``{% openapi src="…" path="/v1/embeddings" method="post" %}``.
OPENAPI_TAG = re.compile(r'\{% openapi [^%]*?path="([^"]+)" method="(\w+)" %\}')
SERVER_URL = "https://api.aimlapi.com"

# The one fragment written for an unversioned path documents an alias of a versioned
# operation (the base URL page says both forms work); it is folded into the versioned one
# and the overlay re-creates the alias as a path-item ``$ref``.
UNVERSIONED_PREFIX = "/v1"


@dataclass(slots=True)
class Page:
    """One docs page: its URL and where it sits in the dump."""

    url: str
    start: int
    end: int
    text: str = field(repr=False, default="")

    @property
    def slug(self) -> str:
        tail = self.url.rsplit("/", 1)[-1]
        return tail[:-3] if tail.endswith(".md") else tail


@dataclass(slots=True)
class Fragment:
    """One embedded OpenAPI fragment with where it came from."""

    document: dict[str, Any]
    offset: int
    where: str
    page: Page
    method: str = ""
    path: str = ""

    @property
    def operation(self) -> dict[str, Any]:
        return self.document["paths"][self.path][self.method]

    def provenance(self) -> dict[str, Any]:
        file, line = self.where.rsplit(":", 1)
        return {"file": file, "line": int(line), "url": self.page.url}


@dataclass(slots=True)
class OperationGroup:
    """All fragments that document one (method, path)."""

    method: str
    path: str
    fragments: list[Fragment] = field(default_factory=list)
    listed: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """``(page url, file:line, model ids)`` of pages that point at the operation without embedding a fragment."""

    @property
    def pointer(self) -> str:
        return join("", "paths", self.path, self.method)


def import_api(source: Source, log: RepairLog, **options: Any) -> dict[str, Any]:
    """The merged OpenAPI document of every operation the dump documents."""
    pages = split_pages(source)
    fragments = extract_fragments(source, pages)
    groups = group_operations(fragments, log)
    _attach_listed_models(groups, pages, fragments, source)
    document = _skeleton(fragments)
    components = _merge_components(fragments, source, log)
    for group in groups:
        operation = _merge_operation(group, components, source, log)
        document["paths"].setdefault(group.path, {})[group.method] = operation
    document["components"] = components
    rewrite_streams(document, log)
    return document


# --- pages and fragments ------------------------------------------------------------------


def split_pages(source: Source) -> list[Page]:
    """The pages of the dump, in order; text before the first marker belongs to no page."""
    markers = list(PAGE_MARKER.finditer(source.text))
    if not markers:
        raise source.error(0, "no '# Source: <url>' page marker: not an AIML API docs dump")
    pages = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(source.text)
        pages.append(Page(marker.group(1), marker.start(), end, source.text[marker.start() : end]))
    return pages


def extract_fragments(source: Source, pages: list[Page]) -> list[Fragment]:
    """Every embedded ```json {"openapi":…}``` block, parsed, with file:line and page URL."""
    decoder = json.JSONDecoder()
    starts = [page.start for page in pages]
    fragments = []
    for match in FRAGMENT_MARKER.finditer(source.text):
        document = _decode_fragment(source, decoder, match.end())
        page_index = bisect.bisect_right(starts, match.start()) - 1
        if page_index < 0:
            raise source.error(match.start(), "OpenAPI fragment before the first page marker")
        fragment = Fragment(document, match.start(), source.where(match.start()), pages[page_index])
        _locate_operation(source, fragment)
        fragments.append(fragment)
    if not fragments:
        raise source.error(0, "no embedded OpenAPI fragment found")
    return fragments


def _decode_fragment(source: Source, decoder: json.JSONDecoder, offset: int) -> dict[str, Any]:
    try:
        document, _ = decoder.raw_decode(source.text, offset)
    except json.JSONDecodeError as error:
        raise source.error(error.pos, f"embedded OpenAPI fragment is not valid JSON: {error.msg}") from None
    if not isinstance(document, dict):
        raise source.error(offset, "embedded OpenAPI fragment is not a JSON object")
    return document


def _locate_operation(source: Source, fragment: Fragment) -> None:
    """Each fragment documents exactly one (method, path); anything else is a broken page."""
    paths = fragment.document.get("paths")
    if not isinstance(paths, dict) or len(paths) != 1:
        raise source.error(fragment.offset, "OpenAPI fragment must have exactly one path")
    path, item = next(iter(paths.items()))
    methods = [method for method in HTTP_METHODS if isinstance(item, dict) and isinstance(item.get(method), dict)]
    if len(methods) != 1:
        raise source.error(fragment.offset, f"OpenAPI fragment for {path} must have exactly one operation")
    fragment.path = path
    fragment.method = methods[0]


def group_operations(fragments: list[Fragment], log: RepairLog) -> list[OperationGroup]:
    """Fragments grouped by (method, path), in order of first appearance."""
    groups: dict[tuple[str, str], OperationGroup] = {}
    versioned = {(fragment.method, fragment.path) for fragment in fragments}
    for fragment in fragments:
        key = (fragment.method, _canonical_path(fragment, versioned, log))
        if key not in groups:
            groups[key] = OperationGroup(key[0], key[1])
        groups[key].fragments.append(fragment)
    return list(groups.values())


def _attach_listed_models(
    groups: list[OperationGroup], pages: list[Page], fragments: list[Fragment], source: Source
) -> None:
    """Pages that name an operation in an ``{% openapi path=… method=… %}`` tag and list their models, but whose
    fragment the dump left out (the tag links a JSON file instead): their ids, for the operation's variants."""
    with_fragment = {id(fragment.page) for fragment in fragments}
    by_key = {(group.method, group.path): group for group in groups}
    for page in pages:
        if id(page) in with_fragment:
            continue
        ids = page_model_list(page.text)
        if not ids:
            continue
        for path, method in OPENAPI_TAG.findall(page.text):
            group = by_key.get((method.lower(), path))
            if group is not None:
                group.listed.append((page.url, source.where(page.start), ids))


def _canonical_path(fragment: Fragment, versioned: set[tuple[str, str]], log: RepairLog) -> str:
    """Fold a fragment written for an unversioned alias into its ``/v1`` operation."""
    candidate = UNVERSIONED_PREFIX + fragment.path
    if fragment.path.startswith(UNVERSIONED_PREFIX + "/") or (fragment.method, candidate) not in versioned:
        return fragment.path
    log.record(
        "alias-folded",
        join("", "paths", fragment.path, fragment.method),
        source=fragment.where,
        before=fragment.path,
        after=candidate,
        reason=(
            f"{fragment.page.url} documents the unversioned alias {fragment.path}; the base-URL prose "
            "(glossary/concepts.md) says https://api.aimlapi.com and https://api.aimlapi.com/v1 are both "
            f"valid, so its model joins {candidate} and the overlay declares {fragment.path} as an alias "
            "of that path item"
        ),
    )
    return candidate


# --- the merged document ------------------------------------------------------------------


def _skeleton(fragments: list[Fragment]) -> dict[str, Any]:
    first = fragments[0].document
    return {
        "openapi": str(first.get("openapi", "3.0.0")),
        "info": {
            "title": "AIML API",
            "version": str((first.get("info") or {}).get("version", "1.0.0")),
            "description": "Merged from the per-model OpenAPI fragments of the AIML API documentation.",
        },
        "servers": [{"url": SERVER_URL}],
        "paths": {},
    }


def _merge_components(fragments: list[Fragment], source: Source, log: RepairLog) -> dict[str, Any]:
    """Union of the fragments' components; a same-named schema must agree apart from prose."""
    merged: dict[str, dict[str, Any]] = {}
    noted: set[tuple[str, str]] = set()
    for fragment in fragments:
        for section, entries in (fragment.document.get("components") or {}).items():
            target = merged.setdefault(section, {})
            for name, value in (entries or {}).items():
                _add_component(target, section, name, value, fragment, source, log, noted)
    return {section: dict(sorted(entries.items())) for section, entries in sorted(merged.items())}


def _add_component(
    target: dict[str, Any],
    section: str,
    name: str,
    value: Any,
    fragment: Fragment,
    source: Source,
    log: RepairLog,
    noted: set[tuple[str, str]],
) -> None:
    if name not in target:
        target[name] = copy.deepcopy(value)
        return
    if target[name] == value:
        return
    if _essence(section, target[name]) != _essence(section, value):
        raise source.error(
            fragment.offset, f"components.{section}.{name} conflicts with an earlier fragment's definition"
        )
    if (section, name) in noted:
        return
    noted.add((section, name))
    log.record(
        "component-merged",
        join("", "components", section, name),
        source=fragment.where,
        reason=(
            f"{fragment.page.url} redefines {name}, differing only in prose (or, for a security "
            "scheme, in keys normalise repairs); the first definition is kept"
        ),
    )


def _essence(section: str, value: Any) -> Any:
    """What must agree between two same-named components.

    For a security scheme that is its type and scheme (the stray ``in`` and empty
    ``bearerFormat`` some pages add are left for normalise to repair on the kept copy).
    """
    if section == "securitySchemes" and isinstance(value, dict):
        return (value.get("type"), value.get("scheme"))
    return _without_prose(value)


def _without_prose(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_prose(item) for key, item in value.items() if key not in ("description", "title")}
    if isinstance(value, list):
        return [_without_prose(item) for item in value]
    return value


def _merge_operation(
    group: OperationGroup, components: dict[str, Any], source: Source, log: RepairLog
) -> dict[str, Any]:
    """One operation from all its fragments: shared fields, request variants, responses."""
    first = group.fragments[0]
    operation = copy.deepcopy(first.operation)
    operation["parameters"] = _merge_parameters(group)
    if not operation["parameters"]:
        del operation["parameters"]
    _merge_security(operation, group)
    body = build_request_variants(group, components, log)
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = merge_responses(group, components, source, log)
    operation["x-apitwin-sources"] = [fragment.provenance() for fragment in group.fragments]
    return operation


def _merge_parameters(group: OperationGroup) -> list[dict[str, Any]]:
    """Union of the fragments' parameters by (in, name); the first definition wins."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for fragment in group.fragments:
        for parameter in fragment.operation.get("parameters") or []:
            key = (str(parameter.get("in")), str(parameter.get("name")))
            seen.setdefault(key, copy.deepcopy(parameter))
    return list(seen.values())


def _merge_security(operation: dict[str, Any], group: OperationGroup) -> None:
    """Keep a per-operation requirement only when every fragment of the operation declares it."""
    requirements = [fragment.operation.get("security") for fragment in group.fragments]
    if all(requirement == requirements[0] for requirement in requirements) and requirements[0]:
        operation["security"] = copy.deepcopy(requirements[0])
        return
    operation.pop("security", None)
