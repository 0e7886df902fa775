"""The floor under a spec-checking mock: one hand-written Starlette endpoint for one operation (target h).

It does, for ``POST /v1/chat/completions`` of a spec, only the work no mock that checks the spec and answers
anew can skip: read the body, parse it (orjson), check the bearer token, validate the request against the
operation's schema (jsonschema-rs), seed a random source from the canonical request, draw a text, an id and a
timestamp, count tokens, build the answer, validate it against the response schema and encode it (orjson).
No journal, no answer cache, no preferences, no faults, no other operation: whatever apitwin spends beyond
this is the price of its generality, and a target this endpoint cannot meet is not met by any such mock
written in Python.

``python -m bench.handwritten --port P --spec FILE`` serves it with uvicorn, one worker, no access log.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/v1/chat/completions"
TEXT = (
    "the answer depends on what you ask and how the model reads the question so here is a short reply with "
    "several common words drawn at random to stand in for generated text of realistic length"
)
WORDS = tuple(TEXT.split())
HEX = "0123456789abcdef"


def _validator(document: dict[str, Any], reference: str) -> Any:
    """A jsonschema-rs validator for the schema at ``reference``, its ``$ref``s resolved inside ``document``."""
    return jsonschema_rs.validator_for({"$ref": reference, "components": document.get("components", {})})


def _reference(schema: dict[str, Any]) -> str:
    reference = schema.get("$ref")
    if not isinstance(reference, str):
        raise SystemExit(f"bench.handwritten: expected a $ref schema, got {json.dumps(schema)[:200]}")
    return reference


def create_app(document: dict[str, Any]) -> Starlette:
    operation = document["paths"][PATH]["post"]
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    answer_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    check_request = _validator(document, _reference(request_schema))
    check_answer = _validator(document, _reference(answer_schema))

    async def answer(request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return Response(b'{"error":"unauthenticated"}', 401, media_type="application/json")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return Response(b'{"error":"invalid JSON"}', 400, media_type="application/json")
        if not check_request.is_valid(body):
            return Response(b'{"error":"invalid request"}', 400, media_type="application/json")
        digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 40))]
        prompt = sum(len(str(message.get("content", "")).split()) for message in body["messages"])
        value = {
            "id": "chatcmpl-" + "".join(rng.choices(HEX, k=24)),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": " ".join(words).capitalize() + "."},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": len(words), "total_tokens": prompt + len(words)},
        }
        if not check_answer.is_valid(value):
            return Response(b'{"error":"answer breaks the spec"}', 500, media_type="application/json")
        return Response(orjson.dumps(value), media_type="application/json")

    return Starlette(routes=[Route(PATH, answer, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spec", type=Path, required=True)
    arguments = parser.parse_args()
    document = json.loads(arguments.spec.read_text())
    uvicorn.run(create_app(document), host=arguments.host, port=arguments.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
