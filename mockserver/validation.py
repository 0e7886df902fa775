"""Request validation: parameters and body against the operation's compiled validators."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from apitwin.mockserver.operations import Operation, RequestBody
from apitwin.mockserver.parameters import coerce, coerce_scalar, read
from apitwin.mockserver.violations import Violation, describe
from apitwin.specs.pointer import join
from apitwin.specs.validation import FastValidator, Problem

MAX_VIOLATIONS = 10
"""Errors listed per request (the validator stops looking after these)."""
DETAIL_VALUES = 20_000
"""An invalid body with more JSON values is looked into on a sample (see ``_sample``)."""
SAMPLE_ITEMS = 64
LENGTH_KEYWORDS = frozenset({"minItems", "contains", "minContains", "uniqueItems"})
"""Keywords a cut array may fail although the whole one does not."""
MAX_LISTED_VALUES = 12


def validate_parameters(
    operation: Operation,
    *,
    path: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    cookies: Mapping[str, str] | None = None,
) -> list[Violation]:
    violations = []
    for parameter in operation.parameters:
        raw = read(
            parameter.name,
            parameter.location,
            parameter.style,
            parameter.explode,
            parameter.schema,
            path=path,
            query=query,
            headers=headers,
            cookies=cookies or {},
        )
        if raw is None:
            if parameter.required:
                violations.append(
                    Violation(
                        operation.operation_id,
                        parameter.location,
                        parameter.name,
                        "a value",
                        "nothing",
                        f"{parameter.location} parameter '{parameter.name}' is required",
                    )
                )
            continue
        value, problem = coerce(parameter.schema, parameter.explode, raw)
        if problem:
            violations.append(
                Violation(
                    operation.operation_id,
                    parameter.location,
                    parameter.name,
                    problem,
                    describe(raw),
                    f"{parameter.location} parameter '{parameter.name}': expected {problem}, received {describe(raw)}",
                )
            )
            continue
        problems = parameter.validator.problems(value, limit=1)
        if problems:
            violations.append(
                _from_problem(
                    operation,
                    parameter.location,
                    parameter.name,
                    problems[0],
                    prefix=f"{parameter.location} parameter '{parameter.name}'",
                )
            )
    return violations + _undeclared_query(operation, query)


def _undeclared_query(operation: Operation, query: Mapping[str, Sequence[str]]) -> list[Violation]:
    """A query parameter the operation does not declare is a client mistake (a typo, a wrong API), unless an
    exploded object parameter takes any key (``effective_at`` sends ``gt=…``, and may send keys it does not list)."""
    if operation.query_open:
        return []
    undeclared = [
        name
        for name in query
        if name not in operation.query_names and not name.startswith(operation.query_prefixes or ("\0",))
    ]
    if not undeclared:
        return []
    declared = ", ".join(sorted(operation.query_names)) or "none"
    return [
        Violation(
            operation.operation_id,
            "query",
            name,
            f"one of: {declared}",
            describe(name),
            f"query parameter {describe(name)} is not declared by {operation.label} (declared: {declared})",
            "additionalProperties",
        )
        for name in undeclared[:MAX_VIOLATIONS]
    ]


def form_fields(pairs: Iterable[tuple[str, Any]], field_types: Mapping[str, set[str]]) -> dict[str, Any]:
    """Form fields by name, typed as their property schemas declare: a repeated name is a list, and so is
    one value of a field declared as an array (unless it is the array written as JSON text)."""
    grouped: dict[str, list[Any]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    flat: dict[str, Any] = {}
    for name, values in grouped.items():
        single = values[0] if len(values) == 1 else None
        json_text = isinstance(single, str) and single.lstrip().startswith("[")
        if len(values) > 1 or ("array" in field_types.get(name, set()) and not json_text):
            flat[name] = values
        else:
            flat[name] = single
    return coerce_fields(flat, field_types)


def coerce_fields(fields: dict[str, Any], field_types: Mapping[str, set[str]]) -> dict[str, Any]:
    """Form fields arrive as strings: give each the type its property schema declares."""
    coerced = {}
    for name, value in fields.items():
        types = field_types.get(name)
        if types and isinstance(value, str):
            converted, problem = coerce_scalar(types, value)
            coerced[name] = value if problem else converted
        else:
            coerced[name] = value
    return coerced


def validate_body(operation: Operation, body: RequestBody, value: Any) -> list[Violation]:
    if body.discriminator is not None and body.variants:
        return _validate_variant(operation, body, value)
    return _errors(operation, body.validator, value)


def _validate_variant(operation: Operation, body: RequestBody, value: Any) -> list[Violation]:
    """A union keyed by one property (e.g. ``model``): only the chosen variant is checked."""
    prop = body.discriminator
    assert prop is not None
    if not isinstance(value, dict):
        return _errors(operation, body.validator, value)
    choice = value.get(prop)
    validator = body.variants.get(choice) if isinstance(choice, str) else None
    if validator is not None:
        return _errors(operation, validator, value)
    allowed = list(body.variants)
    listed = ", ".join(allowed[:MAX_LISTED_VALUES]) + (
        f", … ({len(allowed)} in all)" if len(allowed) > MAX_LISTED_VALUES else ""
    )
    if prop not in value:
        received, message = "nothing", f"body/{prop} is required: expected one of {listed}"
    else:
        received = describe(choice)
        message = f"body/{prop}: {received} is not one of the {len(allowed)} accepted values: {listed}"
    return [Violation(operation.operation_id, "body", f"/{prop}", f"one of {len(allowed)} values", received, message)]


def _errors(operation: Operation, validator: FastValidator, value: Any) -> list[Violation]:
    if validator.is_valid(value):
        return []  # the verdict alone is cheap; listing errors is what grows with the body
    judged, cut = _sample(value)
    violations = []
    for problem in validator.problems(judged, limit=MAX_VIOLATIONS):
        if cut and problem.keyword in LENGTH_KEYWORDS:
            continue  # the sample's arrays are shorter than the body's
        pointer = join("", *problem.path)
        violations.append(_from_problem(operation, "body", pointer, problem, prefix="body" + pointer))
    if violations:
        return violations
    return [
        Violation(
            operation.operation_id,
            "body",
            "",
            "a body valid against the schema",
            "an invalid body",
            f"request body is invalid for {operation.label}, beyond the first {SAMPLE_ITEMS} items of its arrays "
            f"(errors are listed in full for bodies of up to {DETAIL_VALUES} JSON values)",
        )
    ]


def _sample(value: Any) -> tuple[Any, bool]:
    """``value`` itself when it is small; else a copy with every array cut to SAMPLE_ITEMS items, and True.

    A failed ``anyOf`` makes the validator build an error per item of every branch, so the errors of
    a large body are looked for in its first items, whose pointers are the same in the body.
    """
    if count_values(value, DETAIL_VALUES) <= DETAIL_VALUES:
        return value, False
    return _cut(value), True


def count_values(value: Any, stop: int) -> int:
    """The JSON values in ``value``, counting no further than ``stop + 1``."""
    stack, seen = [value], 0
    while stack and seen <= stop:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def _cut(value: Any) -> Any:
    if isinstance(value, list):
        return [_cut(item) for item in value[:SAMPLE_ITEMS]]
    if isinstance(value, dict):
        return {key: _cut(item) for key, item in value.items()}
    return value


def _from_problem(operation: Operation, location: str, pointer: str, problem: Problem, *, prefix: str) -> Violation:
    message = problem.message if len(problem.message) <= 300 else problem.message[:299] + "…"
    return Violation(
        operation.operation_id,
        location,
        pointer,
        problem.expected,
        describe(problem.instance),
        f"{prefix}: {message}",
        problem.keyword,
    )
