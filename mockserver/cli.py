"""``apitwin serve``: run the mock server on a host and port."""

from __future__ import annotations

import json
import os
import sys
import time

import click

import specs
from specs.cli import reports_spec_errors


@click.command("serve")
@click.argument("apis", nargs=-1)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4010, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every generated response.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option("--api-key", default=None, help="Accept only this key (otherwise any well-formed key).")
@click.option("--self-check/--no-self-check", default=False, help="Validate every response the mock sends; a violation is a 500.")
@reports_spec_errors
def serve_command(apis: tuple[str, ...], host: str, port: int, seed: int, workers: int, api_key: str | None, self_check: bool) -> None:
    """Serve APIs (shipped names or OpenAPI files; all shipped when none given)."""
    import uvicorn

    from mockserver.app import create_app

    started = time.perf_counter()
    names = list(apis) or specs.names()
    app = create_app(names, seed=seed, api_key=api_key, self_check=self_check)
    server = app.routes[0].endpoint.__self__  # the MockServer behind the single route
    elapsed = time.perf_counter() - started
    click.echo(f"apitwin mock: {len(names)} API(s) compiled in {elapsed:.2f} s")
    for name, base in server.base_paths().items():
        click.echo(f"  {name:<18} http://{host}:{port}{base}/")
    sys.stdout.flush()
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    # Worker processes import the app themselves: hand them the same arguments.
    os.environ[_WORKER_ARGS] = json.dumps({"apis": names, "seed": seed, "api_key": api_key, "self_check": self_check})
    uvicorn.run("mockserver.cli:worker_app", factory=True, host=host, port=port, log_level="warning", workers=workers)


_WORKER_ARGS = "APITWIN_SERVE_ARGS"


def worker_app():  # type: ignore[no-untyped-def]
    """The app of one worker process of ``apitwin serve --workers N``."""
    from mockserver.app import create_app

    arguments = json.loads(os.environ[_WORKER_ARGS])
    return create_app(arguments.pop("apis"), **arguments)
