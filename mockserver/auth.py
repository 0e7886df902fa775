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


class Guard:
    """An operation's security requirements with the spec's schemes looked up once, at its first request: a
    request then costs a look at the credential it presents, not a walk through the spec's dictionaries."""

    __slots__ = ("credentials", "open", "requirements")

    def __init__(self, security: list[dict[str, list[str]]], schemes: Mapping[str, dict[str, Any]]) -> None:
        self.open = not security or any(not requirement for requirement in security)
        """No credential needed (unless the server was given an API key)."""
        self.requirements = [[_Scheme.of(schemes.get(name) or {}) for name in requirement] for requirement in security]
        self.credentials = [
            scheme for requirement in self.requirements for scheme in requirement if scheme.kind == "apiKey"
        ]
        """The API-key schemes, in the spec's order: where a request's secret is looked for first."""

    def refusal(
        self,
        *,
        headers: Mapping[str, str],
        query: Mapping[str, Any],
        cookies: Mapping[str, str],
        api_key: str | None,
    ) -> str | None:
        """None when the request is authenticated; otherwise why not, naming the credential (of the first
        requirement, when none is met)."""
        if self.open:
            return None if api_key is None else _bearer(headers.get("authorization"), api_key)
        first = None
        for requirement in self.requirements:
            for scheme in requirement:
                problem = scheme.problem(headers, query, cookies, api_key)
                if problem:
                    first = first or problem
                    break
            else:
                return None
        return first

    def secret(self, *, headers: Mapping[str, str], query: Mapping[str, Any], cookies: Mapping[str, str]) -> str:
        """The secret a request presented for its operation ('' when none): what its stored state is scoped by."""
        for scheme in self.credentials:
            value = scheme.value(headers, query, cookies)
            if value:
                return str(value)
        return headers.get("authorization", "")


class _Scheme:
    """One security scheme, resolved: how a credential is presented and where an API key is looked for."""

    __slots__ = ("key_name", "kind", "location", "lookup")

    def __init__(self, kind: str, location: str = "", key_name: str = "") -> None:
        self.kind = kind
        """``apiKey``, ``basic``, or ``bearer`` (http bearer, oauth2 and openIdConnect all present a bearer token)."""
        self.location = location
        self.key_name = key_name
        self.lookup = key_name.lower() if location == "header" else key_name

    @classmethod
    def of(cls, scheme: dict[str, Any]) -> _Scheme:
        kind = scheme.get("type")
        if kind == "apiKey":
            return cls("apiKey", scheme.get("in", "header"), scheme.get("name", ""))
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            return cls("basic")
        return cls("bearer")

    def value(self, headers: Mapping[str, str], query: Mapping[str, Any], cookies: Mapping[str, str]) -> Any:
        """The API key presented (None when absent); the last of a repeated query parameter."""
        source = query if self.location == "query" else cookies if self.location == "cookie" else headers
        value = source.get(self.lookup)
        if isinstance(value, list):
            value = value[-1] if value else None
        return value

    def problem(
        self, headers: Mapping[str, str], query: Mapping[str, Any], cookies: Mapping[str, str], api_key: str | None
    ) -> str | None:
        if self.kind == "bearer":
            return _bearer(headers.get("authorization"), api_key)
        if self.kind == "basic":
            return _basic(headers.get("authorization"), api_key)
        value = self.value(headers, query, cookies)
        if not value:
            return f"missing API key: the {self.location} '{self.key_name}' is required"
        return _compare(value, api_key)


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


def _compare(value: str, api_key: str | None) -> str | None:
    if api_key is None or hmac.compare_digest(value.encode(), api_key.encode()):
        return None
    return "invalid credentials: the API key is not valid for this server"
