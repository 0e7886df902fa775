"""Hypothesis strategies for every response a spec allows, biased towards the shapes clients forget.

``responses(api, operation)`` draws ``(status, media_type, body)``: the success answer and each
declared error status, every body valid against its schema. Besides the plain schema, each body is
drawn from a few *edge variants* of it, restrictions of the schema (so still valid) that pin down
what naive clients trip over:

- ``nulls``: every property that may be null is present and null, every nullable value null,
  arrays non-empty (so the nulls inside them show);
- ``lean``: optional properties absent, arrays as short as allowed, strings as short as allowed,
  numbers at their lower bound;
- ``full``: every declared property present, arrays non-empty, numbers at their upper bound.

The variants come first, so hypothesis shrinks a failure towards one of them: a client that
crashes on ``content: null`` is reported with the null in plain sight.

Values come from schemathesis's JSON-Schema-to-hypothesis engine; the schema is first bundled
(the components it references copied under the same pointers) so its ``$ref``s resolve. Every
draw is checked with the spec's own validator, which also honours what that engine treats as an
annotation (``discriminator``, integer formats).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from hypothesis import strategies as st

from apitwin import specs
from apitwin.mockserver.operations import CompiledApi, Media, Operation, compile_api, is_json
from apitwin.specs.pointer import escape, resolve, unescape

INT_FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_VALUES = (
    "additionalProperties",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
)
DRAFT_2020_12 = 20
"""schemathesis's (jsonschema_rs) number for JSON Schema draft 2020-12."""


class DrawnResponse(NamedTuple):
    """One answer the spec allows: ``media_type`` and ``body`` are None for a bodiless response."""

    status: int
    media_type: str | None
    body: Any


class StrategyError(LookupError):
    """The operation (or status) asked for is not in the spec; the message lists what is."""


def responses(
    api: str | Path | CompiledApi, operation: str, *, statuses: Iterable[int | str] | None = None
) -> st.SearchStrategy[DrawnResponse]:
    """Every response ``operation`` may give: success first, then each declared error status.

    ``api`` is a shipped API name, an OpenAPI file, or a compiled API; ``operation`` an
    ``operationId`` or ``"METHOD /path"``. ``statuses`` keeps only those declared statuses.
    """
    compiled = _compiled(api)
    found = find_operation(compiled, operation)
    wanted = None if statuses is None else {str(status).upper() for status in statuses}
    choices = []
    for key in _ordered_statuses(found):
        if wanted is not None and key not in wanted and str(concrete_status(found, key)) not in wanted:
            continue
        choices.extend(_status_strategies(compiled, found, key))
    if not choices:
        declared = ", ".join(found.responses)
        raise StrategyError(
            f"{found.label} declares no JSON or bodiless response for {sorted(wanted or [])} (it declares {declared})"
        )
    return st.one_of(choices)


