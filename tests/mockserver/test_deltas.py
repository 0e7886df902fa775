"""A generated stream's ``.done`` event carries what its ``.delta`` events joined to (OpenAI's transcription
stream: ``transcript.text.delta`` then ``transcript.text.done``), as the fuzzer's ``sse_deltas`` check expects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.deltas import DeltaJoiner


def event(kind: str, field: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", field],
        "properties": {"type": {"type": "string", "enum": [kind]}, field: {"type": "string"}},
    }


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "transcribe", "version": "1"},
    "paths": {
        "/transcribe": {
            "post": {
                "operationId": "transcribe",
                "responses": {
                    "200": {
                        "description": "events",
                        "content": {
                            "text/event-stream": {
                                "schema": {
                                    "oneOf": [
                                        event("transcript.text.delta", "delta"),
                                        event("transcript.text.done", "text"),
                                    ]
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}


def test_every_done_event_says_what_the_deltas_before_it_joined_to(tmp_path: Path) -> None:
    spec = tmp_path / "transcribe.json"  # a file goes through the pipeline, which frames the bare event union
    spec.write_text(json.dumps(SPEC))
    checked = 0
    for seed in range(40):
        answer = TestClient(create_app([spec], seed=seed, self_check=True)).post("/transcribe")
        assert answer.status_code == 200
        joined = ""
        for block in answer.text.strip().split("\n\n"):
            data = next(line[6:] for line in block.split("\n") if line.startswith("data: "))
            payload = json.loads(data)
            if payload["type"] == "transcript.text.delta":
                joined += payload["delta"]
            elif joined:
                assert payload["text"] == joined
                checked += 1
    assert checked >= 5  # enough streams had a delta before a done for the rule to be exercised


class _Rule:
    """A validator made of a predicate."""

    def __init__(self, rule: Callable[[Any], bool]) -> None:
        self.is_valid = rule


def test_a_done_is_left_alone_when_the_joined_text_would_break_its_schema() -> None:
    joiner = DeltaJoiner()
    joiner.settle({"type": "x.delta", "delta": "too long"}, _Rule(lambda payload: True))
    done = {"type": "x.done", "text": "ok"}
    assert joiner.settle(done, _Rule(lambda payload: len(payload["text"]) <= 4)) == done
    assert joiner.settle(done, _Rule(lambda payload: True)) == {"type": "x.done", "text": "too long"}
