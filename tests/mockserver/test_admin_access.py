"""Who may use /_apitwin/: open on loopback; otherwise a token on every route but media, a clear 401 JSON body."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.admin_access import COOKIE, AccessError, admin_token, is_loopback
from apitwin.mockserver.cli import serve_command

TOKEN = "t" * 20 + "-admin"
AUTH = {"Authorization": "Bearer client-key"}
ROUTES = [
    ("GET", "/_apitwin/"),
    ("GET", "/_apitwin/requests"),
    ("DELETE", "/_apitwin/requests"),
    ("GET", "/_apitwin/requests?status=2xx"),
    ("GET", "/_apitwin/journal/stream?status=bad"),  # refused before the filter is even read
    ("GET", "/_apitwin/apis"),
    ("GET", "/_apitwin/openapi/aimlapi.json"),
    ("GET", "/_apitwin/coverage"),
    ("GET", "/_apitwin/state"),
    ("DELETE", "/_apitwin/state"),
    ("GET", "/_apitwin/settings"),
    ("PUT", "/_apitwin/settings/aimlapi"),
    ("GET", "/_apitwin/no-such-route"),
]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "no-such-host.invalid"])
def test_other_addresses(host: str) -> None:
    assert not is_loopback(host)


def test_loopback_is_open_and_any_other_address_needs_a_token() -> None:
    assert admin_token("127.0.0.1", None) is None
    with pytest.raises(AccessError, match=r"0\.0\.0\.0 is not a loopback address.*--admin-token"):
        admin_token("0.0.0.0", None)
    assert admin_token("0.0.0.0", TOKEN) == TOKEN
    generated = admin_token("0.0.0.0", "auto")
    assert generated is not None and len(generated) >= 32 and generated != admin_token("0.0.0.0", "auto")
    with pytest.raises(AccessError, match="at least 16"):
        admin_token("0.0.0.0", "short")
    with pytest.raises(AccessError, match="subsumed"):
        admin_token("127.0.0.1", TOKEN, admin_key="reveal")


def test_serve_refuses_to_start_on_a_public_address_without_a_token() -> None:
    result = CliRunner().invoke(serve_command, ["aimlapi", "--host", "0.0.0.0", "--state", "memory"])
    assert result.exit_code == 2 and "--admin-token" in result.output and "not a loopback address" in result.output


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_on_loopback_every_route_is_open(method: str, path: str) -> None:
    answer = TestClient(create_app(["aimlapi"])).request(method, path, json={})
    assert answer.status_code != 401


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_with_a_token_every_route_needs_it_and_says_so_in_json(method: str, path: str) -> None:
    client = TestClient(create_app(["aimlapi"], admin_token=TOKEN))
    missing = client.request(method, path, json={})
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"]["type"] == "admin_token_required"
    assert "Authorization: Bearer" in missing.json()["error"]["message"]
    for wrong in ({"Authorization": "Bearer " + TOKEN[:-1]}, AUTH):
        refused = client.request(method, path, json={}, headers=wrong)
        assert refused.status_code == 401 and refused.json()["error"]["type"] == "wrong_admin_token"
    allowed = client.request(method, path, json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code != 401


def test_the_browser_signs_in_once_with_the_token_in_the_address_then_by_cookie() -> None:
    client = TestClient(create_app(["aimlapi"], admin_token=TOKEN), follow_redirects=False)
    assert client.get("/_apitwin/?token=wrong").status_code == 401
    signed_in = client.get(f"/_apitwin/?token={TOKEN}")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/_apitwin/"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "Path=/_apitwin" in cookie
    assert "samesite=strict" in cookie.lower()
    assert client.get("/_apitwin/").status_code == 200  # the cookie now rides along
    assert client.get("/_apitwin/requests").status_code == 200


def test_media_stays_reachable_by_name_without_the_token() -> None:
    client = TestClient(create_app(["aimlapi"], admin_token=TOKEN))
    made = client.post("/v1/images/generations", json={"model": "dall-e-2", "prompt": "a fox"}, headers=AUTH)
    url = made.json()["data"][0]["url"]
    assert "/_apitwin/media/" in url
    assert client.get(url).status_code == 200
    assert client.get("/_apitwin/media/guessed-name.png").status_code == 404


def test_the_token_holder_sees_values_and_the_api_still_answers_without_it() -> None:
    client = TestClient(create_app(["aimlapi"], api_key="client-key", admin_token=TOKEN))
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "x"}
    assert client.post("/v1/chat/completions", json=chat, headers=AUTH).status_code == 400
    [entry] = client.get("/_apitwin/requests", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert '"x"' in entry["request"]["body"]["text"] and entry["violations"][0]["received"] == '"x"'


def test_on_an_open_server_the_admin_key_signs_the_browser_in_and_shows_it_the_values() -> None:
    client = TestClient(create_app(["aimlapi"], api_key="client-key", admin_key="reveal-key"), follow_redirects=False)
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "x"}
    client.post("/v1/chat/completions", json=chat, headers=AUTH)
    assert "hidden" in client.get("/_apitwin/requests").json()[0]  # open, but values only for the key's holder
    assert client.get("/_apitwin/?token=wrong").status_code == 401
    assert client.get("/_apitwin/?token=reveal-key").status_code == 303
    [entry] = client.get("/_apitwin/requests").json()  # by the cookie now
    assert entry["violations"][0]["received"] == '"x"' and "hidden" not in entry
