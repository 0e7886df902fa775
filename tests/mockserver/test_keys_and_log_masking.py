"""`--api-key` on every API, `--admin-key` and the masked request log, `--state` spelled out, CLI ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.cli import serve_command
from apitwin.mockserver.state import describe_store
from apitwin.mockserver.violations import Violation, mask

CARD = "4111111111111111"
BAD_CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": CARD}


def test_api_key_guards_operations_whose_spec_declares_no_security():
    open_mock = TestClient(create_app(["lmdeploy-proxy"]))
    assert open_mock.get("/nodes/status").status_code == 200  # no key configured: as the spec says
    guarded = TestClient(create_app(["lmdeploy-proxy"], api_key="k1"))
    refused = guarded.get("/nodes/terminate_all")
    assert refused.status_code == 401 and "Authorization" in refused.text
    assert guarded.get("/nodes/terminate_all", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert guarded.get("/nodes/terminate_all", headers={"Authorization": "Bearer k1"}).status_code == 200


def log_of(client: TestClient, **headers: str) -> dict:
    client.delete("/_apitwin/requests")
    assert client.post("/v1/chat/completions", json=BAD_CHAT, headers={"Authorization": "Bearer k1"}).status_code == 400
    [record] = client.get("/_apitwin/requests", headers=headers).json()
    return record["violations"][0]


def test_the_shared_log_shows_values_only_to_the_admin():
    client = TestClient(create_app(["aimlapi"], api_key="k1", admin_key="root"))
    for headers in ({}, {"Authorization": "Bearer k1"}, {"Authorization": "Bearer wrong"}):
        violation = log_of(client, **headers)
        assert CARD not in str(violation), headers
        assert violation["received"] == "<string>"
        assert violation["pointer"] == "/max_tokens" and violation["message"].startswith("body/max_tokens: expected")
    admin = log_of(client, Authorization="Bearer root")
    assert admin["received"] == f'"{CARD}"' and CARD in admin["message"]


def test_a_keyed_mock_without_an_admin_key_masks_for_everyone_and_an_open_one_for_no_one():
    keyed = TestClient(create_app(["aimlapi"], api_key="k1"))
    assert log_of(keyed, Authorization="Bearer k1")["received"] == "<string>"
    open_mock = TestClient(create_app(["aimlapi"]))
    assert log_of(open_mock)["received"] == f'"{CARD}"'


def test_masking_keeps_types_and_what_carries_no_data():
    assert [mask(text) for text in ('"x"', "{}", "[1]", "-3.5", "42", "null", "true", "nothing")] == [
        "<string>",
        "<object>",
        "<array>",
        "<number>",
        "<number>",
        "null",
        "true",
        "nothing",
    ]
    required = Violation("op", "body", "/model", "a value", "nothing", "body/model is required")
    assert required.masked() is required


def test_the_state_banner_says_where_the_data_lives(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert describe_store("sqlite:///rel/state.db") == f"SQLite file {tmp_path / 'rel' / 'state.db'}"
    assert describe_store(f"sqlite:///{tmp_path}/abs.db") == f"SQLite file {tmp_path / 'abs.db'}"
    assert describe_store("plain.db") == f"SQLite file {tmp_path / 'plain.db'}"
    assert describe_store("sqlite") == f"SQLite file {Path(tmp_path, '.apitwin', 'state.db')}"
    assert describe_store("memory").startswith("memory")


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "0"], "--port"),
        (["--workers", "0"], "--workers"),
        (["--workers", "-3"], "--workers"),
        (["--tokens-per-second", "1e-300"], "--tokens-per-second"),
    ],
)
def test_out_of_range_options_are_a_usage_error_naming_the_option(arguments, option):
    result = CliRunner().invoke(serve_command, ["lmdeploy", "--state", "memory", *arguments])
    assert result.exit_code == 2, result.output
    assert option in result.output and "Traceback" not in result.output
