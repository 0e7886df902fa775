"""Authentication from the spec's ``securitySchemes``: a request passes when one requirement is met.

Any well-formed credential passes, unless the server was given an API key: then only that one, and
on every operation, also those whose spec declares no security (as LMDeploy's own ``--api-keys``
guards every route), presented there as ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any


def authenticate(
    security: list[dict[str, list[str]]],
    schemes: Mapping[str, dict[str, Any]],
    *,
    headers: Mapping[str, str],
    query: Mapping[str, Any],
    cookies: Mapping[str, str],
    api_key: str | None,
) -> str | None:
    """None when the request is authenticated; otherwise why not, naming the credential."""
    if not security or any(not requirement for requirement in security):
        return None if api_key is None else _bearer(headers.get("authorization"), api_key)
    reasons = []
    for requirement in security:
        problems = [
            _check(schemes.get(name) or {}, name, headers=headers, query=query, cookies=cookies, api_key=api_key)
            for name in requirement
        ]
        failing = [problem for problem in problems if problem]
        if not failing:
            return None
        reasons.extend(failing)
    return reasons[0]


def _check(
    scheme: dict[str, Any],
    name: str,
    *,
    headers: Mapping[str, str],
    query: Mapping[str, Any],
    cookies: Mapping[str, str],
    api_key: str | None,
) -> str | None:
    kind = scheme.get("type")
    if kind == "apiKey":
        location = scheme.get("in", "header")
        key_name = scheme.get("name", "")
        source = {"header": headers, "query": query, "cookie": cookies}.get(location, headers)
        value = source.get(key_name.lower() if location == "header" else key_name)
        if isinstance(value, list):
            value = value[-1] if value else None
        if not value:
            return f"missing API key: the {location} '{key_name}' is required"
        return _compare(value, api_key)
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
        return _basic(headers.get("authorization"), api_key)
    # http bearer, oauth2 and openIdConnect all present a bearer token
    return _bearer(headers.get("authorization"), api_key)


def _bearer(header: str | None, api_key: str | None) -> str | None:
    if not header:
        return "missing credentials: the Authorization header with a Bearer token is required"
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "malformed credentials: expected 'Authorization: Bearer <token>'"
    return _compare(token.strip(), api_key)


def _basic(header: str | None, api_key: str | None) -> str | None:
    if not header:
        return "missing credentials: the Authorization header with Basic credentials is required"
    scheme, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if scheme.lower() != "basic" or ":" not in decoded:
        return "malformed credentials: expected 'Authorization: Basic <base64 user:password>'"
    return _compare(decoded.split(":", 1)[1], api_key)


def presented_credential(
    security: list[dict[str, list[str]]],
    schemes: Mapping[str, dict[str, Any]],
    *,
    headers: Mapping[str, str],
    query: Mapping[str, Any],
    cookies: Mapping[str, str],
) -> str:
    """The secret a request presented for its operation ('' when none): what its stored state is scoped by."""
    for requirement in security:
        for name in requirement:
            scheme = schemes.get(name) or {}
            if scheme.get("type") == "apiKey":
                location = scheme.get("in", "header")
                key_name = scheme.get("name", "")
                source = {"header": headers, "query": query, "cookie": cookies}.get(location, headers)
                value = source.get(key_name.lower() if location == "header" else key_name)
                if isinstance(value, list):
                    value = value[-1] if value else None
                if value:
                    return str(value)
    return headers.get("authorization", "")


def _compare(value: str, api_key: str | None) -> str | None:
    if api_key is None or hmac.compare_digest(value.encode(), api_key.encode()):
        return None
    return "invalid credentials: the API key is not valid for this server"
