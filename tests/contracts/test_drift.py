"""``apitwin specs drift``: recordings that show more than the spec says give a report and an overlay that,
applied, makes ``check-traffic`` pass on those recordings (and leaves no drift)."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner

from apitwin import specs
from apitwin.contracts.cli import main
from apitwin.contracts.proxy.record import Chunk, Recorder, WireExchange
from apitwin.contracts.sse import parse_events
from apitwin.mockserver.app import create_app
from apitwin.specs.overlay import apply_overlay

HEADERS = {"Authorization": "Bearer k", "Content-Type": "application/json"}


def without(node: Any, name: str) -> Any:
    """``node`` with the property ``name`` undeclared everywhere (as the seed vendors' documents have it)."""
    if isinstance(node, dict):
        result = {key: without(value, name) for key, value in node.items()}
        if isinstance(result.get("properties"), dict):
            result["properties"].pop(name, None)
        if isinstance(result.get("required"), list) and name in result["required"]:
            result["required"] = [item for item in result["required"] if item != name]
        return result
    if isinstance(node, list):
        return [without(item, name) for item in node]
    return node


def answers() -> list[tuple[dict[str, Any], httpx.Response]]:
    app = create_app(["openresponses"], state="memory")
    requests = [
        {"model": "gpt-4o", "input": "hi"},
        {"model": "gpt-4o", "input": "paused?"},
        {"model": "gpt-4o", "input": "stream", "stream": True},
    ]

    async def send() -> list[tuple[dict[str, Any], httpx.Response]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gw") as client:
            return [(body, await client.post("/v1/responses", json=body, headers=HEADERS)) for body in requests]

    return asyncio.run(send())


def with_heartbeat(stream: bytes) -> bytes:
    """A stream with an event type the union does not declare, sequence numbers kept rising."""
    events = [(event.name, json.loads(event.data)) for event in parse_events(stream)]
    events.insert(1, ("response.heartbeat", {"type": "response.heartbeat", "sequence_number": 0}))
    frames = []
    for number, (name, payload) in enumerate(events):
        payload["sequence_number"] = number
        frames.append((f"event: {name}\n" if name else "") + f"data: {json.dumps(payload)}\n\n")
    return "".join(frames).encode()


def record(directory: Path) -> None:
    recorder = Recorder(directory, "drift")
    for body, response in answers():
        content = response.content
        if body["input"] == "paused?":
            value = response.json()
            value["service_tier"] = "turbo"
            content = json.dumps(value).encode()
        if body.get("stream"):
            content = with_heartbeat(content)
        recorder.write(
            WireExchange(
                started=0.0,
                method="POST",
                url="http://gw/v1/responses",
                request_headers=list(HEADERS.items()),
                request_body=json.dumps(body).encode(),
                status=response.status_code,
                reason="OK",
                response_headers=[("content-type", response.headers["content-type"])],
                response_body=content,
                chunks=[Chunk(1.0, len(content))],
                wait_ms=1.0,
                total_ms=1.0,
            )
        )


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_drift_reports_what_the_spec_misses_and_its_overlay_makes_check_traffic_pass(tmp_path):
    recordings = tmp_path / "recordings"
    record(recordings)
    spec = tmp_path / "seed-openresponses.json"
    document = without(copy.deepcopy(specs.load("openresponses")), "cache_write_tokens")
    resource = document["components"]["schemas"]["ResponseResource"]
    resource["properties"]["moderation"] = {"type": "string"}  # required by the document, never sent
    resource["required"].append("moderation")
    spec.write_text(json.dumps(document))
    assert run("check-traffic", str(spec), str(recordings)).exit_code == 1

    draft = tmp_path / "drift.yaml"
    result = run("specs", "drift", str(spec), str(recordings), "--overlay", str(draft))
    assert result.exit_code == 1, result.output
    report = result.output
    assert "undocumented response fields" in report
    assert "application/json /usage/input_tokens_details/cache_write_tokens: integer ×2" in report
    assert '"turbo"' in report and "enum values outside the spec" in report
    assert "response.heartbeat" in report and "event types outside the stream's union" in report
    assert "event names outside the stream's declared names" in report
    assert "required fields never sent" in report and "/moderation: absent from all 2 objects seen" in report

    overlay = yaml.safe_load(draft.read_text())
    assert overlay["overlay"] == "1.0.0"
    assert all("drift-" in action["description"] for action in overlay["actions"]), "each action cites recordings"
    fixed = tmp_path / "fixed-openresponses.json"
    fixed.write_text(json.dumps(apply_overlay(document, overlay, name=str(draft))))
    passed = run("check-traffic", str(fixed), str(recordings))
    assert passed.exit_code == 0, passed.output
    again = run("specs", "drift", str(fixed), str(recordings))
    assert again.exit_code == 0 and "nothing the spec does not say" in again.output, again.output
