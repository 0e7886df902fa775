"""``apitwin check-traffic API FILE``: recorded exchanges judged against a spec, offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from apitwin import specs
from apitwin.contracts.traffic.check import TrafficChecker
from apitwin.contracts.traffic.report import Summary, json_report, text_lines
from apitwin.mockserver.operations import compile_api
from apitwin.mockserver.recorded_urls import detect_base_path, url_path
from apitwin.recordings.records import TrafficError, read_recordings
from apitwin.specs.errors import SpecError


@click.command("check-traffic")
@click.argument("api")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--base-path",
    default=None,
    help="Prefix of the recorded paths before the spec's paths (e.g. /v1); detected when omitted.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON report on stdout instead of lines.")
def check_traffic_command(api: str, file: Path, base_path: str | None, as_json: bool) -> None:
    """Validate recorded exchanges (a HAR file, a schemathesis cassette, or a directory of them such as
    ``apitwin proxy --record`` writes) against API's spec.

    API is a shipped API's name or an OpenAPI file. Exit 1 when any exchange breaks the
    spec, 2 when the spec or the recording cannot be read.
    """
    try:
        document = specs.load(api)
        exchanges = read_recordings(file)
    except (SpecError, TrafficError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    name = api if specs.shipped(api) else Path(api).stem
    compiled = compile_api(name, document)
    if base_path is None:
        base_path = detect_base_path(compiled, (url_path(exchange.request.url) for exchange in exchanges))
    checker = TrafficChecker(compiled, _normalised(base_path))
    verdicts = [checker.check(exchange) for exchange in exchanges]
    summary = Summary.of(verdicts, checker.base_path)
    if as_json:
        click.echo(json.dumps(json_report(name, str(file), verdicts, summary), indent=2, ensure_ascii=False))
    else:
        for verdict in verdicts:
            for line in text_lines(verdict):
                click.echo(line)
        click.echo(summary.line())
    if summary.violating:
        sys.exit(1)


def _normalised(base_path: str) -> str:
    stripped = base_path.strip().strip("/")
    return "/" + stripped if stripped else ""
