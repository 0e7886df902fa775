"""The upper limit: a bare Starlette endpoint answering every POST with one fixed JSON body.

``python -m bench.bare --port P --size N`` serves N bytes of JSON (the size of apitwin's answer)
with uvicorn, one worker, no access log, like ``apitwin serve``.
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def fixed_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (at least the 15 of the empty padding)."""
    skeleton = json.dumps({"padding": ""}).encode()
    return json.dumps({"padding": "x" * max(0, size - len(skeleton))}).encode()


def create_app(size: int) -> Starlette:
    body = fixed_body(size)

    async def answer(request: Request) -> Response:
        await request.body()  # read the request as any real endpoint would
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def server_arguments(description: str | None) -> argparse.ArgumentParser:
    """``--host`` and ``--port``, as every comparison server the benchmarks start takes them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser


def serve(app: Starlette, host: str, port: int) -> None:
    """uvicorn, one worker, no access log: as ``apitwin serve`` runs."""
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def main() -> None:
    parser = server_arguments(__doc__)
    parser.add_argument("--size", type=int, required=True)
    arguments = parser.parse_args()
    serve(create_app(arguments.size), arguments.host, arguments.port)


if __name__ == "__main__":
    main()
