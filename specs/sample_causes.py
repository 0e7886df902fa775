"""Doc-sample conflicts summarised per cause, for the repair log.

``doc-samples.json`` lists every sample one by one; the repair log (``repairs.json``, ``specs report``) says
what a vendor could act on: one ``doc-conflict`` entry per cause — the operation, where in the samples and
what is wrong (the message without the sample's own value) — with how many samples on how many pages, each
page cited, and the values the samples send. The spec keeps its schema: a conflict is the vendor's to settle
(or, where the page's own fragment accepts the samples, apitwin's, and the entry says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apitwin.specs.pointer import join
from apitwin.specs.repairs import Repair

KIND = "doc-conflict"
REQUIRED = re.compile(r"^'[^']*' is a required property$")
DISCRIMINATOR = re.compile(r"^the discriminator value (.*) names no variant of the operation (\(.*\))$")
# jsonschema writes the offending value first, then what is wrong with it.
VALUE_FIRST = re.compile(
    r"^(?P<value>.*?) (?P<rest>(?:is not|is too|is less|is greater|is expected|does not|should|has non-unique|"
    r"is valid under each|was expected)\b.*)$",
    re.S,
)
VALUES_KEPT = 5
"""Distinct sample values an entry quotes (the pages are all cited), each cut to ``VALUE_LENGTH`` characters."""
VALUE_LENGTH = 60


@dataclass(slots=True)
class Cause:
    kind: str
    operation: str
    at: str
    message: str
    pages: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    samples: int = 0
    ours: int = 0
    """Samples of this cause the page's own fragment accepts: the conflict is apitwin's making."""


def causes(verdicts: list[dict[str, Any]]) -> list[Cause]:
    """The conflicts grouped by sample kind, operation, where (array indices as ``*``) and what is wrong;
    the most frequent first."""
    grouped: dict[tuple[str, str, str, str], Cause] = {}
    for verdict in verdicts:
        if verdict["verdict"] != "conflict":
            continue
        message, value = split_message(verdict["message"] or "")
        at = re.sub(r"/\d+(?=/|$)", "/*", verdict["pointer"] or "")
        key = (verdict["kind"], verdict["operation"] or "", at, message)
        cause = grouped.setdefault(key, Cause(*key))
        cause.samples += 1
        cause.ours += verdict["raw"] == "valid"
        if verdict["page"] not in cause.pages:
            cause.pages.append(verdict["page"])
        if value is not None and len(value) > VALUE_LENGTH:
            value = value[: VALUE_LENGTH - 1] + "…"
        if value is not None and value not in cause.values and len(cause.values) < VALUES_KEPT:
            cause.values.append(value)
    return sorted(grouped.values(), key=lambda cause: (-cause.samples, cause.operation, cause.at, cause.message))


def split_message(message: str) -> tuple[str, str | None]:
    """``(what is wrong, the sample's value)``: the value leaves the message so that samples sending different
    values for the same reason share one cause. A missing property's name is the cause and stays."""
    if REQUIRED.match(message):
        return message, None
    discriminator = DISCRIMINATOR.match(message)
    if discriminator:
        return f"the discriminator value names no variant {discriminator.group(2)}", discriminator.group(1)
    found = VALUE_FIRST.match(message)
    if found:
        return found.group("rest"), found.group("value")
    return message, None


def repair_entries(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One repair-log entry per cause (kind ``doc-conflict``), pointing at the operation's request body or
    answers, citing every page."""
    return [_entry(cause).as_dict() for cause in causes(verdicts)]


def _entry(cause: Cause) -> Repair:
    method, _, path = cause.operation.partition(" ")
    part = "requestBody" if cause.kind == "request" else "responses"
    pointer = join("", "paths", path, method.lower(), part) if path else ""
    what = "request payload" if cause.kind == "request" else "response example"
    what += "s" if cause.samples != 1 else ""
    where = f"at {cause.at}" if cause.at else "at the top level"
    pages = f"{len(cause.pages)} page" + ("s" if len(cause.pages) != 1 else "")
    sent = f" (they send {'; '.join(cause.values)})" if cause.values else ""
    reason = (
        f"{cause.samples} {what} of {cause.operation or 'the pages'} on {pages} "
        f"{'disagree' if cause.samples != 1 else 'disagrees'} with the spec {where}: "
        f"{cause.message}{sent}."
    )
    if cause.ours:
        reason += (
            f" The page's own fragment accepts {cause.ours} of them: a repair or an overlay of apitwin's refuses "
            "them, not the vendor."
        )
    else:
        reason += " The spec keeps its schema; the vendor's samples and schema should agree."
    return Repair(KIND, pointer, ", ".join(cause.pages), list(cause.values), "<absent>", reason)
