"""``@pytest.mark.apitwin(api=..., replay="tests/recordings")``: a client test answered from recordings."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

RECORDED = {
    "id": "chatcmpl-recorded",
    "object": "chat.completion",
    "created": 1,
    "model": "internlm2",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "recorded hello"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
}

CLIENT_TESTS = """
import openai
import pytest

MESSAGES = [{"role": "user", "content": "Say hello"}]


@pytest.mark.apitwin(api="lmdeploy", replay="tests/recordings")
def test_answered_from_the_recording(apitwin_mock):
    client = openai.OpenAI(base_url=apitwin_mock.url("/v1"), api_key="k", max_retries=0)
    answer = client.chat.completions.create(model="internlm2", messages=MESSAGES, user="whoever")
    assert answer.choices[0].message.content == "recorded hello"


@pytest.mark.apitwin(api="lmdeploy", replay="tests/recordings", replay_strict=True)
def test_unrecorded_request_in_strict_mode(apitwin_mock):
    client = openai.OpenAI(base_url=apitwin_mock.url("/v1"), api_key="k", max_retries=0)
    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(model="internlm2", messages=[{"role": "user", "content": "other"}])
    # openai 3.x shows only error.message/message in the exception; LMDeploy's errors are `detail`s
    assert "body differs in messages" in str(refused.value.body)


@pytest.mark.apitwin(api="lmdeploy", replay="tests/nowhere")
def test_missing_recordings(apitwin_mock):
    pass
"""


def test_the_plugin_replays_recordings_relative_to_the_root(pytester: pytest.Pytester) -> None:
    recordings = pytester.path / "tests" / "recordings"
    recordings.mkdir(parents=True)
    entry = {
        "request": {
            "method": "POST",
            "url": "http://gateway/v1/chat/completions",
            "headers": [{"name": "content-type", "value": "application/json"}],
            "postData": {
                "mimeType": "application/json",
                "text": json.dumps({"model": "internlm2", "messages": [{"role": "user", "content": "Say hello"}]}),
            },
        },
        "response": {
            "status": 200,
            "headers": [{"name": "content-type", "value": "application/json"}],
            "content": {"mimeType": "application/json", "text": json.dumps(RECORDED)},
        },
    }
    (recordings / "one.har").write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    pytester.makepyfile(test_client=CLIENT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*tests/nowhere: no such file*"])
