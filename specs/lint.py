"""Lint: everything a shipped spec must satisfy, reported as a list of problems.

A spec passes when openapi-spec-validator accepts it, every ``$ref`` and discriminator
mapping resolves, operationIds are present and unique, no two paths differ only in their
parameters' names, every schema compiles under the OpenAPI 3.1 dialect, every example and
default validates against its own schema, and every ``text/event-stream`` answer follows
apitwin's event convention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apitwin.specs import ecma_regex
from apitwin.specs.pointer import join, resolve
from apitwin.specs.spec_validator import SpecValidator
from apitwin.specs.validation import SchemaChecker
from apitwin.specs.walk import iter_operations, schema_holders, walk_document

MAX_VALIDATOR_MESSAGES = 20


@dataclass(frozen=True, slots=True)
class Problem:
    check: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.pointer or '/'}: {self.message}"


def lint(document: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    problems += _spec_validator(document)
    problems += _references(document)
    problems += _operation_ids(document)
    problems += _path_templates(document)
    problems += _schemas_compile(document)
    problems += _values(document)
    problems += _event_streams(document)
    return problems


def _spec_validator(document: dict[str, Any]) -> list[Problem]:
    problems = []
    try:
        for error in SpecValidator(document).iter_errors():
            pointer = "".join(f"/{part}" for part in getattr(error, "absolute_path", []))
            problems.append(Problem("openapi-spec-validator", pointer, error.message))
            if len(problems) >= MAX_VALIDATOR_MESSAGES:
                break
    except Exception as error:  # noqa: BLE001 -- the validator raises on what it cannot follow, e.g. a dangling $ref
        problems.append(
            Problem(
                "openapi-spec-validator", "", f"the validator stopped: {error.__class__.__name__}: {str(error)[:200]}"
            )
        )
    return problems


def _references(document: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []

    def check(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            targets = []
            if isinstance(node.get("$ref"), str):
                targets.append(("$ref", node["$ref"]))
            discriminator = node.get("discriminator")
            if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
                targets += [(f"discriminator/mapping/{key}", ref) for key, ref in discriminator["mapping"].items()]
            for where, ref in targets:
                if not isinstance(ref, str) or not ref.startswith("#"):
                    problems.append(Problem("ref", join(pointer, where), f"{ref!r} is not a local reference"))
                    continue
                try:
                    resolve(document, ref)
                except KeyError:
                    problems.append(Problem("ref", join(pointer, where), f"{ref} resolves nowhere"))
            for key, value in node.items():
                check(value, join(pointer, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                check(value, join(pointer, index))

    check(document, "")
    return problems


def _operation_ids(document: dict[str, Any]) -> list[Problem]:
    problems = []
    seen: dict[str, str] = {}
    for path, method, operation in iter_operations(document):
        pointer = join("", "paths", path, method)
        identifier = operation.get("operationId")
        if not isinstance(identifier, str) or not identifier:
            problems.append(Problem("operation-id", pointer, "no operationId"))
        elif identifier in seen:
            problems.append(
                Problem("operation-id", pointer, f"operationId {identifier!r} is also used at {seen[identifier]}")
            )
        else:
            seen[identifier] = pointer
    return problems


TEMPLATE_NAME = re.compile(r"\{[^{}]*\}")


def _path_templates(document: dict[str, Any]) -> list[Problem]:
    """OpenAPI: paths that differ only in their parameters' names (``/a/{id}``, ``/a/{name}``) are
    identical and MUST NOT both exist; a server cannot tell which one a request is for."""
    problems = []
    seen: dict[str, str] = {}
    for path in document.get("paths") or {}:
        shape = TEMPLATE_NAME.sub("{}", path)
        if shape in seen:
            problems.append(
                Problem("path-template", join("", "paths", path), f"the same path as {seen[shape]} (only names differ)")
            )
        else:
            seen[shape] = path
    return problems


def _schemas_compile(document: dict[str, Any]) -> list[Problem]:
    """Every schema builds a working validator: its references resolve and its patterns compile.

    (Meta-validation against the 3.1 dialect is openapi-spec-validator's job, above.)
    """
    checker = SchemaChecker(document)
    problems = []
    roots = [(holder["schema"], join(pointer, "schema")) for holder, pointer in schema_holders(document)]
    roots += [
        (schema, join("", "components", "schemas", name))
        for name, schema in (document.get("components") or {}).get("schemas", {}).items()
    ]
    for schema, pointer in roots:
        try:
            for _error in checker.validator(schema).iter_errors(None):
                pass
        except Exception as error:  # noqa: BLE001 -- unresolvable reference, bad regular expression, ...
            problems.append(
                Problem("schema", pointer, f"does not compile: {error.__class__.__name__}: {str(error)[:200]}")
            )

    def visit(schema: dict[str, Any], pointer: str) -> None:
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and ecma_regex.matcher(pattern) is None:
            problems.append(
                Problem("schema", join(pointer, "pattern"), "not a valid regular expression (ECMA-262 or Python)")
            )

    walk_document(document, visit)
    return problems


def _values(document: dict[str, Any]) -> list[Problem]:
    checker = SchemaChecker(document)
    problems: list[Problem] = []

    def visit(schema: dict[str, Any], pointer: str) -> None:
        if "default" in schema:
            error = checker.error(schema, schema["default"])
            if error:
                problems.append(Problem("default", join(pointer, "default"), error))
        if "example" in schema:
            error = checker.error(schema, schema["example"])
            if error:
                problems.append(Problem("example", join(pointer, "example"), error))
        for index, example in enumerate(schema.get("examples") or []):
            error = checker.error(schema, example)
            if error:
                problems.append(Problem("example", join(pointer, "examples", index), error))

    walk_document(document, visit)
    for holder, pointer in schema_holders(document):
        if "example" in holder:
            error = checker.error(holder["schema"], holder["example"])
            if error:
                problems.append(Problem("example", join(pointer, "example"), error))
        for name, example in (holder.get("examples") or {}).items():
            if isinstance(example, dict) and "value" in example:
                error = checker.error(holder["schema"], example["value"])
                if error:
                    problems.append(Problem("example", join(pointer, "examples", name), error))
    return problems


def _event_streams(document: dict[str, Any]) -> list[Problem]:
    problems = []
    for holder, pointer in schema_holders(document):
        if not pointer.endswith("/text~1event-stream") or "/responses/" not in pointer:
            continue
        schema = holder["schema"]
        if "$ref" in schema:
            schema = resolve(document, schema["$ref"])
        data = (schema.get("properties") or {}).get("data") if isinstance(schema, dict) else None
        if not isinstance(data, dict) or "data" not in (schema.get("required") or []):
            problems.append(
                Problem(
                    "event-stream",
                    join(pointer, "schema"),
                    "an event schema needs a required 'data' property (apitwin's SSE convention)",
                )
            )
            continue
        payload = data.get("else", data)
        if "contentSchema" not in payload:
            problems.append(
                Problem(
                    "event-stream",
                    join(pointer, "schema", "properties", "data"),
                    "'data' must carry contentMediaType and contentSchema (apitwin's SSE convention)",
                )
            )
    return problems
