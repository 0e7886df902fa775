"""Which operations of each served API the journal saw called, and which not: the dashboard's coverage view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from apitwin.mockserver.journal import Entry
from apitwin.mockserver.operations import CompiledApi


def coverage(apis: Mapping[str, CompiledApi], entries: Iterable[Entry]) -> dict[str, dict[str, Any]]:
    """Per API: each operation with its calls and statuses, called ones first; the totals."""
    calls: Counter[tuple[str, str]] = Counter()
    statuses: dict[tuple[str, str], Counter[int]] = {}
    for entry in entries:
        if entry.operation:
            key = (entry.api, entry.operation)
            calls[key] += 1
            statuses.setdefault(key, Counter())[entry.status] += 1
    view: dict[str, dict[str, Any]] = {}
    for name, api in apis.items():
        rows = []
        for operation in api.operations:
            key = (name, operation.operation_id)
            seen = sorted(statuses.get(key, Counter()).items())
            rows.append(
                {
                    "operation": operation.operation_id,
                    "method": operation.method.upper(),
                    "path": operation.path,
                    "calls": calls[key],
                    "statuses": {str(code): count for code, count in seen},
                }
            )
        called = [row for row in rows if row["calls"]]
        view[name] = {
            "called": len(called),
            "total": len(rows),
            "operations": called + [row for row in rows if not row["calls"]],
        }
    return view
