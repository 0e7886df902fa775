"""The pytest plugin, run the way client teams run it: test files in a fresh pytest session (pytester).

Each inner session serves the mock on loopback (uvicorn in a thread) and drives it with real
clients: httpx, the ``openai`` SDK, and the example clients written to be wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _inner_sessions_import_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner sessions run as subprocesses that import the example clients. (In-process ones would
    leave modules they imported first half-replaced here: pytester restores ``sys.modules``.)"""
    monkeypatch.setenv("PYTHONPATH", str(REPO))


INNER = ("-p", "no:cacheprovider", "--strict-markers")
"""``--strict-markers``: the ``apitwin`` marker must be registered by the plugin."""


WRONG_CLIENTS = """
import pytest
from tests.contracts.example_clients import chat_requests

@pytest.mark.apitwin(api="aimlapi")
@pytest.mark.parametrize(
    "client",
    [
        chat_requests.max_tokens_as_string,
        chat_requests.unknown_model,
        chat_requests.missing_messages,
        chat_requests.correct,
    ],
)
def test_client(apitwin_mock, client):
    client(apitwin_mock.base_url, apitwin_mock.api_key)
"""


OPENAI_SDK = """
import openai
import pytest
from tests.contracts.example_clients import openai_chat

@pytest.mark.apitwin(api="aimlapi", seed=3)
def test_sdk_used_as_documented(apitwin_mock):
    client = openai_chat.client_for(apitwin_mock.base_url, apitwin_mock.api_key)
    assert isinstance(openai_chat.ask(client, "gpt-4o"), str)
    assert [record.status for record in apitwin_mock.requests] == [200]

@pytest.mark.apitwin(api="aimlapi")
def test_sdk_given_a_string_limit(apitwin_mock):
    client = openai_chat.client_for(apitwin_mock.base_url, apitwin_mock.api_key)
    client.chat.completions.create(model="gpt-4o", messages=openai_chat.MESSAGES, max_tokens="10")
"""


def test_wrong_clients_fail_naming_the_field_and_the_openai_sdk_used_correctly_passes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_wrong_clients=WRONG_CLIENTS, test_openai_sdk=OPENAI_SDK)
    result = pytester.runpytest_subprocess(*INNER)
    result.assert_outcomes(failed=4, passed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_sdk_given_a_string_limit _*",
            # The client raised first (the mock answered 400 as the gateway would); the violations ride along as a note.
            "E *openai.BadRequestError: Error code: 400*",
            "E *apitwin: 1 request(s) broke the aimlapi spec*",
            "E *body/max_tokens: *10* is not of type *number*",
            "*_ test_client[[]max_tokens_as_string[]] _*",
            "apitwin: 1 request(s) broke the aimlapi spec (1 violation(s)):",
            "  POST /v1/chat/completions [[]_v1_chat_completions[]] -> 400",
            '    body/max_tokens: *10* is not of type *number* (expected type *number*, received "10")',
            "*_ test_client[[]unknown_model[]] _*",
            '    body/model: "gpt-4o-turbo-typo" is not one of the 174 accepted values: *(expected one of 174 values, '
            'received "gpt-4o-turbo-typo")',
            "*_ test_client[[]missing_messages[]] _*",
            "    body*: *messages* is a required property (expected required *messages*)",
            "*= apitwin contract violations =*",
            "*test_sdk_given_a_string_limit: failed the test (strict)",
            "*test_client[[]max_tokens_as_string[]]: failed the test (strict)",
            "*test_client[[]unknown_model[]]: failed the test (strict)",
            "*test_client[[]missing_messages[]]: failed the test (strict)",
            "apitwin: violations in 4 test(s)",
        ]
    )
    output = result.stdout.str()
    assert "test_client[correct]: failed" not in output and "test_sdk_used_as_documented: failed" not in output


MODES = """
import asyncio
import httpx
import pytest
from tests.contracts.example_clients import chat_requests

@pytest.mark.apitwin(api="aimlapi", strict=False)
def test_not_strict_records_only(apitwin_mock):
    response = chat_requests.max_tokens_as_string(apitwin_mock.base_url, apitwin_mock.api_key)
    assert response.status_code == 400
    assert [(v.location, v.pointer, v.keyword) for v in apitwin_mock.violations] == [("body", "/max_tokens", "type")]

@pytest.mark.apitwin(api="aimlapi", reject_invalid=False)
def test_answered_as_if_valid_but_still_failed(apitwin_mock):
    response = chat_requests.max_tokens_as_string(apitwin_mock.base_url, apitwin_mock.api_key)
    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"

@pytest.mark.apitwin(api="aimlapi", strict=False)
def test_log_starts_empty_for_each_test(apitwin_mock):
    assert apitwin_mock.requests == []
    httpx.get(apitwin_mock.url("/v1/no-such-thing"), headers=apitwin_mock.headers)
    httpx.post(
        apitwin_mock.url("/v1/chat/completions"),
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    )
    seen = [(r.status, [v.location for v in r.violations]) for r in apitwin_mock.requests]
    assert seen == [(404, ["path"]), (401, ["auth"])]

def test_factory_in_process_and_loopback(apitwin_mock_factory):
    aiml = apitwin_mock_factory("aimlapi", seed=1)
    local = apitwin_mock_factory("lmdeploy")

    async def in_process():
        async with httpx.AsyncClient(transport=aiml.transport, base_url="http://apitwin") as client:
            body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "10"}
            return await client.post("/v1/chat/completions", json=body, headers=aiml.headers)

    assert asyncio.run(in_process()).status_code == 400
    good = httpx.post(
        local.url("/v1/chat/completions"),
        json={"model": "internlm2", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert good.status_code == 200
    assert len(aiml.requests) == 1 and len(local.requests) == 1 and local.violations == []
"""


