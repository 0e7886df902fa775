"""``--models``: only these model ids are ever sent.

The ``model`` property of every request body is narrowed to the allowed ids (intersected with what
the spec accepts there). Request-side schemas are copied under new names first, so response
validation still sees the spec as written.
"""

from __future__ import annotations

import copy
from typing import Any

from apitwin.specs.pointer import follow

SUFFIX = "__apitwin_models"


def known_model_ids(document: dict[str, Any]) -> set[str]:
    """Every id a ``model`` property anywhere in the document enumerates."""
    found: set[str] = set()
    _collect(document, found)
    return found


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        model = (node.get("properties") or {}).get("model") if isinstance(node.get("properties"), dict) else None
        if isinstance(model, dict):
            found.update(value for value in model.get("enum") or () if isinstance(value, str))
            if isinstance(model.get("const"), str):
                found.add(model["const"])
        for value in node.values():
            _collect(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, found)


def constrain_models(document: dict[str, Any], models: list[str]) -> dict[str, Any]:
    """A copy of ``document`` whose request bodies can only name ``models``."""
    result = copy.deepcopy(document)
    rewriter = _Rewriter(result, models)
    for item in (result.get("paths") or {}).values():
        for operation in (item or {}).values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            body = rewriter.resolve(body)
            for media in ((body or {}).get("content") or {}).values():
                if isinstance(media, dict) and "schema" in media:
                    media["schema"] = rewriter.rewrite(media["schema"])
    return result


class _Rewriter:
    def __init__(self, document: dict[str, Any], models: list[str]) -> None:
        self.document = document
        self.models = models
        self.schemas = document.setdefault("components", {}).setdefault("schemas", {})
        self.copied: set[str] = set()

    def resolve(self, node: Any) -> Any:
        """A request body given by reference, copied inline so the copy can be narrowed."""
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target = self._target(node["$ref"])
            return copy.deepcopy(target) if isinstance(target, dict) else node
        return node

    def rewrite(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/components/schemas/"):
            return {**node, "$ref": self._copy(node["$ref"].rsplit("/", 1)[1])}
        rewritten = {key: self.rewrite(value) for key, value in node.items()}
        properties = rewritten.get("properties")
        if isinstance(properties, dict) and "model" in properties:
            rewritten["properties"] = {**properties, "model": self._narrow(node["properties"]["model"])}
        return rewritten

    def _copy(self, name: str) -> str:
        copied = name + SUFFIX
        if name.endswith(SUFFIX):
            return f"#/components/schemas/{name}"
        if copied not in self.copied:
            self.copied.add(copied)
            self.schemas[copied] = True
            self.schemas[copied] = self.rewrite(self.schemas.get(name, True))
        return f"#/components/schemas/{copied}"

    def _narrow(self, schema: Any) -> Any:
        target = (
            self._target(schema["$ref"]) if isinstance(schema, dict) and isinstance(schema.get("$ref"), str) else schema
        )
        allowed = list(self.models)
        if isinstance(target, dict) and isinstance(target.get("enum"), list):
            allowed = [model for model in allowed if model in target["enum"]]
        elif isinstance(target, dict) and "const" in target:
            allowed = [model for model in allowed if model == target["const"]]
        if not allowed:
            return False
        return {"type": "string", "enum": allowed}

    def _target(self, ref: str) -> Any:
        return follow(self.document, {"$ref": ref})
