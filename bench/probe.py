"""One request to a target before it is measured: did it answer, with what, and is that
answer what the spec declares? (Benchmarking a server that answers errors proves nothing.)"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from apitwin.specs.validation import SchemaChecker
from bench.load import Request


@dataclass(slots=True)
class Probe:
    status: int
    content_type: str
    size: int
    elapsed_ms: float
    conforms: bool | None  # None: the spec declares no schema for this status and media type
    problem: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def summary(self) -> str:
        verdict = {
            True: "valid against the spec",
            False: f"NOT valid against the spec ({self.problem})",
            None: "no schema to check",
        }[self.conforms]
        return f"{self.status} {self.content_type or '-'}, {self.size} B, {verdict}"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def send(request: Request, document: dict[str, Any], path: str, timeout_s: float = 120.0) -> tuple[Probe, bytes]:
    """Send ``request`` once and judge the answer against ``document``'s operation at ``path``."""
    headers = dict(request.headers)
    started = time.perf_counter()
    answer = httpx.request(
        request.method, request.url, content=request.body.encode(), headers=headers, timeout=timeout_s
    )
    elapsed_ms = (time.perf_counter() - started) * 1e3
    content_type = answer.headers.get("content-type", "")
    conforms, problem = judge(document, path, request.method.lower(), answer.status_code, content_type, answer.content)
    return Probe(
        answer.status_code, content_type, len(answer.content), round(elapsed_ms, 1), conforms, problem
    ), answer.content


def judge(
    document: dict[str, Any], path: str, method: str, status: int, content_type: str, body: bytes
) -> tuple[bool | None, str]:
    """(conforms, why not) for a JSON answer; (None, "") when no schema applies."""
    schema = _declared_schema(document, path, method, status, content_type)
    if schema is None:
        return None, ""
    try:
        value = json.loads(body)
    except ValueError as error:
        return False, f"not JSON: {error}"
    problem = SchemaChecker(document).error(schema, value)
    return problem is None, (problem or "")[:300]


def _declared_schema(document: dict[str, Any], path: str, method: str, status: int, content_type: str) -> Any:
    responses = document.get("paths", {}).get(path, {}).get(method, {}).get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    response = _resolve(document, response)
    if response is None:
        return None
    media_type = content_type.split(";")[0].strip()
    media = response.get("content", {}).get(media_type)
    return None if media is None else media.get("schema")


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (responses are often shared under ``components``)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 16:
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        node, seen = target, seen + 1
    return node
