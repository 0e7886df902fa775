"""A page's own OpenAPI fragments as a second judge of its doc samples.

A sample the built spec refuses while its page's fragment accepts it is apitwin's doing (a repair or an
overlay), not the vendor's; one the built spec accepts while the fragment refuses it was repaired. The
fragments are OpenAPI 3.0 (``nullable``), so they are read with the 3.0 dialect, as the vendor wrote them.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import referencing.exceptions
from openapi_schema_validator import OAS30Validator

from apitwin.specs.samples import sent_body

MULTIPART = "multipart/form-data"
FRAGMENT = re.compile(r"```json\s*(\{\"openapi\".*?)\s*```", re.S)
BROKEN_SCHEMA = (
    jsonschema.exceptions.SchemaError,
    jsonschema.exceptions.UnknownType,
    referencing.exceptions.Unresolvable,
)


class PageFragments:
    """The operations a page's fragments declare, each fragment the root its ``$ref``s resolve in."""

    def __init__(self, body: str) -> None:
        self._operations: list[tuple[str, re.Pattern[str], dict[str, Any], dict[str, Any]]] = []
        for match in FRAGMENT.finditer(body):
            try:
                fragment = json.loads(match.group(1))
            except ValueError:
                continue
            components = fragment.get("components") or {}
            for path, item in (fragment.get("paths") or {}).items():
                pattern = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "/?")
                for method, operation in (item or {}).items():
                    if isinstance(operation, dict):
                        self._operations.append((method.upper(), pattern, operation, components))

    def request(self, method: str, url: str, value: Any, files: list[str] | None = None) -> str | None:
        """``valid`` or ``invalid`` against the page's request schema for this call; None when it has none.

        An upload (``files``) is judged against the fragment's multipart body, or its JSON one when it has none."""
        path = urlsplit(url).path
        for declared, pattern, operation, components in self._operations:
            if declared != method.upper() or not pattern.fullmatch(path):
                continue
            content: dict[str, Any] = (operation.get("requestBody") or {}).get("content") or {}
            media = (
                (content.get(MULTIPART) if files else None)
                or content.get("application/json")
                or next(iter(content.values()), None)
                or {}
            )
            schema = media.get("schema")
            return None if schema is None else _verdict([schema], components, sent_body(value, files))
        return None

    def response(self, value: Any) -> str | None:
        """``valid`` when a 2xx answer of any fragment on the page accepts it, ``invalid`` when none does."""
        schemas: list[tuple[Any, dict[str, Any]]] = []
        for _method, _pattern, operation, components in self._operations:
            for status, response in (operation.get("responses") or {}).items():
                if not str(status).startswith("2") or not isinstance(response, dict):
                    continue
                for body in (response.get("content") or {}).values():
                    if isinstance(body, dict) and body.get("schema") is not None:
                        schemas.append((body["schema"], components))
        verdicts = [_verdict([schema], components, value) for schema, components in schemas]
        if "valid" in verdicts:
            return "valid"
        return "invalid" if "invalid" in verdicts else None


def _verdict(schemas: list[Any], components: dict[str, Any], value: Any) -> str | None:
    """None when the fragment's schema is itself broken (it cannot judge)."""
    root = {"allOf": schemas, "components": components}
    try:
        validator = OAS30Validator(root, format_checker=OAS30Validator.FORMAT_CHECKER)
        return "valid" if validator.is_valid(value) else "invalid"
    except BROKEN_SCHEMA:
        return None
