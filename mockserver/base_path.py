"""Base paths: where a spec says its operations live, and what an SDK's ``base_url`` ends with.

A spec whose first server is ``https://api.example.com/v1`` has its paths relative to ``/v1``:
an SDK given ``base_url=http://127.0.0.1:4010/v1`` sends ``/v1/chat/completions``. The mock serves
each operation both under that path and at the root, so old and new clients both work.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from apitwin.specs.walk import iter_operations

VARIABLE = re.compile(r"\{([^{}]*)\}")
VERSION_SEGMENT = re.compile(r"^/v\d+(?:beta\d*|alpha\d*)?(?=/)")


def server_path(document: dict[str, Any]) -> str:
    """The path of the first ``servers`` URL (variables at their defaults), without a trailing slash."""
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    server = servers[0]
    url = server.get("url")
    if not isinstance(url, str):
        return ""
    declared = server.get("variables")
    variables: dict[str, Any] = declared if isinstance(declared, dict) else {}
    url = VARIABLE.sub(lambda found: _default(variables.get(found.group(1))), url)
    path = urlsplit(url).path if "//" in url else url.split("?")[0]
    path = "/" + "/".join(part for part in path.split("/") if part)
    return "" if path == "/" else path


def _default(variable: Any) -> str:
    value = variable.get("default") if isinstance(variable, dict) else None
    return str(value) if value is not None else ""


def sdk_path(document: dict[str, Any]) -> str:
    """What an OpenAI-style SDK's ``base_url`` ends with: the server path, else the version segment
    (``/v1``) most versioned paths start with, else nothing."""
    path = server_path(document)
    if path:
        return path
    versions = Counter(
        found.group(0) for route, _, _ in iter_operations(document) if (found := VERSION_SEGMENT.match(route))
    )
    if not versions:
        return ""
    return versions.most_common(1)[0][0]


def strip(base: str, path: str) -> str | None:
    """``path`` relative to ``base``, or ``None`` when it is not under it."""
    if not base:
        return None
    if path == base:
        return "/"
    if path.startswith(base + "/"):
        return path[len(base) :]
    return None
