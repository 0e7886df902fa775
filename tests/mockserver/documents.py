"""Small OpenAPI documents the mock's tests serve."""

from __future__ import annotations

from typing import Any


def item_lookup(responses: dict[str, Any], **extensions: Any) -> dict[str, Any]:
    """One operation, ``GET /items/{id}`` with an integer id, answering ``responses``; ``extensions`` are set on the
    document (``error_fields=…`` becomes ``x-apitwin-error-fields``)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/items/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": responses,
                }
            }
        },
        **{f"x-apitwin-{name.replace('_', '-')}": value for name, value in extensions.items()},
    }
