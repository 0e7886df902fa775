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
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
"""RFC 9110 §7.6.1: meaningful for one connection only, so a proxy drops them (and those ``Connection`` names)."""


def forwarded(
    headers: Iterable[tuple[bytes, bytes]], *, drop: frozenset[bytes] = frozenset()
) -> list[tuple[bytes, bytes]]:
    """``headers`` (as they cross the wire) without hop-by-hop ones (nor those named by ``Connection``) and
    without ``drop`` (lower-case names)."""
    pairs = list(headers)
    excluded = HOP_BY_HOP | drop
    for name, value in pairs:
        if name.lower() == b"connection":
            excluded = excluded | {token.strip().lower() for token in value.split(b",") if token.strip()}
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
