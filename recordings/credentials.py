"""Which header and query values are credentials, and how they are masked wherever an exchange is written down.

The proxy's reports and recordings and the mock's journal all mask the same names the same way, so a value
hidden in one place is never shown in another.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

MASK = "[masked]"
SECRET_NAMES = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
SECRET_WORDS = re.compile(r"(api[-_]?key|token|secret|password|passwd|credential|signature)", re.IGNORECASE)
"""A header or query parameter whose name says it carries a credential (``api-key``, ``x-goog-api-key``, …)."""


def is_secret(name: str, extra: Iterable[str] = ()) -> bool:
    lowered = name.lower()
    return _named_secret(lowered) or lowered in {item.lower() for item in extra}


@functools.lru_cache(maxsize=4096)
def _named_secret(lowered: str) -> bool:
    """By the name alone (the same few header names come with every request: asked once each)."""
    return lowered in SECRET_NAMES or bool(SECRET_WORDS.search(lowered))


def masked_value(name: str, value: str) -> str:
    """``Bearer [masked]``: the scheme stays (it says how the client authenticates), the credential goes."""
    scheme, space, _ = value.partition(" ")
    if name.lower() in ("authorization", "proxy-authorization") and space and scheme.isalpha():
        return f"{scheme} {MASK}"
    return MASK


def masked_headers(headers: Iterable[tuple[str, str]], extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    names = {item.lower() for item in extra}
    return [
        (name, masked_value(name, value) if _named_secret(name.lower()) or name.lower() in names else value)
        for name, value in headers
    ]


def masked_query(query: str, extra: Iterable[str] = ()) -> str:
    """The query string with credential parameters (``?api_key=…``) masked."""
    if not query:
        return query
    names = tuple(extra)
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret(name, names) for name, _ in pairs):
        return query
    return urlencode([(name, MASK if is_secret(name, names) else value) for name, value in pairs])


def secret_values(headers: Iterable[tuple[str, str]], query: str = "", extra: Iterable[str] = ()) -> list[str]:
    """The credentials a request carries (whole values and bare tokens), to scrub them from any text written."""
    names = tuple(extra)
    found: set[str] = set()
    pairs = [*headers, *parse_qsl(query, keep_blank_values=True)]
    for name, value in pairs:
        if not is_secret(name, names) or not value:
            continue
        found.add(value)
        _, space, token = value.partition(" ")
        if space and len(token) >= 4:
            found.add(token)
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
