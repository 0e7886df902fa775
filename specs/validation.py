"""Validating a value against a schema that sits inside an OpenAPI 3.1 document.

``$ref``s resolve against the whole document, and the OpenAPI dialect (discriminators)
is honoured, so a value is judged exactly as openapi-core and the mock server judge it.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs
import referencing.exceptions
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from apitwin.specs import ecma_regex

logger = logging.getLogger("apitwin.validation")

DOCUMENT_URI = "urn:apitwin:document"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _guard_discriminator(keyword: Any) -> Any:
    """openapi-schema-validator looks the discriminating value up in a dict: a list or an
    object there raises TypeError instead of failing validation. Judge that case here."""

    def checked(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(instance, dict):
            value = instance.get(discriminator.get("propertyName"))
            if isinstance(value, (list, dict)):
                yield jsonschema.ValidationError(
                    f"{value!r} is not a valid value for the discriminating property "
                    f"{discriminator.get('propertyName')!r}"
                )
                return
        yield from keyword(validator, branches, instance, schema)

    return checked


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Any:
    """``pattern`` as ECMA-262 means it (jsonschema's own keyword hands it to ``re`` as written)."""
    found = ecma_regex.matcher(pattern) if isinstance(pattern, str) else None
    if found is not None and validator.is_type(instance, "string") and not found.search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        found = ecma_regex.matcher(pattern)
        for name, value in instance.items():
            if found is not None and found.search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    matchers = [ecma_regex.matcher(pattern) for pattern in schema.get("patternProperties", {})]
    extras = [
        name
        for name in instance
        if name not in declared and not any(found is not None and found.search(name) for found in matchers)
    ]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif additional is False and extras:  # jsonschema's own wording
        listed = ", ".join(repr(name) for name in sorted(extras))
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            patterns = ", ".join(repr(pattern) for pattern in sorted(schema["patternProperties"]))
            yield jsonschema.ValidationError(f"{listed} {verb} not match any of the regexes: {patterns}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield jsonschema.ValidationError(f"Additional properties are not allowed ({listed} {verb} unexpected)")


def _is_pattern(value: object) -> bool:
    return not isinstance(value, str) or ecma_regex.matcher(value) is not None


def _format_checker() -> jsonschema.FormatChecker:
    """OpenAPI 3.1's formats, two corrected. ``time``: jsonschema registers draft 3's zone-less rule
    last and the OpenAPI checker inherits it, while RFC 3339 (JSON Schema 2020-12) and jsonschema-rs
    require a zone: the mock answered ``12:00:00`` and refused it in a request. ``regex``: ECMA-262."""
    checker = copy.copy(OAS31Validator.FORMAT_CHECKER)
    checker.checkers = {
        **OAS31Validator.FORMAT_CHECKER.checkers,
        "time": jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers["time"],
        "regex": (_is_pattern, ()),
    }
    return checker


FORMAT_CHECKER = _format_checker()


OpenApiValidator = jsonschema.validators.extend(
    OAS31Validator,
    {
        "oneOf": _guard_discriminator(OAS31Validator.VALIDATORS["oneOf"]),
        "anyOf": _guard_discriminator(OAS31Validator.VALIDATORS["anyOf"]),
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


class SchemaChecker:
    """Checks values against sub-schemas of one document (which may change between calls)."""

    def __init__(self, document: dict[str, Any]) -> None:
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(DOCUMENT_URI, resource)
        self._document = document
        self._native_registry: Any = None
        self._fast: dict[str, FastValidator] = {}
        self._format_checker = FORMAT_CHECKER

    def validator(self, schema: Any) -> jsonschema.protocols.Validator:
        """A validator for ``schema``; its ``$ref``s resolve against the document."""
        wrapper = {"$id": DOCUMENT_URI + "/check", "allOf": [_rebase(schema)]}
        return OpenApiValidator(wrapper, registry=self._registry, format_checker=self._format_checker)

    def fast(self, schema: Any) -> FastValidator:
        """A validator for the hot path: the same verdicts, compiled to native code.

        jsonschema-rs (which schemathesis also judges with) decides; the Python validator is
        built only when a caller asks for its detailed errors.
        """
        key = json.dumps(schema, sort_keys=True)
        cached = self._fast.get(key)
        if cached is not None:
            return cached
        if self._native_registry is None:
            self._native_registry = jsonschema_rs.Registry(
                [(DOCUMENT_URI, _format_bounds(self._document))], draft=jsonschema_rs.Draft202012
            )
        native: Any
        try:
            native = jsonschema_rs.validator_for(
                {"$schema": DRAFT_2020_12, **_rebase(_format_bounds(schema))} if isinstance(schema, dict) else schema,
                registry=self._native_registry,
                validate_formats=True,
                base_uri=DOCUMENT_URI + "/check",
            )
        except (jsonschema_rs.ValidationError, ValueError) as refused:
            # jsonschema-rs refuses some schemas Python judges fine: a pattern such as ^.{1,2097152}$
            # is past its regex size limit. Those are judged in Python, more slowly but the same way.
            logger.info("judging a schema in Python, jsonschema-rs refuses it: %s", str(refused).splitlines()[0])
            native = PythonJudge(self.validator(schema))
        self._fast[key] = FastValidator(native, lambda: self.validator(schema))
        return self._fast[key]

    def error(self, schema: Any, value: Any) -> str | None:
        """A one-line description of why ``value`` is invalid, or None when it is valid."""
        try:
            error = jsonschema.exceptions.best_match(self.validator(schema).iter_errors(value))
        except (jsonschema.exceptions.SchemaError, referencing.exceptions.Unresolvable) as problem:
            return f"the schema itself is broken: {problem}"
        if error is None:
            return None
        location = "".join(f"/{part}" for part in error.absolute_path) or "/"
        return f"{error.message} (at {location})"


INTEGER_FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _format_bounds(schema: Any) -> Any:
    """A copy with OpenAPI's ``format: int32``/``int64`` written as the bounds they mean.

    jsonschema-rs ignores formats it does not know, while the Python validator (OAS 3.1 format
    checker) and schemathesis enforce them, so without this the fast path accepted 2**31 where the
    spec says int32."""
    if isinstance(schema, list):
        return [_format_bounds(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: _format_bounds(value) for key, value in schema.items()}
    declared = copied.get("format")
    bounds = INTEGER_FORMAT_BOUNDS.get(declared) if isinstance(declared, str) else None
    if bounds is not None:
        low, high = bounds
        minimum, maximum = copied.get("minimum"), copied.get("maximum")
        copied["minimum"] = max(minimum, low) if isinstance(minimum, (int, float)) else low
        copied["maximum"] = min(maximum, high) if isinstance(maximum, (int, float)) else high
    return copied


def _rebase(schema: Any) -> Any:
    """Local ``#/...`` references made absolute, so they point into the document."""
    if isinstance(schema, dict):
        rebased = {key: _rebase(value) for key, value in schema.items()}
        ref = rebased.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            rebased["$ref"] = DOCUMENT_URI + ref
        discriminator = rebased.get("discriminator")
        if isinstance(discriminator, dict):
            declared = discriminator.get("mapping")
            mapping: dict[str, Any] = declared if isinstance(declared, dict) else {}
            mapping = {key: DOCUMENT_URI + ref if ref.startswith("#") else ref for key, ref in mapping.items()}
            rebased["discriminator"] = {**discriminator, "mapping": {**_implicit_mapping(rebased), **mapping}}
        return rebased
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    return schema


def _implicit_mapping(schema: dict[str, Any]) -> dict[str, str]:
    """The names a discriminator maps without a ``mapping`` (OpenAPI: a branch's component name), spelt out: the
    judge would build ``#/components/schemas/<name>`` relative to a schema that is not the document, and fail to
    resolve it (exavault's webhook entries)."""
    prefix = DOCUMENT_URI + "#/components/schemas/"
    branches = [*(schema.get("oneOf") or []), *(schema.get("anyOf") or [])]
    refs = [branch.get("$ref") for branch in branches if isinstance(branch, dict)]
    return {ref[len(prefix) :]: ref for ref in refs if isinstance(ref, str) and ref.startswith(prefix)}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a value fails its schema, in the terms a message needs."""

    path: tuple[str | int, ...]
    """Where in the value (the parts of a JSON pointer)."""
    message: str
    keyword: str
    expected: str
    """The keyword and its value: ``type ["number"]``, ``maximum 2``, ``required "messages"``."""
    instance: Any


class PythonJudge:
    """jsonschema's validator behind the part of jsonschema-rs's interface FastValidator uses."""

    __slots__ = ("_validator",)

    def __init__(self, validator: jsonschema.protocols.Validator) -> None:
        self._validator = validator

    def is_valid(self, value: Any) -> bool:
        return self._validator.is_valid(value)

    def iter_errors(self, value: Any) -> Any:
        for error in self._validator.iter_errors(value):
            yield _python_problem(error)


def _python_problem(error: jsonschema.ValidationError) -> Problem:
    if error.validator in ("anyOf", "oneOf") and error.context:
        deepest = jsonschema.exceptions.best_match(error.context)
        if deepest is not None:
            return _python_problem(deepest)
    path = tuple(error.absolute_path)
    return Problem(
        path, error.message, str(error.validator), f"{error.validator} {_short(error.validator_value)}", error.instance
    )


class FastValidator:
    """A native validator with the Python validator's interface for the rare slow questions."""

    __slots__ = ("_make_python", "_native", "_python")

    def __init__(self, native: Any, make_python: Any) -> None:
        self._native = native
        self._make_python = make_python
        self._python: Any = None

    def is_valid(self, value: Any) -> bool:
        return self._native.is_valid(value)

    def iter_errors(self, value: Any) -> Any:
        """jsonschema's own errors (for ``best_match`` and friends); none when the value is valid."""
        if self._native.is_valid(value):
            return iter(())
        if self._python is None:
            self._python = self._make_python()
        return self._python.iter_errors(value)

    def problems(self, value: Any, limit: int = 10) -> list[Problem]:
        """Up to ``limit`` reasons ``value`` is invalid, the most specific ones first."""
        found: list[Problem] = []
        for error in self._native.iter_errors(value):
            found.append(error if isinstance(error, Problem) else _most_specific(error))
            if len(found) >= limit:
                break
        return sorted(found, key=lambda problem: [str(part) for part in problem.path])


def _most_specific(error: Any) -> Problem:
    """For a failed ``anyOf``/``oneOf``, the error of the branch that got furthest into the value."""
    context = getattr(error.kind, "context", None)
    if error.kind.name in ("anyOf", "oneOf") and context:
        deepest = None
        for branch in context:
            for inner in branch:
                if inner.kind.name == "type" and len(inner.instance_path) == len(error.instance_path):
                    continue  # "not an object": the branch did not even apply
                if deepest is None or len(inner.instance_path) > len(deepest.instance_path):
                    deepest = inner
        if deepest is not None:
            return _most_specific(deepest)
        types = [
            name for branch in context for inner in branch if inner.kind.name == "type" for name in inner.kind.types
        ]
        if types:
            expected = " or ".join(dict.fromkeys(f'"{name}"' for name in types))
            return Problem(
                tuple(error.instance_path),
                f"{_short(error.instance)} is not of type {expected}",
                "type",
                f"type {expected}",
                error.instance,
            )
    return Problem(tuple(error.instance_path), error.message, error.kind.name, _expected(error.kind), error.instance)


def _expected(kind: Any) -> str:
    values = list(kind.as_dict().values())
    if not values:
        return kind.name
    shown = values[0] if len(values) == 1 else values
    return f"{kind.name} {_short(shown)}"


def _short(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"
