"""``apitwin serve``: run the mock server on a host and port."""

from __future__ import annotations

import gc
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from apitwin import specs
from apitwin.mockserver.cli_options import admin_token_option, checked_admin_token, journal_body_bytes_option
from apitwin.specs.cli import reports_spec_errors

if TYPE_CHECKING:
    from apitwin.mockserver.app import MockApp


@click.command("serve")
@click.argument("apis", nargs=-1)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless you mean otherwise)."
)
@click.option("--port", default=4010, show_default=True, type=click.IntRange(1, 65535), help="TCP port to listen on.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every generated response.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option(
    "--api-key",
    default=None,
    help="Accept only this key, on every API (a spec without security takes it as a Bearer token); "
    "otherwise any well-formed key.",
)
@click.option(
    "--admin-key",
    default=None,
    help="Bearer token that shows the values other clients sent in GET /_apitwin/requests and the dashboard "
    "(a browser signs in with /_apitwin/?token=KEY); others see only their types. Not with --admin-token, whose "
    "holders see them anyway.",
)
@admin_token_option(
    "every /_apitwin/ route but media", "; its holders see the values clients sent (it subsumes --admin-key)"
)
@journal_body_bytes_option("GET /_apitwin/requests and the dashboard")
@click.option(
    "--journal-max-bytes",
    default=64 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1024),
    metavar="N",
    help="Bytes all journal entries may hold together (at most 10,000 entries); the oldest go first.",
)
@click.option(
    "--state-ttl",
    default=24 * 3600.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    help="Seconds a stored response, job or session lives after it was last written.",
)
@click.option(
    "--state-max-bytes",
    default=256 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1024),
    help="Bytes all stored objects may take (memory, SQLite); the least recently written go first.",
)
@click.option(
    "--cache-max-bytes",
    default=32 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=0),
    help="Bytes of remembered deterministic answers per process (0: none).",
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    help="Seconds a connection has to send its request line and headers (408, or closed when it sent nothing).",
)
@click.option(
    "--body-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    help="Seconds to wait for the next piece of a request body (408 in the API's shape).",
)
@click.option(
    "--keep-alive",
    default=5,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="S",
    help="Seconds an idle connection stays open after an answer.",
)
@click.option(
    "--max-headers", default=100, show_default=True, type=click.IntRange(min=1), help="Header fields per request (431)."
)
@click.option(
    "--max-header-bytes",
    default=65536,
    show_default=True,
    type=click.IntRange(min=1024),
    help="Bytes of request target and headers together (431).",
)
@click.option(
    "--max-connections",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Open connections and running requests per process; more get 503 at once.",
)
@click.option(
    "--self-check/--no-self-check", default=False, help="Validate every response the mock sends; a violation is a 500."
)
@click.option(
    "--state",
    default="sqlite",
    show_default=True,
    help="Where jobs, stored responses and sessions live: sqlite (.apitwin/state.db), a file path, "
    "sqlite:///relative.db, sqlite:////absolute.db, memory, or redis://HOST:PORT/DB (the banner prints where).",
)
@click.option(
    "--job-polls",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="Polls an async job answers per status before it moves on (0: time only).",
)
@click.option(
    "--job-seconds",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds an async job spends per status (whichever of polls and seconds comes first).",
)
@click.option(
    "--job-path",
    "job_path",
    multiple=True,
    metavar="CREATE_PATH=STATUS,…",
    help="The statuses a job of this family walks before it is done, instead of the overlay's path "
    "(e.g. /v2/video/generations=queued,generating,waiting,active; repeatable).",
)
@click.option(
    "--ttft",
    "ttft_ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0, max=600_000),
    metavar="MS",
    help="Milliseconds before the first event of every stream (header X-Apitwin-Pacing: ttft=MS,tps=N overrides per "
    "request).",
)
@click.option(
    "--tokens-per-second",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    metavar="N",
    help="Rate of streamed text after the first event; 0 sends it at once.",
)
@click.option(
    "--faults",
    default=None,
    metavar="STATUS:RATE,…",
    help="Inject error statuses at rates, e.g. 429:0.05,500:0.01 (429s carry Retry-After); header X-Apitwin-Faults "
    "per request.",
)
@click.option(
    "--latency",
    "latency_ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0, max=600_000),
    metavar="MS",
    help="Added before every answer.",
)
@click.option(
    "--slow-first-byte",
    "first_byte_ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0, max=600_000),
    metavar="MS",
    help="Send status and headers at once, the body this much later.",
)
@click.option(
    "--cut-stream-after",
    default=None,
    type=click.IntRange(min=0),
    metavar="N",
    help="Drop event streams mid-body after N events, as a broken upstream does.",
)
@click.option(
    "--replay",
    default=None,
    type=click.Path(exists=True, path_type=Path),
    metavar="DIR",
    help="Answer requests recorded in DIR (HAR files, e.g. from apitwin proxy --record) with the recorded answers.",
)
@click.option(
    "--replay-pace",
    type=click.Choice(["recorded", "none"]),
    default="recorded",
    show_default=True,
    help="Replay streams with their recorded timing, or send them at once.",
)
@click.option(
    "--replay-strict",
    is_flag=True,
    help="A request no recording matches gets a 404 naming the nearest recorded requests (default: generated).",
)
@click.option(
    "--replay-ignore",
    default="user,metadata",
    show_default=True,
    metavar="FIELD,…",
    help="Top-level request body fields left out when matching a request to a recording.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Normalise spec files anew instead of reading them back from the cache (as apitwin --no-cache).",
)
@reports_spec_errors
def serve_command(
    apis: tuple[str, ...],
    host: str,
    port: int,
    seed: int,
    workers: int,
    api_key: str | None,
    admin_key: str | None,
    admin_token: str | None,
    journal_body_bytes: int,
    journal_max_bytes: int,
    state_ttl: float,
    state_max_bytes: int,
    cache_max_bytes: int,
    header_timeout: float,
    body_timeout: float,
    keep_alive: int,
    max_headers: int,
    max_header_bytes: int,
    max_connections: int,
    self_check: bool,
    state: str,
    job_polls: int,
    job_seconds: float | None,
    job_path: tuple[str, ...],
    ttft_ms: float,
    tokens_per_second: float,
    faults: str | None,
    latency_ms: float,
    first_byte_ms: float,
    cut_stream_after: int | None,
    replay: Path | None,
    replay_pace: str,
    replay_strict: bool,
    replay_ignore: str,
    no_cache: bool,
) -> None:
    """Serve APIs (shipped names or OpenAPI files; all shipped when none given)."""
    import uvicorn

    from apitwin.mockserver.app import create_app
    from apitwin.mockserver.base_path import sdk_path
    from apitwin.mockserver.behaviours.jobs import check_job_paths
    from apitwin.mockserver.connections import Limits, raise_file_limit
    from apitwin.mockserver.faults import FaultError
    from apitwin.mockserver.faults import parse as parse_faults
    from apitwin.mockserver.pacing import PacingError
    from apitwin.mockserver.replay import ReplayError
    from apitwin.mockserver.state import StoreURLError, describe_store

    if no_cache:  # read where each process (this one, and every worker) loads its specs
        os.environ["APITWIN_NO_CACHE"] = "1"
    if workers > 1 and state.strip() == "memory":
        raise click.BadParameter(
            "memory is private to one process; with --workers use sqlite or redis://…", param_hint="--state"
        )
    admin_token = checked_admin_token(host, admin_token, admin_key)
    _ensure_free(host, port)  # before compiling and printing URLs that would not answer
    started = time.perf_counter()
    names = list(apis) or specs.names()
    try:
        parse_faults(faults)
    except FaultError as error:
        raise click.BadParameter(str(error), param_hint="--faults") from error
    job_paths = _job_paths(job_path)
    behaviour_options = {
        "state": state,
        "job_polls": job_polls,
        "job_seconds": job_seconds,
        "job_paths": job_paths,
        "ttft_ms": ttft_ms,
        "tokens_per_second": tokens_per_second,
        "faults": faults,
        "latency_ms": latency_ms,
        "first_byte_ms": first_byte_ms,
        "cut_stream_after": cut_stream_after,
        "admin_key": admin_key,
        "admin_token": admin_token,
        "journal_body_bytes": journal_body_bytes,
        "journal_max_bytes": journal_max_bytes,
        "body_timeout": body_timeout,
        "state_ttl": state_ttl,
        "state_max_bytes": state_max_bytes,
        "cache_max_bytes": cache_max_bytes,
        "replay": str(replay) if replay is not None else None,
        "replay_pace": replay_pace,
        "replay_strict": replay_strict,
        "replay_ignore": [field.strip() for field in replay_ignore.split(",") if field.strip()],
    }
    if replay_strict and replay is None:
        raise click.BadParameter("--replay-strict needs --replay DIR", param_hint="--replay-strict")
    try:
        app = create_app(names, seed=seed, api_key=api_key, self_check=self_check, **behaviour_options)
    except StoreURLError as error:
        raise click.BadParameter(str(error), param_hint="--state") from error
    except PacingError as error:
        raise click.BadParameter(str(error), param_hint="--tokens-per-second") from error
    except ReplayError as error:
        raise click.BadParameter(str(error), param_hint="--replay") from error
    server = app.server
    try:
        check_job_paths(list(server.apis.values()), job_paths or {})
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--job-path") from error
    elapsed = time.perf_counter() - started
    click.echo(f"apitwin mock: {len(names)} API(s) compiled in {elapsed:.2f} s")
    for name, base in server.base_paths().items():
        sdk_base = f"http://{host}:{port}{base}{sdk_path(server.apis[name].document)}"
        click.echo(f"  {name:<18} http://{host}:{port}{base}/   SDK base_url: {sdk_base}")
    click.echo(f"  state: {describe_store(state)}")
    click.echo(f"  dashboard: {_dashboard_url(host, port, admin_token)}")
    if admin_token is not None:
        click.echo(f"  admin token: {admin_token} (every /_apitwin/ route but media: Authorization: Bearer TOKEN)")
    if server.replay is not None:
        click.echo(f"  replay: {len(server.replay.index)} recorded requests from {replay}")
    limits = Limits(header_timeout, keep_alive, max_headers, max_header_bytes, max_connections)
    limits.export()
    raise_file_limit()
    sys.stdout.flush()
    if workers <= 1:
        uvicorn.run(settled(app), host=host, port=port, log_level="warning", **limits.uvicorn_options())
        return
    # Worker processes import the app themselves: hand them the same arguments.
    os.environ[_WORKER_ARGS] = json.dumps(
        {"apis": names, "seed": seed, "api_key": api_key, "self_check": self_check, **behaviour_options}
    )
    uvicorn.run(
        "apitwin.mockserver.cli:worker_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        workers=workers,
        **limits.uvicorn_options(),
    )


def _dashboard_url(host: str, port: int, token: str | None) -> str:
    """Where to open the dashboard; with an admin token, the address that signs the browser in (printed once)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/_apitwin/" + (f"?token={token}" if token else "")


def _ensure_free(host: str, port: int) -> None:
    """Refuse at once, as a usage error, a port another process already listens on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise click.BadParameter(f"cannot resolve {host!r}: {error.strerror}", param_hint="--host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as error:
            raise click.BadParameter(
                f"{host}:{port} is not free ({error.strerror}); is another server running? choose another --port",
                param_hint="--port",
            ) from None


_WORKER_ARGS = "APITWIN_SERVE_ARGS"


def worker_app() -> MockApp:
    """The app of one worker process of ``apitwin serve --workers N``."""
    from apitwin.mockserver.app import create_app

    arguments = json.loads(os.environ[_WORKER_ARGS])
    return settled(create_app(arguments.pop("apis"), **arguments))


def settled(app: MockApp) -> MockApp:
    """``app``, with every object made so far kept out of the garbage collector's scans (``gc.freeze``), and what
    each operation builds on its first request too (``MockServer.freeze_prepared``).

    The compiled specs are tens of thousands of objects that live as long as the server; without this, each full
    collection walks them all again, in the middle of answering someone."""
    gc.collect()
    gc.freeze()
    app.server.freeze_prepared = True
    return app


def _job_paths(values: tuple[str, ...]) -> dict[str, list[str]] | None:
    """``--job-path /create=a,b`` (repeatable) as {create path: statuses}."""
    paths: dict[str, list[str]] = {}
    for value in values:
        create, equals, statuses = value.partition("=")
        chosen = [status.strip() for status in statuses.split(",") if status.strip()]
        if not equals or not create.startswith("/") or not chosen:
            raise click.BadParameter(
                f"{value!r}: expected CREATE_PATH=STATUS,… (e.g. /v2/video/generations=queued,generating)",
                param_hint="--job-path",
            )
        paths[create.strip()] = chosen
    return paths or None
