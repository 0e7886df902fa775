"""The document as each direction sees it: ``writeOnly`` and ``readOnly`` are about who sends a property.

OpenAPI: a ``writeOnly`` property is sent in requests only, a ``readOnly`` one in responses only, and a
``required`` list holds only in the direction the property travels. schemathesis judges answers that way (a
``writeOnly`` property becomes ``not: {}`` and leaves ``required``), and SDKs build requests that way (they leave
``readOnly`` fields out). A schema shared by a request and its answer (``User`` with its ``id`` and ``password``) is
therefore read twice: requests are validated against the request view, answers drawn from and checked against the
response view.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from apitwin.specs.pointer import follow

FORBIDDEN: dict[str, Any] = {"not": {}}


def views(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request view, response view). Each is ``document`` itself when it has no annotation to apply, as most
    specs (every shipped one) do. The request view requires no ``readOnly`` property (one sent anyway is still
    judged by its schema); the response view forbids every ``writeOnly`` one."""
    text = json.dumps(document)
    return _view(document, text, "readOnly", forbid=False), _view(document, text, "writeOnly", forbid=True)


def _view(document: dict[str, Any], text: str, keyword: str, *, forbid: bool) -> dict[str, Any]:
    if f'"{keyword}"' not in text:
        return document
    view = copy.deepcopy(document)
    _rewrite(view, document, keyword, forbid, set())
    return view


def _rewrite(node: Any, document: dict[str, Any], keyword: str, forbid: bool, seen: set[int]) -> None:
    if isinstance(node, list):
        for item in node:
            _rewrite(item, document, keyword, forbid, seen)
        return
    if not isinstance(node, dict) or id(node) in seen:
        return
    seen.add(id(node))
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, schema in list(properties.items()):
            if annotated(schema, document, keyword):
                if forbid:
                    properties[name] = dict(FORBIDDEN)
                if isinstance(node.get("required"), list) and name in node["required"]:
                    node["required"] = [required for required in node["required"] if required != name]
    for value in node.values():
        _rewrite(value, document, keyword, forbid, seen)


def annotated(schema: Any, document: dict[str, Any], keyword: str) -> bool:
    """``keyword: true`` on the schema, behind its ``$ref``, or on an ``allOf`` member of it."""
    target = follow(document, schema, merge_siblings=True)
    if not isinstance(target, dict):
        return False
    if target.get(keyword) is True:
        return True
    return any(annotated(member, document, keyword) for member in target.get("allOf") or () if isinstance(member, dict))
