"""An answer's one random source: what decides it and what does not."""

from __future__ import annotations

import json
from typing import Any

from apitwin.mockserver.operations import answer_random

PATH = "/v1/chat/completions"
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.5}


def _draws(body: Any, seed: int = 0, raw: bytes | None = None, parsed: bool = True) -> bytes:
    raw = json.dumps(body).encode() if raw is None else raw
    return answer_random(seed, "POST", PATH, "", raw, body if parsed else None).randbytes(16)


def test_delivery_fields_and_key_order_do_not_change_it() -> None:
    streamed = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    reordered = dict(reversed(list(BODY.items())))
    assert _draws(streamed) == _draws(BODY) == _draws(reordered)


def test_the_seed_the_request_and_the_path_change_it() -> None:
    other_prompt = {**BODY, "messages": [{"role": "user", "content": "Ho"}]}
    assert len({_draws(BODY), _draws(BODY, seed=1), _draws(other_prompt)}) == 3
    elsewhere = answer_random(0, "POST", "/v1/completions", "", b"{}", BODY).randbytes(16)
    assert elsewhere != _draws(BODY)


def test_a_body_json_did_not_give_counts_as_its_bytes() -> None:
    """A form or an upload: two different files with the same fields must not get the same answer."""
    fields = {"purpose": "batch", "file": "batch.jsonl"}
    one = _draws(fields, raw=b"--x\r\nfile one\r\n--x--", parsed=False)
    two = _draws(fields, raw=b"--x\r\nfile two\r\n--x--", parsed=False)
    assert one != two
    huge = {"n": 2**70}  # beyond what orjson writes: the bytes it arrived as count
    assert _draws(huge, raw=b'{"n": 1180591620717411303424}') != _draws(huge, raw=b'{"n":1180591620717411303424}')
