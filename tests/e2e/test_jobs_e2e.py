"""Async jobs on a real ``apitwin serve``: survive restarts (SQLite, Redis) and are shared by workers (Redis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import API_KEY, serving

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MUSIC = {"model": "stable-audio", "prompt": "rain on a tin roof"}


WORKERS_START_SECONDS = 120
"""N worker processes each compile the specs: on a busy 2-core machine that takes a while."""


def poll(base: str, job_id: str) -> dict[str, Any]:
    # A new connection for every poll: with several workers, each may land on another process.
    with httpx.Client(base_url=base, headers=AUTH, timeout=10) as client:
        response = client.get("/v2/generate/audio", params={"generation_id": job_id})
    assert response.status_code == 200, response.text
    return response.json()


def create(base: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/v2/generate/audio", json=MUSIC, headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued"
    return response.json()


def assert_served_mp3(url: str) -> None:
    media = httpx.get(url, timeout=10)
    assert media.status_code == 200 and media.headers["content-type"] == "audio/mpeg"
    assert media.content[:2] == b"\xff\xfb"


def test_a_job_survives_a_restart_on_the_same_sqlite_file(tmp_path: Path) -> None:
    state = ["--state", f"sqlite:///{tmp_path / 'state.db'}", "--job-polls", "1"]
    with serving("aimlapi", *state) as base:
        job = create(base)
        assert poll(base, job["id"])["status"] == "generating"
    with serving("aimlapi", *state) as base:
        finished = poll(base, job["id"])
        assert finished["status"] == "completed"
        assert finished["audio_file"]["url"].startswith(f"{base}/_apitwin/media/")
        assert_served_mp3(finished["audio_file"]["url"])
        missing = httpx.get(
            f"{base}/v2/generate/audio", params={"generation_id": "never-created"}, headers=AUTH, timeout=10
        )
        assert missing.status_code == 404 and set(missing.json()) >= {"message", "statusCode"}


def test_four_workers_share_jobs_through_redis_and_a_restart_loses_nothing(redis_url: str) -> None:
    state = ["--state", redis_url.rsplit("/", 1)[0] + "/3", "--job-polls", "2"]
    with serving("aimlapi", "--workers", "4", *state, start_seconds=WORKERS_START_SECONDS) as base:
        job = create(base)
        statuses = [poll(base, job["id"])["status"] for _ in range(3)]
        assert statuses == ["queued", "generating", "generating"]
    with serving("aimlapi", *state) as base:
        finished = poll(base, job["id"])
        assert finished["status"] == "completed", finished
        assert_served_mp3(finished["audio_file"]["url"])


def test_batches_end_with_jsonl_results_and_a_finished_batch_refuses_cancel(tmp_path: Path) -> None:
    batch_request = {
        "requests": [
            {
                "custom_id": f"req-{n}",
                "params": {"model": "claude-3-5-haiku-20241022", "messages": [{"role": "user", "content": "Hi"}]},
            }
            for n in range(3)
        ]
    }
    with (
        serving("aimlapi", "--state", "memory", "--job-polls", "1") as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as client,
    ):
        batch = client.post("/v1/batches", json=batch_request).json()
        assert batch["processing_status"] == "in_progress"
        ended = client.get("/v1/batches", params={"batch_id": batch["id"]})
        assert ended.headers["content-type"].startswith("application/jsonl")
        assert [line.split('"custom_id": "')[1].split('"')[0] for line in ended.text.splitlines()] == [
            "req-0",
            "req-1",
            "req-2",
        ]
        refused = client.post(f"/v1/batches/cancel/{batch['id']}")
        assert refused.status_code == 400 and "already finished" in refused.json()["message"]


def test_the_sequrity_session_header_round_trips_over_http() -> None:
    with (
        serving("sequrity", "--state", "memory") as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as client,
    ):
        first = client.post("/control/chat/v1/responses", json={"model": "gpt-4o", "input": "Hi"})
        session = first.headers["x-session-id"]
        again = client.post(
            "/control/chat/v1/responses", json={"model": "gpt-4o", "input": "And?"}, headers={"X-Session-ID": session}
        )
        assert again.status_code == 200 and again.headers["x-session-id"] == session
