"""mockserver/auth.py: an operation's security requirements, met or refused with the reason, and the secret a
request presented (what its stored state is scoped by)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from apitwin.mockserver.auth import Guard

SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "basic": {"type": "http", "scheme": "Basic"},
    "header_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    "query_key": {"type": "apiKey", "in": "query", "name": "key"},
    "cookie_key": {"type": "apiKey", "in": "cookie", "name": "session"},
    "oauth": {"type": "oauth2", "flows": {}},
}


def refusal(
    security: list[dict[str, list[str]]],
    headers: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    cookies: dict[str, str] | None = None,
    api_key: str | None = None,
) -> str | None:
    return Guard(security, SCHEMES).refusal(
        headers=headers or {}, query=query or {}, cookies=cookies or {}, api_key=api_key
    )


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_an_open_operation_needs_nothing_unless_the_server_has_a_key_then_its_bearer_token():
    assert refusal([]) is None
    assert refusal([{}, {"bearer": []}]) is None  # an empty requirement: anonymous is one way in
    assert refusal([], api_key="k") == "missing credentials: the Authorization header with a Bearer token is required"
    assert refusal([], {"authorization": "Bearer k"}, api_key="k") is None


@pytest.mark.parametrize(
    ("headers", "api_key", "reason"),
    [
        ({}, None, "missing credentials: the Authorization header with a Bearer token is required"),
        ({"authorization": "Token x"}, None, "malformed credentials: expected 'Authorization: Bearer <token>'"),
        ({"authorization": "Bearer  "}, None, "malformed credentials: expected 'Authorization: Bearer <token>'"),
        ({"authorization": "bearer anything"}, None, None),
        ({"authorization": "Bearer wrong"}, "k", "invalid credentials: the API key is not valid for this server"),
        ({"authorization": "Bearer k"}, "k", None),
    ],
)
def test_bearer_and_oauth2_take_a_bearer_token(headers, api_key, reason):
    assert refusal([{"bearer": []}], headers, api_key=api_key) == reason
    assert refusal([{"oauth": ["scope"]}], headers, api_key=api_key) == reason


def test_basic_takes_the_password_as_the_key():
    assert refusal([{"basic": []}], {"authorization": basic("u", "k")}, api_key="k") is None
    assert refusal([{"basic": []}], {"authorization": basic("u", "x")}, api_key="k") == (
        "invalid credentials: the API key is not valid for this server"
    )
    assert refusal([{"basic": []}], {"authorization": "Basic !!"}) == (
        "malformed credentials: expected 'Authorization: Basic <base64 user:password>'"
    )
    assert refusal([{"basic": []}]) == (
        "missing credentials: the Authorization header with Basic credentials is required"
    )


def test_api_keys_are_read_where_the_scheme_says_the_last_of_a_repeated_query_parameter():
    assert refusal([{"header_key": []}], {"x-api-key": "k"}, api_key="k") is None
    assert refusal([{"header_key": []}]) == "missing API key: the header 'X-Api-Key' is required"
    assert refusal([{"query_key": []}], query={"key": ["old", "k"]}, api_key="k") is None
    assert refusal([{"query_key": []}], query={"key": ["k", "old"]}, api_key="k") == (
        "invalid credentials: the API key is not valid for this server"
    )
    assert refusal([{"query_key": []}], query={"key": []}) == "missing API key: the query 'key' is required"
    assert refusal([{"cookie_key": []}], cookies={"session": "k"}, api_key="k") is None
    assert refusal([{"cookie_key": []}], {"session": "k"}) == "missing API key: the cookie 'session' is required"


def test_one_met_requirement_is_enough_and_every_scheme_of_it_is_needed():
    either = [{"header_key": [], "query_key": []}, {"bearer": []}]
    assert refusal(either, {"authorization": "Bearer t"}) is None
    assert refusal(either, {"x-api-key": "a"}, {"key": ["b"]}) is None
    # neither met: the reason is the first failing scheme of the first requirement
    assert refusal(either, {"x-api-key": "a"}) == "missing API key: the query 'key' is required"


def test_the_secret_is_the_first_api_key_presented_else_the_authorization_header():
    guard = Guard([{"bearer": []}, {"query_key": [], "header_key": []}], SCHEMES)
    assert guard.secret(headers={"x-api-key": "h"}, query={"key": ["q1", "q2"]}, cookies={}) == "q2"
    assert guard.secret(headers={"x-api-key": "h", "authorization": "Bearer t"}, query={}, cookies={}) == "h"
    assert guard.secret(headers={"authorization": "Bearer t"}, query={}, cookies={}) == "Bearer t"
    assert guard.secret(headers={}, query={}, cookies={}) == ""
