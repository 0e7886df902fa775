"""The repair log: every change the pipeline makes to a vendor's document, as data.

A repair says what kind of fix it was, where (a JSON pointer into the document as it
stood when the fix was made), where that came from in the vendor's text, the value
before and after, and why. The log is written next to each spec as ``repairs.json``
and rendered by ``apitwin specs report``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Repair:
    kind: str
    pointer: str
    source: str
    before: Any
    after: Any
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_MISSING = "<absent>"


@dataclass(slots=True)
class RepairLog:
    """Collects repairs; the importer and every stage write to the same log."""

    repairs: list[Repair] = field(default_factory=list)

    def record(
        self,
        kind: str,
        pointer: str,
        *,
        source: str = "",
        before: Any = _MISSING,
        after: Any = _MISSING,
        reason: str,
    ) -> None:
        self.repairs.append(Repair(kind, pointer, source, before, after, reason))

    def __len__(self) -> int:
        return len(self.repairs)

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for repair in self.repairs:
            counts[repair.kind] = counts.get(repair.kind, 0) + 1
        return dict(sorted(counts.items()))

    def as_list(self) -> list[dict[str, Any]]:
        return [repair.as_dict() for repair in self.repairs]
