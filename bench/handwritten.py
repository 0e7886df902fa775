"""The floor under a spec-checking mock: hand-written Starlette endpoints for two benchmarked operations (h, hr).

Each does, for its operation of a spec (chat completions, Responses), only the work no mock that
checks the spec and answers anew can skip: read the body, parse it (orjson), check the bearer token, validate
the request against the operation's schema (jsonschema-rs), seed a random source from the canonical request,
draw what varies (a text, ids, a timestamp), count tokens, build the answer, validate it against
the response schema and encode it (orjson). No journal, no answer cache, no preferences, no faults, no other
operation: whatever apitwin spends beyond this is the price of its generality, and a target these endpoints
miss is out of reach of a mock in Python doing the same checks, however it is written.

Embeddings have no floor here: a plain hand-written one (1,024 ``gauss`` draws, validated and encoded) took three
times the CPU of apitwin's, whose vectors come from precomputed tables (``behaviours.unit_vectors``); a floor that
is slower than what it bounds says nothing.

``python -m bench.handwritten --port P --spec FILE`` serves them with uvicorn, one worker, no access log.
"""

from __future__ import annotations

import gc
import hashlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import bare

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
TEXT = (
    "the answer depends on what you ask and how the model reads the question so here is a short reply with "
    "several common words drawn at random to stand in for generated text of realistic length"
)
WORDS = tuple(TEXT.split())
HEX = "0123456789abcdef"

Draw = Callable[[dict[str, Any], random.Random], dict[str, Any]]


def create_app(document: dict[str, Any]) -> Starlette:
    return Starlette(
        routes=[
            Route(path, _endpoint(document, path, draw), methods=["POST"])
            for path, draw in ((CHAT, _chat), (RESPONSES, _responses))
        ]
    )


def _endpoint(document: dict[str, Any], path: str, draw: Draw) -> Callable[[Request], Awaitable[Response]]:
    operation = document["paths"][path]["post"]
    check_request = _validator(document, operation["requestBody"]["content"]["application/json"]["schema"])
    check_answer = _validator(document, operation["responses"]["200"]["content"]["application/json"]["schema"])

    async def answer(request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "unauthenticated")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "invalid JSON")
        if not check_request.is_valid(body):
            return _error(400, "invalid request")
        digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
        value = draw(body, random.Random(int.from_bytes(digest[:8], "big")))
        if not check_answer.is_valid(value):
            return _error(500, "the answer breaks the spec")
        return Response(orjson.dumps(value), media_type="application/json")

    return answer


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator for ``schema``, its ``$ref``s resolved inside ``document``."""
    return jsonschema_rs.validator_for({**schema, "components": document.get("components", {})})


def _error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"error": message}), status, media_type="application/json")


def _text(rng: random.Random) -> tuple[str, int]:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 80))]
    return " ".join(words).capitalize() + ".", len(words)


def _tokens(value: Any) -> int:
    return len(value.split()) if isinstance(value, str) else 1


def _chat(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    text, completion = _text(rng)
    prompt = sum(_tokens(message.get("content")) for message in body["messages"])
    return {
        "id": "chatcmpl-" + "".join(rng.choices(HEX, k=24)),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


def _responses(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    text, output = _text(rng)
    prompt = _tokens(body["input"])
    return {
        "created_at": int(time.time()),
        "id": "resp_" + "".join(rng.choices(HEX, k=32)),
        "model": body["model"],
        "object": "response",
        "parallel_tool_calls": True,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "metadata": {},
        "output": [
            {
                "role": "assistant",
                "type": "message",
                "content": [{"annotations": [], "text": text, "type": "output_text", "logprobs": []}],
                "id": "msg_" + "".join(rng.choices(HEX, k=32)),
                "status": "completed",
            }
        ],
        "output_text": text,
        "previous_response_id": None,
        "status": "completed",
        "temperature": 1,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1,
        "truncation": "disabled",
        "usage": {
            "input_tokens": prompt,
            "output_tokens": output,
            "total_tokens": prompt + output,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def main() -> None:
    parser = bare.server_arguments(__doc__)
    parser.add_argument("--spec", type=Path, required=True)
    arguments = parser.parse_args()
    app = create_app(json.loads(arguments.spec.read_text()))
    # As ``apitwin serve`` does once its specs are compiled: the spec's many objects are left out of the garbage
    # collector's scans, which would otherwise hold requests for tens of milliseconds.
    gc.collect()
    gc.freeze()
    bare.serve(app, arguments.host, arguments.port)


if __name__ == "__main__":
    main()
