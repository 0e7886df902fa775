"""JSON pointers (RFC 6901): building, escaping and resolving them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


def escape(token: str | int) -> str:
    text = str(token)
    if "~" in text or "/" in text:  # rare: most tokens need no escaping, and this runs for every node walked
        return text.replace("~", "~0").replace("/", "~1")
    return text


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *tokens: str | int) -> str:
    for token in tokens:
        pointer = f"{pointer}/{escape(token)}"
    return pointer


def resolve(document: Any, pointer: str) -> Any:
    """The value at ``pointer`` (``#/a/b`` or ``/a/b``); raises KeyError if there is none."""
    if pointer.startswith("#"):
        pointer = pointer[1:]
    node = document
    if not pointer:
        return node
    for raw in pointer.lstrip("/").split("/"):
        token = unescape(raw)
        if isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                raise KeyError(pointer)
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, dict) and "%" in raw and unescape(unquote(raw)) in node:
            node = node[unescape(unquote(raw))]  # a URI fragment percent-encodes: ~1%7Bid%7D (RFC 6901 §6)
        else:
            raise KeyError(pointer)
    return node


def follow(document: Any, node: Any, *, merge_siblings: bool = False) -> Any:
    """What a chain of local ``$ref``s starting at ``node`` leads to (``node`` itself when it is no ``$ref``).

    None when the chain dangles, leaves the document or loops. With ``merge_siblings``, keywords beside a
    ``$ref`` (3.1 allows them) are laid over its target.
    """
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(ref := node.get("$ref"), str):
        if ref in seen or not ref.startswith("#"):
            return None
        seen.add(ref)
        try:
            target = resolve(document, ref)
        except KeyError:
            return None
        if merge_siblings and isinstance(target, dict) and len(node) > 1:
            target = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
        node = target
    return node