def bodies(api: str | Path | CompiledApi, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of one schema of the API's document, edge variants first, each valid."""
    compiled = _compiled(api)
    return _body_strategy(compiled, schema, compiled.checker.validator(schema).is_valid)


def find_operation(api: CompiledApi, operation: str) -> Operation:
    wanted = operation.strip()
    for candidate in api.operations:
        if wanted in (candidate.operation_id, candidate.label):
            return candidate
    known = ", ".join(sorted(candidate.operation_id for candidate in api.operations))
    raise StrategyError(f"{api.name} has no operation {operation!r}; operations: {known}")


def concrete_status(operation: Operation, key: str) -> int:
    """The status code sent for a response key: ``4XX`` → 400, ``default`` → 200 when it is the
    success answer, else 500."""
    if key.isdigit():
        return int(key)
    if key.endswith("XX"):
        return int(key[0]) * 100
    return 200 if operation.success_status() == key else 500


_COMPILED: dict[str, CompiledApi] = {}


def _compiled(api: str | Path | CompiledApi) -> CompiledApi:
    if isinstance(api, CompiledApi):
        return api
    key = str(api)
    if key not in _COMPILED:
        name = key if specs.shipped(key) else Path(key).stem
        _COMPILED[key] = compile_api(name, specs.load(api))
    return _COMPILED[key]


def _ordered_statuses(operation: Operation) -> list[str]:
    success = operation.success_status()
    return [success, *(key for key in operation.responses if key != success)]


def _status_strategies(api: CompiledApi, operation: Operation, key: str) -> list[st.SearchStrategy[DrawnResponse]]:
    status = concrete_status(operation, key)
    response = operation.responses[key]
    if not response.media:
        return [st.just(DrawnResponse(status, None, None))]
    found = []
    for media_type, media in response.media.items():
        if not is_json(media_type) or media.schema is None or media.validator is None:
            continue
        body = _cached_body_strategy(api, media)
        # builds(), not map(): hypothesis then prints a failing example as DrawnResponse(status=…, …).
        found.append(st.builds(DrawnResponse, status=st.just(status), media_type=st.just(media_type), body=body))
    return found


_BODIES: dict[int, st.SearchStrategy[Any]] = {}


def _cached_body_strategy(api: CompiledApi, media: Media) -> st.SearchStrategy[Any]:
    """Built once per media (building canonicalises the schema, which is the slow part)."""
    key = id(media)
    if key not in _BODIES:
        assert media.schema is not None and media.validator is not None
        _BODIES[key] = st.deferred(lambda: _body_strategy(api, media.schema, media.validator.is_valid))  # type: ignore[union-attr,arg-type]
    return _BODIES[key]


def _body_strategy(api: CompiledApi, schema: dict[str, Any], is_valid: Callable[[Any], bool]) -> st.SearchStrategy[Any]:
    bundled = bundle(api.document, schema)
    variants = [transform(bundled, edit, closed=True) for edit in (_nulls, _lean, _full)] + [transform(bundled, _plain)]
    strategies = []
    for variant in variants:
        strategy = _from_schema(variant)
        if strategy is not None:
            strategies.append(strategy)
    if not strategies:
        raise StrategyError(f"no value can be generated for the schema {schema!r}")
    return st.one_of(strategies).filter(is_valid)


def _from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    """schemathesis's strategy for ``schema``, or None when it admits nothing (or cannot be modelled)."""
    from apitwin.contracts.schemathesis_adapter import json_schema_strategy  # schemathesis costs ~1 s to import

    return json_schema_strategy(schema, draft=DRAFT_2020_12)


# -- bundling: one self-contained schema whose local $refs resolve ------------------------------


def bundle(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every component it reaches copied under its own pointer, so that
    ``#/components/schemas/X`` resolves in the result exactly as it did in the document."""
    root: dict[str, Any] = {}
    pending = set(_references(schema))
    seen: set[str] = set()
    while pending:
        reference = pending.pop()
        if reference in seen:
            continue
        seen.add(reference)
        target = resolve(document, reference)
        _place(root, reference, target)
        pending.update(_references(target))
    result = copy.deepcopy(root)
    result.update(copy.deepcopy(schema))
    return result


def _references(node: Any) -> Iterable[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            reference = current.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/"):
                yield reference
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _place(root: dict[str, Any], reference: str, target: Any) -> None:
    tokens = [unescape(token) for token in reference[2:].split("/")]
    node = root
    for token in tokens[:-1]:
        node = node.setdefault(token, {})
    node[tokens[-1]] = target


# -- edge variants: restrictions of a schema, applied to every schema node in a bundle ----------


Edit = Callable[[dict[str, Any]], dict[str, Any]]


def transform(bundled: dict[str, Any], edit: Edit, *, closed: bool = False) -> dict[str, Any]:
    """``edit`` applied to every schema node of the bundle, components included (so it reaches
    through ``$ref``s). Each edit only narrows a node, so values of the result are values of the
    original. ``closed``: objects get no properties beyond those they declare (where nothing is
    said about others), which keeps drawn values small and quick to shrink."""
    shared = _all_of_members(bundled) if closed else set()
    result = _map_schema(bundled, edit, closed=closed, opened=False)
    components = bundled.get("components")
    if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
        schemas = {}
        for name, schema in components["schemas"].items():
            opened = f"#/components/schemas/{escape(name)}" in shared
            schemas[name] = _map_schema(schema, edit, closed=closed, opened=opened)
        result["components"] = {**components, "schemas": schemas}
    return result


def _map_schema(node: Any, edit: Edit, *, closed: bool, opened: bool) -> Any:
    """``opened``: the node is a branch of an ``allOf``, whose siblings may declare more properties."""
    if not isinstance(node, dict):
        return node
    mapped = dict(node)
    for key in SCHEMA_LISTS:
        if isinstance(node.get(key), list):
            mapped[key] = [_map_schema(item, edit, closed=closed, opened=key == "allOf") for item in node[key]]
    for key in SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            mapped[key] = {
                name: _map_schema(item, edit, closed=closed, opened=False) for name, item in node[key].items()
            }
    for key in SCHEMA_VALUES:
        if isinstance(node.get(key), dict):
            mapped[key] = _map_schema(node[key], edit, closed=closed, opened=False)
    mapped = edit(_with_format_bounds(mapped))
    if closed and not opened and _declares_properties_only(mapped):
        mapped["additionalProperties"] = False
    return mapped


def _declares_properties_only(node: dict[str, Any]) -> bool:
    if not isinstance(node.get("properties"), dict):
        return False
    return not any(
        key in node
        for key in (
            "additionalProperties",
            "patternProperties",
            "unevaluatedProperties",
            "allOf",
            "anyOf",
            "oneOf",
            "$ref",
        )
    )


def _all_of_members(bundled: dict[str, Any]) -> set[str]:
    """References that appear as ``allOf`` branches: those components must stay open."""
    found: set[str] = set()
    stack: list[Any] = [bundled]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for branch in node.get("allOf") or [] if isinstance(node.get("allOf"), list) else []:
                if isinstance(branch, dict) and isinstance(branch.get("$ref"), str):
                    found.add(branch["$ref"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _with_format_bounds(node: dict[str, Any]) -> dict[str, Any]:
    """``format: int32`` as bounds, which the generator honours (the validator checks the format)."""
    bounds = INT_FORMAT_BOUNDS.get(node.get("format", ""))
    if bounds is None:
        return node
    low, high = bounds
    node["minimum"] = max(node.get("minimum", low), low)
    node["maximum"] = min(node.get("maximum", high), high)
    return node


def _plain(node: dict[str, Any]) -> dict[str, Any]:
    return node


def _nulls(node: dict[str, Any]) -> dict[str, Any]:
    """Every nullable value null, every property that may be null present."""
    properties = node.get("properties")
    if isinstance(properties, dict):
        nullable = [name for name, schema in properties.items() if _allows_null(schema)]
        if nullable:
            node["required"] = sorted({*node.get("required", []), *nullable})
    if _allows_null(node):
        return {**node, "type": "null"}
    if _is_type(node, "array") and node.get("maxItems", 1) >= 1:
        node["minItems"] = max(node.get("minItems", 0), 1)  # the nulls must be somewhere to be seen
    return node


def _lean(node: dict[str, Any]) -> dict[str, Any]:
    """Optional properties absent, sizes and numbers at their lower bounds."""
    properties = node.get("properties")
    if isinstance(properties, dict):
        required = set(node.get("required", []))
        node["properties"] = {name: schema if name in required else False for name, schema in properties.items()}
    if _is_type(node, "array"):
        node["maxItems"] = node.get("minItems", 0)
    if _is_type(node, "string") and _free_text(node):
        node["maxLength"] = node.get("minLength", 0)
    if "minimum" in node and _is_numeric(node):
        node["maximum"] = node["minimum"]
    return node


def _full(node: dict[str, Any]) -> dict[str, Any]:
    """Every declared property present, arrays non-empty, numbers at their upper bounds."""
    properties = node.get("properties")
    if isinstance(properties, dict) and properties:
        node["required"] = sorted(
            {
                *node.get("required", []),
                *(name for name, schema in properties.items() if schema is not False and not _is_reference(schema)),
            }
        )
    if _is_type(node, "array") and node.get("maxItems", 1) >= 1:
        node["minItems"] = max(node.get("minItems", 0), 1)
        node["maxItems"] = node["minItems"]  # one item shows its shape; more only make draws slow
    if "maximum" in node and _is_numeric(node):
        node["minimum"] = node["maximum"]
    return node


def _allows_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    declared = schema.get("type")
    if declared == "null" or (isinstance(declared, list) and "null" in declared):
        return "enum" not in schema or None in schema["enum"]
    return _has_null_branch(schema)


def _has_null_branch(schema: dict[str, Any]) -> bool:
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key) or []:
            if isinstance(branch, dict) and (branch.get("type") == "null" or branch.get("const", 0) is None):
                return True
    return False


def _is_type(node: dict[str, Any], name: str) -> bool:
    declared = node.get("type")
    return declared == name or (isinstance(declared, list) and declared == [name])


def _is_numeric(node: dict[str, Any]) -> bool:
    declared = node.get("type")
    return declared in ("integer", "number") or (isinstance(declared, list) and set(declared) <= {"integer", "number"})


def _free_text(node: dict[str, Any]) -> bool:
    """A string whose length can be pinned: no pattern, format, enum or const decides it."""
    return not any(key in node for key in ("pattern", "format", "enum", "const", "contentMediaType"))


def _is_reference(schema: Any) -> bool:
    """Making a ``$ref`` property required could force endless nesting through a recursive schema."""
    return isinstance(schema, dict) and "$ref" in schema


def client_settings(**overrides: Any) -> Any:
    """Hypothesis settings for a client test against ``apitwin_mock``.

    No explain phase (it re-runs the client hundreds of times only to annotate the shrunk
    example), no deadline (each example is an HTTP round trip), and the function-scoped mock
    fixture allowed: it is reset per test, and the answer is set per example with ``answer_with``.
    """
    from hypothesis import HealthCheck, Phase, settings

    options: dict[str, Any] = {
        "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        "deadline": None,
        "suppress_health_check": [
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    }
    options.update(overrides)
    return settings(**options)
