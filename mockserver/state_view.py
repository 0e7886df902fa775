"""What the mock keeps between requests, for the dashboard: jobs, stored responses, sessions; and their reset.

Each object is shown with the API and the owner it belongs to (a digest of the credential that made it, see
``state.scoped``), its id and a few fields that say where it is (status, polls, times); the whole value only
to a caller allowed to see what clients sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apitwin.mockserver.state import Store

KINDS = {"job": "jobs", "response": "responses", "session": "sessions"}
"""Stored kinds the dashboard shows, by the name it shows them under (media files are reached by URL only)."""
SUMMARY_FIELDS = ("status", "object", "model", "created", "created_at", "polls", "cancelled_poll")
LIMIT = 500
"""Objects listed per kind: a view, not an export."""


JobStatus = Callable[[str, str, dict[str, Any]], str | None]
"""(API, the job's family: its create path, the stored job) → the status it has now."""


async def snapshot(store: Store, reveal: bool, job_status: JobStatus | None = None) -> dict[str, list[dict[str, Any]]]:
    view: dict[str, list[dict[str, Any]]] = {}
    for kind, name in KINDS.items():
        items = []
        for key, value in await store.items(kind, LIMIT):
            item = _shown(key, value, reveal)
            if kind == "job" and job_status is not None:
                _add_status(item, key, value, job_status)
            items.append(item)
        view[name] = items
    return view


def _add_status(item: dict[str, Any], key: str, value: dict[str, Any], job_status: JobStatus) -> None:
    """A job's key is ``<scope>\x1f<api>\x1f<its create path>\x1f<id>``: the family names its lifecycle."""
    parts = key.partition("\x1f")[2].split("\x1f")
    status = job_status(item["api"], parts[1], value) if len(parts) == 3 else None
    if status is not None:
        item["summary"] = {"status": status, **item["summary"]}


async def reset(store: Store, names: list[str]) -> dict[str, int]:
    """Remove every object of the kinds named (all when none); how many went, by name."""
    kinds = {name: kind for kind, name in KINDS.items()}
    return {name: await store.clear(kinds[name]) for name in names or list(kinds)}


def unknown_kinds(names: list[str]) -> list[str]:
    return [name for name in names if name not in KINDS.values()]


def _shown(key: str, value: dict[str, Any], reveal: bool) -> dict[str, Any]:
    scope, _, rest = key.partition("\x1f")  # scoped keys: "<api>/<owner>\x1f<the behaviour's key>"
    api, _, owner = scope.partition("/")
    parts = rest.split("\x1f")
    shown: dict[str, Any] = {
        "api": api,
        "owner": owner if owner != "-" else "",
        "id": str(value.get("id") or parts[-1]),
        "summary": {field: value[field] for field in SUMMARY_FIELDS if field in value},
    }
    if reveal:
        shown["value"] = value
    return shown
