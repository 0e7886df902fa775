"""``apitwin specs drift``: what recorded traffic shows that a spec does not say.

It belongs to the ``specs`` command group but judges recordings with the contracts' machinery, so it is
added to that group here: the specs package never imports contracts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from apitwin import specs
from apitwin.specs.cli import reports_spec_errors, specs_group


@click.command("drift")
@click.argument("api")
@click.argument("recordings", type=click.Path(path_type=Path))
@click.option(
    "--overlay",
    "overlay_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write an OpenAPI Overlay 1.0 draft (YAML) here: each action cites its recordings; review it, "
    "then move it into specs/overlays/<api>.yaml.",
)
@click.option("--json", "as_json", is_flag=True, help="The observations as JSON on stdout.")
@reports_spec_errors
def drift_command(api: str, recordings: Path, overlay_path: Path | None, as_json: bool) -> None:
    """What RECORDINGS (a HAR file, a cassette, or a directory such as apitwin proxy --record writes) show
    that API's spec does not say: undocumented fields, enum values, required fields never sent, event types,
    statuses and content types. Exit 1 when they show any, 2 when the spec or the recordings cannot be read."""

    from apitwin.contracts.traffic.drift import DriftFinder
    from apitwin.contracts.traffic.drift_report import overlay, text_lines
    from apitwin.mockserver.operations import compile_api
    from apitwin.recordings.records import TrafficError, read_recordings

    document = specs.load(api)
    try:
        exchanges = read_recordings(recordings)
    except TrafficError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    name = api if specs.shipped(api) else Path(api).stem
    drift = DriftFinder(compile_api(name, document)).run(exchanges)
    if as_json:
        rows = [
            {
                "kind": item.kind,
                "operation": item.operation,
                "where": item.where,
                "pointer": item.pointer,
                "value": item.value,
                "types": dict(item.types),
                "count": item.count,
                "recordings": item.sources,
            }
            for item in drift.observations
        ]
        click.echo(json.dumps({"api": name, "exchanges": drift.exchanges, "drift": rows}, indent=2, default=str))
    else:
        for line in text_lines(drift, str(recordings)):
            click.echo(line)
    if overlay_path is not None and drift.observations:
        draft = overlay(drift, document)
        overlay_path.write_text(yaml.safe_dump(draft, sort_keys=False, allow_unicode=True), encoding="utf-8")
        click.echo(f"overlay draft: {overlay_path} ({len(draft['actions'])} actions)", err=True)
    if drift.observations:
        sys.exit(1)


specs_group.add_command(drift_command)
