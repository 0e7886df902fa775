"""Validating a value against a schema that sits inside an OpenAPI 3.1 document.

``$ref``s resolve against the whole document, and the OpenAPI dialect (discriminators)
is honoured, so a value is judged exactly as openapi-core and the mock server judge it.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:apitwin:document"


def _guard_discriminator(keyword: Any) -> Any:
    """openapi-schema-validator looks the discriminating value up in a dict: a list or an
    object there raises TypeError instead of failing validation. Judge that case here."""

    def checked(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(instance, dict):
            value = instance.get(discriminator.get("propertyName"))
            if isinstance(value, (list, dict)):
                yield jsonschema.ValidationError(
                    f"{value!r} is not a valid value for the discriminating property {discriminator.get('propertyName')!r}"
                )
                return
        yield from keyword(validator, branches, instance, schema)

    return checked


OpenApiValidator = jsonschema.validators.extend(
    OAS31Validator,
    {
        "oneOf": _guard_discriminator(OAS31Validator.VALIDATORS["oneOf"]),
        "anyOf": _guard_discriminator(OAS31Validator.VALIDATORS["anyOf"]),
    },
)


class SchemaChecker:
    """Checks values against sub-schemas of one document (which may change between calls)."""

    def __init__(self, document: dict[str, Any]) -> None:
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(DOCUMENT_URI, resource)
        self._format_checker = OAS31Validator.FORMAT_CHECKER

    def validator(self, schema: Any) -> jsonschema.protocols.Validator:
        """A validator for ``schema``; its ``$ref``s resolve against the document."""
        wrapper = {"$id": DOCUMENT_URI + "/check", "allOf": [_rebase(schema)]}
        return OpenApiValidator(wrapper, registry=self._registry, format_checker=self._format_checker)

    def error(self, schema: Any, value: Any) -> str | None:
        """A one-line description of why ``value`` is invalid, or None when it is valid."""
        try:
            error = jsonschema.exceptions.best_match(self.validator(schema).iter_errors(value))
        except (jsonschema.exceptions.SchemaError, jsonschema.exceptions._WrappedReferencingError) as problem:
            return f"the schema itself is broken: {problem}"
        if error is None:
            return None
        location = "".join(f"/{part}" for part in error.absolute_path) or "/"
        return f"{error.message} (at {location})"


def _rebase(schema: Any) -> Any:
    """Local ``#/...`` references made absolute, so they point into the document."""
    if isinstance(schema, dict):
        rebased = {key: _rebase(value) for key, value in schema.items()}
        ref = rebased.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            rebased["$ref"] = DOCUMENT_URI + ref
        mapping = (rebased.get("discriminator") or {}).get("mapping")
        if isinstance(mapping, dict):
            rebased["discriminator"] = {
                **rebased["discriminator"],
                "mapping": {key: DOCUMENT_URI + ref if ref.startswith("#") else ref for key, ref in mapping.items()},
            }
        return rebased
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    return schema
