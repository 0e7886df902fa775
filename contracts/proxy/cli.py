"""``apitwin proxy API --upstream URL``: forward live traffic, judge it against the spec, record it."""

from __future__ import annotations

import datetime
import gc
import json
import os
import sys
from pathlib import Path

import click

from apitwin import specs
from apitwin.mockserver.cli_options import admin_token_option, checked_admin_token, journal_body_bytes_option
from apitwin.specs.cli import reports_spec_errors


@click.command("proxy")
@click.argument("api")
@click.option(
    "--upstream", required=True, metavar="URL", help="Base URL of the real gateway (http://host:port[/prefix])."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4020, show_default=True, type=click.IntRange(1, 65535), help="TCP port to listen on.")
@click.option(
    "--base-path",
    default=None,
    help="Prefix of the request paths before the spec's paths (e.g. /v1); detected per request when omitted.",
)
@click.option(
    "--reject-invalid",
    is_flag=True,
    help="Answer a request that breaks the spec with a 4xx in the API's error shape instead of forwarding it.",
)
@click.option(
    "--record",
    "record_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every exchange to this directory as a HAR 1.2 file of its own (credentials masked).",
)
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="JUnit XML report, written at exit.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="HTML report, written at exit.")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="JSON report, written at exit."
)
@journal_body_bytes_option("the dashboard", " (recordings and reports are not affected)")
@admin_token_option("the dashboard at /_apitwin/")
@click.option(
    "--timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds to wait for a byte from the upstream.",
)
@reports_spec_errors
def proxy_command(
    api: str,
    upstream: str,
    host: str,
    port: int,
    base_path: str | None,
    reject_invalid: bool,
    record_dir: Path | None,
    junit: Path | None,
    html: Path | None,
    json_path: Path | None,
    timeout: float,
    journal_body_bytes: int,
    admin_token: str | None,
) -> None:
    """Forward every request to the gateway at --upstream and check each exchange against API's spec.

    API is a shipped API's name or an OpenAPI file. Violations print on stderr as they happen; at exit
    (Ctrl-C) a summary groups them by cause, the reports are written, and the exit code is 1 when
    anything broke the spec.
    """
    import uvicorn

    from apitwin.contracts.proxy.app import ProxyApp, ProxyOptions
    from apitwin.contracts.proxy.journal import Journal
    from apitwin.contracts.proxy.judge import Judge
    from apitwin.contracts.proxy.record import Recorder
    from apitwin.contracts.proxy.server import ReturningServer
    from apitwin.contracts.proxy.upstream import Upstream
    from apitwin.mockserver.journal import Journal as EntryJournal
    from apitwin.mockserver.operations import compile_api

    admin_token = checked_admin_token(host, admin_token)
    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
    try:
        Upstream(upstream, timeout)  # the environment's forward proxy for it must be one it can go through
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    document = specs.load(api)
    name = api if specs.shipped(api) else Path(api).stem
    compiled = compile_api(name, document)
    journal = Journal(name, upstream, out=sys.stderr, entries=EntryJournal(body_limit=journal_body_bytes))
    recorder = None
    if record_dir is not None:
        run = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        try:
            recorder = Recorder(record_dir, run)
        except OSError as error:
            raise click.BadParameter(f"cannot write to {record_dir}: {error.strerror}", param_hint="--record") from None
    normalised = None
    if base_path is not None:
        stripped = base_path.strip().strip("/")
        normalised = "/" + stripped if stripped else ""
    app = ProxyApp(
        Judge(compiled, normalised),
        journal,
        ProxyOptions(upstream, reject_invalid=reject_invalid, timeout=timeout, admin_token=admin_token),
        recorder=recorder,
    )
    click.echo(
        f"apitwin proxy: {name} on http://{host}:{port} → {upstream}"
        + (f", recording to {record_dir}" if record_dir else "")
    )
    click.echo(f"  dashboard: http://{host}:{port}/_apitwin/" + (f"?token={admin_token}" if admin_token else ""))
    sys.stdout.flush()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # never shown at "warning", yet uvicorn would format every request's line
        proxy_headers=False,  # the proxy reads no client address: X-Forwarded-* need not be parsed
        server_header=False,
        date_header=False,
    )
    gc.collect()
    gc.freeze()  # the compiled spec lives as long as the proxy: full collections need not walk it mid-traffic
    ReturningServer(config).run()
    for line in journal.summary():
        click.echo(line, err=True)
    _write_reports(journal, junit, html, json_path)
    if journal.findings or journal.errors:
        sys.exit(1)


def _write_reports(journal: object, junit: Path | None, html: Path | None, json_path: Path | None) -> None:
    from apitwin.contracts.proxy.journal import Journal
    from apitwin.contracts.reports import html as html_report
    from apitwin.contracts.reports import junit as junit_report

    assert isinstance(journal, Journal)
    if junit is not None:
        junit.write_text(junit_report.render(journal.report()), encoding="utf-8")
    if html is not None:
        html.write_text(html_report.render(journal.report()), encoding="utf-8")
    if json_path is not None:
        json_path.write_text(json.dumps(journal.as_json(), indent=2, ensure_ascii=False), encoding="utf-8")