USAGE = """
import pytest

def test_without_marker(apitwin_mock):
    pass

@pytest.mark.apitwin(api="aimlapi", colour="blue")
def test_unknown_option(apitwin_mock):
    pass

@pytest.mark.apitwin(api="aimlapi", responses="recorded")
def test_unknown_mode(apitwin_mock):
    pass
"""


def test_modes_in_process_transport_factory_and_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_modes=MODES, test_usage=USAGE)
    result = pytester.runpytest_subprocess(*INNER)
    result.assert_outcomes(failed=2, passed=2, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*apitwin_mock needs @pytest.mark.apitwin(api='<name>')*",
            "*unknown apitwin option(s) colour; known: api_key, reject_invalid, replay, replay_strict, responses, "
            "seed,*",
            "*responses='recorded': expected one of generate, hypothesis*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_answered_as_if_valid_but_still_failed _*",
            "  POST /v1/chat/completions [[]_v1_chat_completions[]] -> 200",
            "    body/max_tokens: *10* is not of type *number*",
            "*_ test_factory_in_process_and_loopback _*",
            "apitwin: 1 request(s) broke the aimlapi spec (1 violation(s)):",
            "*= apitwin contract violations =*",
            "*test_not_strict_records_only: recorded (strict=False)",
            "*test_log_starts_empty_for_each_test: recorded (strict=False)",
            "    GET /v1/no-such-thing [[]no operation[]] -> 404",
            "      path: no operation at GET /v1/no-such-thing",
            "    POST /v1/chat/completions [[]_v1_chat_completions[]] -> 401",
            "      auth: *",
        ]
    )


HYPOTHESIS = """
import pytest
from hypothesis import given
from apitwin.contracts.strategies import client_settings, responses
from tests.contracts.example_clients import openai_chat

CHAT = responses("lmdeploy", "post_v1_chat_completions")

@pytest.fixture
def chat(apitwin_mock):
    return openai_chat.client_for(apitwin_mock.base_url, apitwin_mock.api_key)

@pytest.mark.apitwin(api="lmdeploy", responses="hypothesis")
@client_settings(max_examples=60, database=None, derandomize=True)
@given(answer=CHAT)
def test_naive_client(apitwin_mock, chat, answer):
    apitwin_mock.answer_with(answer)
    openai_chat.shout_reply_naive(chat, "internlm2")

@pytest.mark.apitwin(api="lmdeploy", responses="hypothesis")
@client_settings(max_examples=60, database=None, derandomize=True)
@given(answer=CHAT)
def test_careful_client(apitwin_mock, chat, answer):
    apitwin_mock.answer_with(answer)
    openai_chat.shout_reply_careful(chat, "internlm2")

@pytest.mark.apitwin(api="lmdeploy", responses="hypothesis")
def test_answer_not_set(apitwin_mock, chat):
    openai_chat.shout_reply_naive(chat, "internlm2")
"""


def test_hypothesis_mode_shrinks_a_crash_on_null_content_and_passes_a_careful_client(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(HYPOTHESIS)
    result = pytester.runpytest_subprocess(*INNER)
    result.assert_outcomes(failed=2, passed=1)
    failures = _failure_blocks(result.stdout.str())
    # The crash on a null content, shown with the shrunk response that causes it.
    null_content = failures["AttributeError: 'NoneType' object has no attribute 'upper'"]
    assert "Failing test case: test_naive_client(" in null_content
    assert "answer=DrawnResponse(status=200," in null_content and "'content': None" in null_content
    # An empty ``choices`` array is allowed too, and so is the 422 the spec declares: both caught.
    assert "'choices': []" in failures["IndexError: list index out of range"]
    assert "status=422" in failures["openai.UnprocessableEntityError: Error code: 422"]
    # A request in hypothesis mode with no answer chosen is refused loudly, saying what to do, whatever the
    # client shows of the 500 (openai 3 shows only its status).
    result.stdout.fnmatch_lines(
        ["*InternalServerError*", "*no answer was set for POST /v1/chat/completions*answer_with*"]
    )


def _failure_blocks(output: str) -> dict[str, str]:
    """Hypothesis's distinct failures, each block keyed by the exception line it contains."""
    blocks = {}
    for block in output.split("+---------------- ")[1:]:
        for line in block.splitlines():
            text = line.strip(" |")
            if text.startswith(("AttributeError:", "IndexError:", "openai.")):
                blocks[text.split(" - ")[0]] = block
    return blocks
