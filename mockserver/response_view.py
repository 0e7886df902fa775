"""The document as an answer sees it: ``writeOnly`` properties forbidden and never required.

OpenAPI: a ``writeOnly`` property is sent in requests only. schemathesis judges answers that way (the property
becomes ``not: {}`` and leaves ``required``), and so do clients that model the two directions apart. A schema
shared by a request and a response (``User`` with its ``password``) is therefore read twice: as written for
requests, as this view for answers, which are drawn from it and checked against it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from apitwin.specs.pointer import follow

FORBIDDEN: dict[str, Any] = {"not": {}}


def response_view(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` itself when nothing in it is ``writeOnly``, else a copy with every such property forbidden."""
    if '"writeOnly"' not in json.dumps(document):
        return document
    view = copy.deepcopy(document)
    _rewrite(view, document, set())
    return view


def _rewrite(node: Any, document: dict[str, Any], seen: set[int]) -> None:
    if isinstance(node, list):
        for item in node:
            _rewrite(item, document, seen)
        return
    if not isinstance(node, dict) or id(node) in seen:
        return
    seen.add(id(node))
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, schema in list(properties.items()):
            if write_only(schema, document):
                properties[name] = dict(FORBIDDEN)
                if isinstance(node.get("required"), list) and name in node["required"]:
                    node["required"] = [required for required in node["required"] if required != name]
    for value in node.values():
        _rewrite(value, document, seen)


def write_only(schema: Any, document: dict[str, Any]) -> bool:
    """``writeOnly: true`` on the schema, behind its ``$ref``, or on an ``allOf`` member of it."""
    target = follow(document, schema, merge_siblings=True)
    if not isinstance(target, dict):
        return False
    if target.get("writeOnly") is True:
        return True
    return any(write_only(member, document) for member in target.get("allOf") or () if isinstance(member, dict))
