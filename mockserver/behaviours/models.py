"""Model lists: ``GET …/models`` lists the models the API accepts, not random ids.

Applies to a GET operation whose path ends in ``/models`` and whose success answer lists objects
with an ``id`` (a bare array, or OpenAI's page with a ``data`` array), decided at load time. The ids
are every model id a request body of the API accepts (the ``model`` enums, as
``apitwin specs models`` prints them), in that order; where the API accepts any model, a few
generated ids stay (with the documented owner). Per item, besides the id: ``object: "model"``,
``owned_by`` as documented (the schema's ``default``, else the id's vendor prefix,
``anthropic/claude-…`` → ``anthropic``, else the API itself) and ``endpoints`` as the paths whose
requests accept that id; each only where the item's schema has it.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from apitwin.mockserver.behaviours import Behaviour, Exchange
from apitwin.mockserver.behaviours.structured import Shape, shapes_for
from apitwin.mockserver.edits import edit, settle
from apitwin.mockserver.operations import CompiledApi, Operation, is_json
from apitwin.specs.inventory import request_models
from apitwin.specs.walk import iter_operations


def match(api: CompiledApi, operation: Operation) -> Behaviour | None:
    if operation.method != "GET" or not operation.path.rstrip("/").endswith("/models"):
        return None
    success = operation.responses.get(operation.success_status())
    media = next((item for media_type, item in (success.media if success else {}).items() if is_json(media_type)), None)
    if media is None or media.schema is None:
        return None
    shapes = shapes_for(api)
    paged = shapes.has(media.schema, "data", "[]", "id")
    if not paged and not shapes.has(media.schema, "[]", "id"):
        return None
    item = shapes.first_shape(shapes.at(media.schema, *(("data", "[]") if paged else ("[]",))))
    accepted = _accepted(api.document)
    owner_default = _default(shapes, item.schema, "owned_by") if item is not None else None
    if item is None or not (accepted or owner_default):
        return None

    async def behaviour(exchange: Exchange) -> Response | None:
        if not 200 <= exchange.status < 300 or exchange.media is not media:
            return None
        listed = accepted or {_drawn_id(exchange, item): [] for _ in range(exchange.rng.randint(1, 3))}
        items = [_item(exchange, item, model, endpoints, owner_default) for model, endpoints in listed.items()]
        if not paged:
            return exchange.json(items)
        value = exchange.generate(skip=("data",))
        if not isinstance(value, dict):
            return None
        settle(value, media.validator, [edit(value, "data", items), edit(value, "object", "list")])
        return exchange.json(value)

    return behaviour


def _accepted(document: dict[str, Any]) -> dict[str, list[str]]:
    """Every accepted model id, with the paths whose request bodies accept it (spec order)."""
    found: dict[str, list[str]] = {}
    for path, _method, operation in iter_operations(document):
        if operation.get("x-apitwin-alias-of"):
            continue
        for model in request_models(document, operation):
            paths = found.setdefault(model, [])
            if path not in paths:
                paths.append(path)
    return found


def _drawn_id(exchange: Exchange, item: Shape) -> str:
    """A generated id (an API that accepts any model lists the few it happens to serve)."""
    value = item.generate(exchange.rng)
    return (
        str(value.get("id"))
        if isinstance(value, dict) and value.get("id")
        else f"model-{exchange.rng.randrange(10**6)}"
    )


def _default(shapes: Any, schema: Any, name: str) -> Any:
    for candidate in shapes.at(schema, name):
        for member in shapes.members(candidate):
            if "default" in member:
                return member["default"]
    return None


def _item(exchange: Exchange, shape: Shape, model: str, endpoints: list[str], owner: Any) -> dict[str, Any]:
    value = shape.generate(exchange.rng)
    if not isinstance(value, dict):
        value = {}
    vendor = model.split("/", 1)[0] if "/" in model else exchange.api.name
    wanted = {
        "id": model,
        "object": "model",
        "endpoints": endpoints,
        "owned_by": owner if owner is not None else vendor,
    }
    shapes = shapes_for(exchange.api)
    edits = [edit(value, key, item) for key, item in wanted.items() if key == "id" or shapes.has(shape.schema, key)]
    if not endpoints:
        edits = [change for change in edits if change.key != "endpoints"]
    return settle(value, shape.validator, edits)
