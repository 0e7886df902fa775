"""Against the healthy mock, `apitwin fuzz` finds nothing, for every shipped API."""

from __future__ import annotations

import pytest

from apitwin.specs.catalogue import names
from tests.contracts.conftest import fuzz

APIS = ["aimlapi", "openai-responses", "openresponses", "lmdeploy", "lmdeploy-proxy", "sequrity"]


def test_every_shipped_api_is_covered():
    assert sorted(APIS) == sorted(names())


@pytest.mark.e2e
@pytest.mark.parametrize("api", APIS)
def test_fuzz_finds_nothing_wrong_with_the_mock(api, mock_url):
    result = fuzz(api, "--base-url", mock_url(api), "--max-examples", "4", "--seed", "1", "--max-requests", "400")
    assert result.exit_code == 0, result.output[-6000:]
    assert "no failures" in result.output
