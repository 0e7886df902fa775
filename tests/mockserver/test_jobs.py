"""Async jobs, served media and header sessions, in-process: lifecycles keyed on ``x-apitwin-job``."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours import jobs
from apitwin.mockserver.cli import serve_command
from apitwin.mockserver.operations import compile_api
from apitwin.mockserver.state.scoped import scope_for, scoped_key
from apitwin.specs.validation import SchemaChecker

AUTH = {"Authorization": "Bearer test-key"}
VIDEO = {
    "model": "klingai/avatar-pro",
    "image_url": "https://example.com/face.png",
    "audio_url": "https://example.com/voice.mp3",
}
BATCH = {
    "requests": [
        {
            "custom_id": "first",
            "params": {"model": "claude-3-5-haiku-20241022", "messages": [{"role": "user", "content": "Hi"}]},
        },
        {
            "custom_id": "second",
            "params": {"model": "claude-3-5-haiku-20241022", "messages": [{"role": "user", "content": "Bye"}]},
        },
    ]
}


def aiml(**options: Any) -> TestClient:
    return TestClient(create_app(["aimlapi"], self_check=True, api_key="test-key", **options))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return specs.load("aimlapi")


def schema_of(
    document: dict[str, Any], path: str, method: str, status: str, media: str = "application/json"
) -> dict[str, Any]:
    response = document["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response["content"][media]["schema"]


def assert_valid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    assert SchemaChecker(document).error(schema, value) is None, value


def lifecycle(document: dict[str, Any], path: str) -> dict[str, Any]:
    return document["paths"][path]["post"]["x-apitwin-job"]


def poll_until_finished(
    client: TestClient, url: str, params: dict[str, str] | None = None, *, limit: int = 30
) -> list[Any]:
    answers = []
    for _ in range(limit):
        response = client.get(url, params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        answers.append(response)
        if response.headers["content-type"].startswith("application/jsonl") or response.json().get("status") in (
            "completed",
            "succeeded",
            "error",
        ):
            return answers
    pytest.fail(f"{url} did not finish in {limit} polls")


def test_video_job_walks_the_documented_statuses_and_serves_an_mp4(document: dict[str, Any]) -> None:
    client = aiml(job_polls=2)
    created = client.post("/v2/video/generations", json=VIDEO, headers=AUTH)
    assert created.status_code == 200
    job = created.json()
    assert job["status"] == "queued" and not job.get("video")
    assert_valid(document, schema_of(document, "/v2/video/generations", "post", "200"), job)

    answers = poll_until_finished(client, "/v2/video/generations", {"generation_id": job["id"]})
    statuses = [answer.json()["status"] for answer in answers]
    assert statuses == ["queued", "generating", "generating", "completed"]  # the path the vendor's loops expect
    poll_schema = schema_of(document, "/v2/video/generations", "get", "200")
    for answer in answers:
        assert_valid(document, poll_schema, answer.json())
        assert answer.json()["id"] == job["id"]
    assert all(not answer.json().get("video") for answer in answers[:-1])

    url = answers[-1].json()["video"]["url"]
    assert url.startswith("http://testserver/_apitwin/media/") and url.endswith(".mp4")
    video = client.get(url)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    assert (
        client.get("/v2/video/generations", params={"generation_id": job["id"]}, headers=AUTH).json()
        == answers[-1].json()
    )


def test_each_step_of_the_lifecycle_is_in_the_spec(document: dict[str, Any]) -> None:
    job = lifecycle(document, "/v2/generate/audio")
    client = aiml(job_polls=1)
    created = client.post(
        "/v2/generate/audio", json={"model": "stable-audio", "prompt": "rain on a roof"}, headers=AUTH
    )
    assert created.json()["status"] == job["pending"][0]
    answers = poll_until_finished(client, "/v2/generate/audio", {"generation_id": created.json()["id"]})
    assert [answer.json()["status"] for answer in answers] == [*job["pending"][1:], job["done"][0]]
    url = answers[-1].json()["audio_file"]["url"]
    audio = client.get(url)
    assert audio.headers["content-type"] == "audio/mpeg" and audio.content[:2] == b"\xff\xfb"


def test_speech_to_text_polls_by_path_parameter_until_a_result(document: dict[str, Any]) -> None:
    client = aiml(job_polls=1)
    created = client.post(
        "/v1/stt/create", json={"model": "#g1_nova-2-general", "url": "https://example.com/a.mp3"}, headers=AUTH
    )
    assert created.status_code == 201 and set(created.json()) == {"generation_id"}
    generation_id = created.json()["generation_id"]
    answers = poll_until_finished(client, f"/v1/stt/{generation_id}")
    schema = schema_of(document, "/v1/stt/{generation_id}", "get", "200")
    for answer in answers:
        assert_valid(document, schema, answer.json())
        assert answer.json()["generation_id"] == generation_id
    assert answers[-1].json()["status"] == "completed" and answers[-1].json()["result"]
    assert all(answer.json().get("result") is None for answer in answers[:-1])


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_job_progress_by_time(document: dict[str, Any]) -> None:
    clock = FakeClock()
    client = aiml(job_polls=0, job_seconds=0.3, clock=clock)
    job = client.post("/v2/generate/audio", json={"model": "stable-audio", "prompt": "wind"}, headers=AUTH).json()

    def status() -> str:
        return client.get("/v2/generate/audio", params={"generation_id": job["id"]}, headers=AUTH).json()["status"]

    assert status() == status() == "queued"
    clock.now += 0.29
    assert status() == "queued"
    clock.now += 0.02
    assert status() == "generating"
    clock.now += 0.3
    assert status() == "completed"


@pytest.mark.parametrize(
    ("method", "url", "params"),
    [
        ("GET", "/v2/video/generations", {"generation_id": "no-such-job"}),
        ("GET", "/v2/generate/audio", {"generation_id": "no-such-job"}),
        ("GET", "/v1/stt/no-such-job", None),
        ("GET", "/v2/generate/video/luma-ai/generation", {"generation_id": "no-such-job"}),
        ("GET", "/v1/batches", {"batch_id": "no-such-batch"}),
        ("GET", "/batches", {"batch_id": "no-such-batch"}),
        ("POST", "/v1/batches/cancel/no-such-batch", None),
    ],
)
def test_unknown_ids_are_404_in_the_apis_own_error_shape(
    document: dict[str, Any], method: str, url: str, params: dict[str, str] | None
) -> None:
    response = aiml().request(method, url, params=params, headers=AUTH)
    assert response.status_code == 404
    body = response.json()
    assert_valid(document, document["components"]["schemas"]["Error"], body)
    assert "no-such" in body["message"] and str(body["statusCode"]) == "404"


def test_a_job_of_one_server_is_unknown_to_another_with_its_own_memory() -> None:
    job = aiml().post("/v2/video/generations", json=VIDEO, headers=AUTH).json()
    assert aiml().get("/v2/video/generations", params={"generation_id": job["id"]}, headers=AUTH).status_code == 404


def test_luma_job_without_a_documented_body_answers_empty_for_a_known_id() -> None:
    client = aiml()
    created = client.post(
        "/v2/generate/video/luma-ai/generation", json={"model": "ray-2", "prompt": "a cat"}, headers=AUTH
    )
    assert created.status_code == 201, created.text
    known = client.get(
        "/v2/generate/video/luma-ai/generation", params={"generation_id": created.json()["id"]}, headers=AUTH
    )
    assert known.status_code == 200 and known.content == b""


def test_batch_results_are_jsonl_lines_for_the_requested_custom_ids(document: dict[str, Any]) -> None:
    client = aiml(job_polls=2)
    created = client.post("/v1/batches", json=BATCH, headers=AUTH)
    assert created.status_code == 201
    batch = created.json()
    assert batch["processing_status"] == "in_progress" and batch["type"] == "message_batch"
    pending = client.get("/v1/batches", params={"batch_id": batch["id"]}, headers=AUTH)
    assert pending.headers["content-type"].startswith("application/json")
    assert pending.json()["processing_status"] == "in_progress" and pending.json()["id"] == batch["id"]
    assert pending.json().get("ended_at") is None and pending.json().get("results_url") is None

    ended = client.get("/v1/batches", params={"batch_id": batch["id"]}, headers=AUTH)
    assert ended.headers["content-type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in ended.text.splitlines()]
    assert [line["custom_id"] for line in lines] == ["first", "second"]
    line_schema = schema_of(document, "/v1/batches", "get", "200", "application/jsonl")
    for line in lines:
        assert_valid(document, line_schema, line)


def test_batch_cancel_moves_to_canceling_then_ends_and_a_finished_batch_refuses(document: dict[str, Any]) -> None:
    client = aiml(job_polls=3)
    batch = client.post("/batches", json=BATCH, headers=AUTH).json()  # the unversioned alias shares the jobs
    cancelled = client.post(f"/v1/batches/cancel/{batch['id']}", headers=AUTH)
    assert cancelled.status_code == 201
    body = cancelled.json()
    assert body["processing_status"] == "canceling" and body["id"] == batch["id"] and body["cancel_initiated_at"]
    assert_valid(document, schema_of(document, "/v1/batches/cancel/{batch_id}", "post", "201"), body)
    again = client.post(f"/batches/cancel/{batch['id']}", headers=AUTH)
    assert again.status_code == 201 and again.json()["processing_status"] == "canceling"

    answers = poll_until_finished(client, "/batches", {"batch_id": batch["id"]})
    assert [a.json()["processing_status"] for a in answers[:-1]] == ["canceling"] * (len(answers) - 1)
    assert answers[-1].headers["content-type"].startswith("application/jsonl")

    refused = client.post(f"/v1/batches/cancel/{batch['id']}", headers=AUTH)
    assert refused.status_code == 400
    assert "already finished" in refused.json()["message"]
    assert_valid(document, document["components"]["schemas"]["Error"], refused.json())


def test_prefer_code_still_answers_the_declared_error_instead_of_the_job() -> None:
    response = aiml().get(
        "/v2/video/generations", params={"generation_id": "anything"}, headers={**AUTH, "Prefer": "code=429"}
    )
    assert response.status_code == 429


def test_jobs_survive_a_restart_on_the_same_sqlite_file(tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    with aiml(state=state, job_polls=1) as first:
        job = first.post("/v2/generate/audio", json={"model": "stable-audio", "prompt": "waves"}, headers=AUTH).json()
        assert (
            first.get("/v2/generate/audio", params={"generation_id": job["id"]}, headers=AUTH).json()["status"]
            == "generating"
        )
    with aiml(state=state, job_polls=1) as second:
        finished = second.get("/v2/generate/audio", params={"generation_id": job["id"]}, headers=AUTH).json()
        assert finished["status"] == "completed"
        assert second.get(finished["audio_file"]["url"]).status_code == 200


def test_media_urls_of_unknown_names_are_404_and_only_get_is_allowed() -> None:
    client = aiml()
    assert client.get("/_apitwin/media/unknown.mp4").status_code == 404
    assert client.post("/_apitwin/media/unknown.mp4").status_code == 405


def test_served_wav_and_png_builders_decode() -> None:
    from apitwin.mockserver import media

    with wave.open(io.BytesIO(media.wav())) as reader:
        assert reader.getnframes() > 0
    assert media.png().startswith(b"\x89PNG")


def test_lifecycles_are_read_from_the_extension_not_from_paths(document: dict[str, Any]) -> None:
    renamed = json.loads(json.dumps(document))
    renamed["paths"]["/v9/clips"] = renamed["paths"].pop("/v2/video/generations")
    renamed["paths"]["/v9/clips"]["post"]["x-apitwin-job"]["poll"]["path"] = "/v9/clips"
    client = TestClient(create_app({"renamed": renamed}, self_check=True))
    job = client.post("/v9/clips", json=VIDEO, headers=AUTH).json()
    answers = poll_until_finished(client, "/v9/clips", {"generation_id": job["id"]})
    assert answers[-1].json()["video"]["url"].endswith(".mp4")
    compiled = client.app.server.apis["renamed"]  # type: ignore[attr-defined]
    assert [lc.create for lc in jobs._lifecycles(compiled)].count("/v9/clips") == 1


# --- sessions ---------------------------------------------------------------------------------

SEQURITY_REQUEST = {"model": "gpt-4o", "input": "Hello"}


def test_sequrity_session_is_returned_continued_and_renewed_when_unknown() -> None:
    app = create_app(["sequrity"], self_check=True, api_key="test-key")
    client = TestClient(app)
    first = client.post("/control/chat/v1/responses", json=SEQURITY_REQUEST, headers=AUTH)
    session = first.headers["x-session-id"]
    assert first.status_code == 200 and session
    continued = client.post(
        "/control/chat/v1/responses", json=SEQURITY_REQUEST, headers={**AUTH, "X-Session-ID": session}
    )
    assert continued.headers["x-session-id"] == session
    streamed = client.post(
        "/control/code/openai/v1/responses",
        json={**SEQURITY_REQUEST, "stream": True},
        headers={**AUTH, "X-Session-ID": session},
    )
    assert streamed.status_code == 200 and streamed.headers["x-session-id"] == session
    unknown = client.post(
        "/control/chat/v1/responses", json=SEQURITY_REQUEST, headers={**AUTH, "X-Session-ID": "never-issued"}
    )
    assert unknown.status_code == 200
    assert unknown.headers["x-session-id"] not in ("never-issued", session)
    server = app.server
    import asyncio

    key = scoped_key(scope_for("sequrity", AUTH["Authorization"]), f"sequrity\x1f{session}")
    record = asyncio.run(server.store.inner.get("session", key))
    assert record["turns"] == 3


def test_a_fresh_request_starts_a_new_session_each_time() -> None:
    client = TestClient(create_app(["sequrity"], self_check=True))
    ids = {
        client.post("/control/chat/v1/responses", json=SEQURITY_REQUEST, headers=AUTH).headers["x-session-id"]
        for _ in range(3)
    }
    assert len(ids) == 3


def test_job_path_option_replaces_the_overlays_path() -> None:
    client = aiml(job_polls=1, job_paths={"/v2/video/generations": ["queued", "generating", "waiting", "active"]})
    created = client.post("/v2/video/generations", json=VIDEO, headers=AUTH)
    answers = poll_until_finished(client, "/v2/video/generations", {"generation_id": created.json()["id"]})
    assert [answer.json()["status"] for answer in answers] == ["generating", "waiting", "active", "completed"]


def test_job_path_refuses_an_unknown_family_or_status() -> None:
    api = compile_api("aimlapi", specs.load("aimlapi"))
    jobs.check_job_paths([api], {"/v2/video/generations": ["queued", "active"]})  # documented statuses: accepted
    with pytest.raises(ValueError, match="/v9/nothing creates no job of the served APIs"):
        jobs.check_job_paths([api], {"/v9/nothing": ["queued"]})
    with pytest.raises(ValueError, match="dreaming is not a status its poll answers"):
        jobs.check_job_paths([api], {"/v2/video/generations": ["queued", "dreaming"]})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("queued,generating", "expected CREATE_PATH=STATUS"),
        ("/v2/video/generations=", "expected CREATE_PATH=STATUS"),
        ("/v2/video/generations=queued,dreaming", "dreaming is not a status its poll answers"),
    ],
)
def test_serve_refuses_a_bad_job_path_naming_the_option(value: str, message: str) -> None:
    result = CliRunner().invoke(serve_command, ["aimlapi", "--state", "memory", "--port", "1", "--job-path", value])
    assert result.exit_code == 2, result.output
    assert "--job-path" in result.output and message in " ".join(result.output.split())
