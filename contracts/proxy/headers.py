"""Which headers a proxy passes on (the credentials it must never write down are ``recordings.credentials``)."""

from __future__ import annotations

from collections.abc import Iterable

from apitwin.recordings.credentials import (
    MASK,
    SECRET_NAMES,
    SECRET_WORDS,
    is_secret,
    masked_headers,
    masked_query,
    masked_value,
    scrub,
    secret_values,
)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
"""RFC 9110 §7.6.1: meaningful for one connection only, so a proxy drops them (and those ``Connection`` names)."""


def forwarded(headers: Iterable[tuple[str, str]], *, drop: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``headers`` without hop-by-hop ones (nor those named by ``Connection``) and without ``drop``."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    }
    excluded = HOP_BY_HOP | named | {name.lower() for name in drop}
    return [(name, value) for name, value in pairs if name.lower() not in excluded]


__all__ = [
    "HOP_BY_HOP",
    "MASK",
    "SECRET_NAMES",
    "SECRET_WORDS",
    "forwarded",
    "is_secret",
    "masked_headers",
    "masked_query",
    "masked_value",
    "scrub",
    "secret_values",
]
