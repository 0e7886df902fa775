"""The dashboard on ``apitwin proxy``: the same page and journal routes over the exchanges it forwarded, and the
same access rules as the mock."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.contracts.proxy.app import ProxyApp, ProxyOptions
from apitwin.contracts.proxy.cli import proxy_command
from apitwin.contracts.proxy.journal import Journal
from apitwin.contracts.proxy.judge import Judge
from apitwin.mockserver.operations import compile_api
from tests.contracts.conftest import mock_url  # noqa: F401  (session fixture: one mock per API)
from tests.e2e.conftest import API_KEY
from tests.e2e.proxying import proxy_in_thread

pytestmark = pytest.mark.e2e

CHAT = {"model": "internlm2", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 40}
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
TOKEN = "proxy-admin-token-0123"


def test_the_proxy_serves_the_dashboard_over_its_journal(mock_url):  # noqa: F811
    upstream = mock_url("lmdeploy")
    with proxy_in_thread("lmdeploy", upstream) as proxy:
        assert httpx.post(f"{proxy.url}/v1/chat/completions", json=CHAT, headers=HEADERS).status_code == 200
        streamed = httpx.post(f"{proxy.url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=HEADERS)
        assert streamed.status_code == 200
        proxy.settled(2)
        page = httpx.get(f"{proxy.url}/_apitwin/")
        assert page.status_code == 200 and "EventSource" in page.text
        plain, stream = httpx.get(f"{proxy.url}/_apitwin/requests").json()
        assert (plain["source"], plain["api"], plain["status"], plain["verdict"]) == ("proxy", "lmdeploy", 200, "valid")
        assert plain["operation"] and '"Say hello"' in plain["request"]["body"]["text"]
        assert ["authorization", "Bearer [masked]"] in plain["request"]["headers"] and API_KEY not in str(plain)
        assert "".join(event["data"] for event in stream["response"]["events"]) == streamed.text
        streams = httpx.get(f"{proxy.url}/_apitwin/requests", params={"since": plain["sequence"]}).json()
        assert [entry["sequence"] for entry in streams] == [stream["sequence"]]
        coverage = httpx.get(f"{proxy.url}/_apitwin/coverage").json()["lmdeploy"]
        assert coverage["called"] == 1
        assert httpx.get(f"{proxy.url}/_apitwin/settings").status_code == 404  # the mock's, not the proxy's


def test_the_proxys_dashboard_asks_for_its_token() -> None:
    app = ProxyApp(
        Judge(compile_api("lmdeploy", specs.load("lmdeploy"))),
        Journal("lmdeploy", "http://127.0.0.1:9"),
        ProxyOptions("http://127.0.0.1:9", admin_token=TOKEN),
    )
    client = TestClient(app)
    refused = client.get("/_apitwin/requests")
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "admin_token_required"
    assert client.get("/_apitwin/requests", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/_apitwin/requests", headers={"Authorization": f"Bearer {TOKEN}"}).json() == []


def test_the_proxy_refuses_a_public_address_without_a_token() -> None:
    result = CliRunner().invoke(proxy_command, ["lmdeploy", "--upstream", "http://127.0.0.1:9", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--admin-token" in result.output and "not a loopback address" in result.output
