"""What is likely wrong when a run's answers say more about its target than about the gateway.

Mostly 404s means the requests missed the API: the base URL lacks the prefix its paths sit under (the
spec's ``servers`` path, such as ``/v1``, or ``/<api>`` where ``apitwin serve`` serves several APIs).
Mostly connection errors means nothing answered at the base URL at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from apitwin.contracts.fuzz.events import RunReport

MOST = 0.5
"""A hint is given when more than this share of the requests were 404 or failed to connect."""
CONNECTION_WORDS = ("ConnectionError", "ConnectTimeout", "NewConnectionError", "Connection refused")


def base_url_hint(report: RunReport, document: dict[str, Any], api: str | None = None) -> str | None:
    """One or two sentences on what is likely wrong with ``--base-url``, or None when the answers look right.

    ``api`` is the shipped API's name (apitwin serve mounts it at ``/<api>`` beside the others)."""
    statuses = report.statuses()
    connection = sum(
        1 for operation in report.operations for error in operation.errors if any(w in error for w in CONNECTION_WORDS)
    )
    total = sum(statuses.values()) + sum(len(operation.errors) for operation in report.operations)
    if not total:
        return None
    if connection / total > MOST:
        return (
            f"{connection} of {total} requests could not connect to {report.base_url}: is the gateway running "
            "there, and is --base-url its address (scheme, host and port)?"
        )
    missing = statuses.get("404", 0)
    if missing / total <= MOST:
        return None
    parts = urlsplit(report.base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    base_path = parts.path.rstrip("/")
    advice = [
        f"--base-url {origin}{prefix} ({why})"
        for prefix, why in _prefixes(document, api).items()
        if prefix != base_path
    ]
    if base_path:
        advice.append(f"--base-url {origin} (the spec's paths at the gateway's root)")
    return (
        f"{missing} of {total} answers were 404: --base-url {report.base_url} probably does not point where the "
        "spec's paths start. " + ("Try " + "; or ".join(advice) if advice else "Check where the gateway serves them")
    )


def _prefixes(document: dict[str, Any], api: str | None) -> dict[str, str]:
    """Candidate path prefixes with where each comes from."""
    found: dict[str, str] = {}
    for server in document.get("servers") or ():
        url = server.get("url") if isinstance(server, dict) else None
        path = urlsplit(url).path.rstrip("/") if isinstance(url, str) else ""
        if path and path not in found:
            found[path] = f"the spec's servers say {url}"
    if api:
        found.setdefault(f"/{api}", f"`apitwin serve` serving several APIs mounts this one under /{api}")
    return found
