"""Record through ``apitwin proxy``, stop the upstream, replay with ``apitwin serve --replay``: the same answers."""

from __future__ import annotations

import json

import openai
import pytest

from tests.e2e.conftest import API_KEY, serving
from tests.e2e.proxying import proxy_in_thread

pytestmark = pytest.mark.e2e

MESSAGES = [{"role": "user", "content": "Say hello"}]


def conversation(client: openai.OpenAI, user: str) -> tuple[dict, list[dict]]:
    answer = client.chat.completions.create(model="internlm2", messages=MESSAGES, max_tokens=30, user=user)
    chunks = client.chat.completions.create(
        model="internlm2",
        messages=MESSAGES,
        max_tokens=30,
        stream=True,
        stream_options={"include_usage": True},
        user=user,
    )
    return answer.model_dump(), [chunk.model_dump() for chunk in chunks]


def test_recorded_answers_come_back_from_the_replay_with_the_upstream_gone(tmp_path):
    recordings = tmp_path / "recordings"
    # seed 7 upstream, seed 0 replayer: only a replay can give the seed-7 answers back
    with (
        serving("lmdeploy", "--seed", "7") as upstream,
        proxy_in_thread("lmdeploy", upstream, record=recordings) as proxy,
    ):
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=API_KEY, max_retries=0)
        recorded = conversation(client, user="recording-run")
        proxy.settled(2)
    assert len(list(recordings.glob("*.har"))) == 2

    with serving("lmdeploy", "--replay", str(recordings), "--replay-pace", "none", "--replay-strict") as replayer:
        client = openai.OpenAI(base_url=f"{replayer}/v1", api_key=API_KEY, max_retries=0)
        assert conversation(client, user="another-user") == recorded  # `user` is on the ignore-list
        with pytest.raises(openai.NotFoundError) as refused:
            client.chat.completions.create(model="internlm2", messages=MESSAGES, max_tokens=31)
        # openai 3.x puts only an `error.message`/`message` in the exception text; LMDeploy's errors are `detail`s
        assert "nearest recorded requests" in json.dumps(refused.value.body)
    with serving("lmdeploy") as fresh:
        generated = conversation(openai.OpenAI(base_url=f"{fresh}/v1", api_key=API_KEY, max_retries=0), user="x")
    assert generated[0]["id"] != recorded[0]["id"]
