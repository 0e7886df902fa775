"""JSON pointers (RFC 6901): building, escaping and resolving them."""

from __future__ import annotations

from typing import Any


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape(token) for token in tokens)


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
        else:
            raise KeyError(pointer)
    return node
