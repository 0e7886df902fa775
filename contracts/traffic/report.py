"""Rendering verdicts: one line per exchange (and per violation), a summary, or JSON for machines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apitwin.contracts.traffic.check import Verdict


@dataclass(slots=True)
class Summary:
    exchanges: int
    ok: int
    violating: int
    violations: int
    intentionally_invalid: int
    base_path: str

    @classmethod
    def of(cls, verdicts: list[Verdict], base_path: str) -> Summary:
        return cls(
            exchanges=len(verdicts),
            ok=sum(verdict.ok for verdict in verdicts),
            violating=sum(not verdict.ok for verdict in verdicts),
            violations=sum(len(verdict.violations) for verdict in verdicts),
            intentionally_invalid=sum(verdict.exchange.intentionally_invalid for verdict in verdicts),
            base_path=base_path,
        )

    def line(self) -> str:
        base = f"base path {self.base_path}" if self.base_path else "no base path"
        negative = (
            f"; {self.intentionally_invalid} requests were invalid on purpose (negative tests)"
            if self.intentionally_invalid
            else ""
        )
        counts = f"{self.ok} OK, {self.violating} violating ({self.violations} violations)"
        return f"{self.exchanges} exchanges: {counts}; {base}{negative}"


def text_lines(verdict: Verdict) -> list[str]:
    operation = verdict.operation or "undocumented"
    status = verdict.status if verdict.status is not None else "no response"
    mark = "OK  " if verdict.ok else "FAIL"
    head = f"{mark} #{verdict.exchange.number} {verdict.method} {verdict.path} ({operation}) → {status}"
    lines = [head]
    for violation in verdict.violations:
        lines.append(
            f"     {violation.location} {violation.pointer or '/'}: expected {violation.expected or '?'}, received "
            f"{violation.received or '?'} — {violation.message}"
        )
    for violation in verdict.expected:
        lines.append(f"     (invalid on purpose) {violation.location} {violation.pointer or '/'}: {violation.message}")
    lines += [f"     note: {note}" for note in verdict.notes]
    return lines


def json_report(api: str, file: str, verdicts: list[Verdict], summary: Summary) -> dict[str, Any]:
    return {
        "api": api,
        "file": file,
        "base_path": summary.base_path,
        "summary": {
            "exchanges": summary.exchanges,
            "ok": summary.ok,
            "violating": summary.violating,
            "violations": summary.violations,
            "intentionally_invalid": summary.intentionally_invalid,
        },
        "exchanges": [verdict.as_dict() for verdict in verdicts],
    }
