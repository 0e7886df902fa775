"""specs diff on two real versions of OpenAI's spec: the breaking list equals the one reviewed by hand.

``fixtures/openai-diff-reviewed.json`` holds every breaking change the diff reports from 2026-07-23 to 2026-08-21,
each checked against both YAML files, with the reason it is real. A false positive that comes back, or a real
change that disappears, fails here. Loading the two 3 MB specs is slow, so it happens once for this module.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apitwin import specs
from apitwin.specs.diff import Change, diff, render_text

FOREIGN = Path(__file__).resolve().parents[2].parent / "shared" / "foreign-specs"
REVIEWED = Path(__file__).parent / "fixtures" / "openai-diff-reviewed.json"


@pytest.fixture(scope="module")
def changes() -> list[Change]:
    old, new = FOREIGN / "openai-2026-07-23.yaml", FOREIGN / "openai-2026-08-21.yaml"
    if not (old.exists() and new.exists()):
        pytest.skip("needs ../shared/foreign-specs")
    return diff(specs.load(old), specs.load(new))


def reviewed() -> list[tuple[str, str, str, str]]:
    entries = json.loads(REVIEWED.read_text(encoding="utf-8"))["reviewed"]
    return sorted(
        (operation, pointer, entry["kind"], entry["message"])
        for entry in entries
        for operation, pointer in entry["where"]
    )


def test_every_reviewed_entry_gives_a_reason():
    entries = json.loads(REVIEWED.read_text(encoding="utf-8"))["reviewed"]
    assert entries and all(entry["reason"].strip() and entry["where"] for entry in entries)


def test_the_breaking_list_is_the_reviewed_list(changes):
    found = sorted(
        (change.operation, change.pointer, change.kind, change.message) for change in changes if change.breaking
    )
    assert found == reviewed()


def test_the_rewrites_seen_in_this_pair_are_not_reported(changes):
    """False positives of the first version: service_tier moved from one allOf part to another, new values in
    open model lists (anyOf[string, {enum}]), a 429 documented on operations that documented no error before."""
    breaking = [change for change in changes if change.breaking]
    assert not [
        change
        for change in breaking
        if change.pointer.endswith("/properties/service_tier") and change.kind == "property-removed"
    ]
    assert not [change for change in breaking if "/properties/model/" in change.pointer]
    assert not [change for change in breaking if change.operation == "GET /assistants"]


def test_the_text_report_has_one_block_per_operation(changes):
    text = render_text(changes)
    headings = [line for line in text.splitlines() if not line.startswith(" ")]
    assert len(headings) == len({change.operation for change in changes})
    assert headings[0].startswith(changes[0].operation)
