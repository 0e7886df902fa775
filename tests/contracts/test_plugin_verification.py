"""WireMock-style verification run the way client teams run it: a test file in a fresh pytest session."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]

VERIFYING = """
import httpx
import pytest

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}

@pytest.mark.apitwin(api="aimlapi")
def test_called_as_expected(apitwin_mock):
    httpx.post(apitwin_mock.url("/v1/chat/completions"), json=CHAT, headers=apitwin_mock.headers)
    [seen] = apitwin_mock.requests(operation="_v1_chat_completions")
    assert seen.body == CHAT and seen.status == 200
    apitwin_mock.assert_called("_v1_chat_completions", times=1, body_matches={"model": "gpt-4o"})

@pytest.mark.apitwin(api="aimlapi")
def test_called_with_another_model(apitwin_mock):
    httpx.post(apitwin_mock.url("/v1/chat/completions"), json=CHAT, headers=apitwin_mock.headers)
    apitwin_mock.assert_called("_v1_chat_completions", body_matches={"model": "o1"})
"""


def test_assert_called_passes_and_fails_with_a_readable_message(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(test_verifying=VERIFYING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_called_with_another_model _*",
            "E *AssertionError: apitwin: expected _v1_chat_completions to be called at least once with a body "
            'matching {"model": "o1"}; it was called 1 time(s), 0 matching',
            'E *#* POST /v1/chat/completions -> 200: /model: expected "o1", got "gpt-4o"',
        ]
    )
