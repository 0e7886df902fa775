"""Recorded URLs against a compiled spec: where its paths start inside them (``/v1``, ``/aimlapi``, or nothing)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit

from apitwin.mockserver.operations import CompiledApi
from apitwin.mockserver.routing import from_raw


def url_path(url: str) -> str:
    """The path of a recorded URL (absolute or not), decoded as the router reads a path (``routing.from_raw``)."""
    return from_raw(urlsplit(url).path) or "/"


def url_query(url: str) -> str:
    """The raw query string of a recorded URL: a path published with a fixed query (``/things?beta=true``) is
    routed by it, as the mock routes a live request."""
    return urlsplit(url).query


def strip_base(path: str, base_path: str) -> str | None:
    """``path`` without ``base_path``, or None when it does not start there."""
    base = base_path.rstrip("/")
    if not base:
        return path
    if path == base:
        return "/"
    if path.startswith(base + "/"):
        return path[len(base) :]
    return None


def detect_base_path(api: CompiledApi, paths: Iterable[str]) -> str:
    """The prefix that makes the most recorded paths match a path of the spec; on a tie, the longest.

    Only whole segments are stripped, and one prefix serves the whole file, so a file
    recorded through a gateway mounted at ``/aimlapi`` is read consistently.
    """
    matches: Counter[str] = Counter()
    for path in paths:
        for prefix in _prefixes(path):
            rest = strip_base(path, prefix)
            if rest is not None and api.router.match(rest, "GET").found_path:
                matches[prefix] += 1
    if not matches:
        return ""
    return max(matches, key=lambda prefix: (matches[prefix], len(prefix)))


def _prefixes(path: str) -> list[str]:
    segments = [segment for segment in path.split("/") if segment]
    return ["/" + "/".join(segments[:count]) if count else "" for count in range(len(segments))]
