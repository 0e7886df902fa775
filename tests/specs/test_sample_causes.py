"""Doc-sample conflicts summarised per cause for the repair log (specs/sample_causes.py)."""

from __future__ import annotations

from typing import Any

from apitwin.specs import sample_causes


def conflict(page: str, pointer: str, message: str, raw: str | None = "invalid", **fields: Any) -> dict[str, Any]:
    verdict = {"kind": "response", "verdict": "conflict", "page": page, "operation": "POST /v1/chat/completions"}
    return {**verdict, "pointer": pointer, "message": message, "raw": raw, **fields}


END_TURN = "'end_turn' is not one of ['stop', 'length']"


def test_samples_sending_different_values_for_one_reason_share_a_cause() -> None:
    verdicts = [
        conflict("https://d/a.md", "/choices/0/finish_reason", END_TURN),
        conflict("https://d/a.md", "/choices/1/finish_reason", "'max' is not one of ['stop', 'length']"),
        conflict("https://d/b.md", "/choices/0/finish_reason", END_TURN),
        conflict("https://d/b.md", "", "'id' is a required property", raw="valid"),
        {"kind": "request", "verdict": "valid", "page": "https://d/c.md", "operation": None},
    ]
    first, second = sample_causes.causes(verdicts)
    assert (first.at, first.message, first.samples) == (
        "/choices/*/finish_reason",
        "is not one of ['stop', 'length']",
        3,
    )
    assert first.pages == ["https://d/a.md", "https://d/b.md"] and first.values == ["'end_turn'", "'max'"]
    assert (second.message, second.values, second.ours) == ("'id' is a required property", [], 1)


def test_each_cause_is_a_repair_log_entry_citing_its_pages() -> None:
    verdicts = [conflict(f"https://d/{n}.md", "/choices/0/finish_reason", END_TURN) for n in range(2)]
    verdicts.append(conflict("https://d/x.md", "", "'id' is a required property", raw="valid"))
    finish, missing = sample_causes.repair_entries(verdicts)
    assert finish["kind"] == "doc-conflict"
    assert finish["pointer"] == "/paths/~1v1~1chat~1completions/post/responses"
    assert finish["source"] == "https://d/0.md, https://d/1.md"
    assert finish["before"] == ["'end_turn'"]
    assert finish["reason"].startswith(
        "2 response examples of POST /v1/chat/completions on 2 pages disagree with the spec at "
        "/choices/*/finish_reason: is not one of ['stop', 'length'] (they send 'end_turn')."
    )
    assert "1 response example of POST /v1/chat/completions on 1 page disagrees" in missing["reason"]
    assert "The page's own fragment accepts 1 of them" in missing["reason"]


def test_the_discriminator_message_keeps_its_reason_and_gives_up_its_value() -> None:
    message = "the discriminator value 'voyage-2' names no variant of the operation (not one of its ids)"
    assert sample_causes.split_message(message) == (
        "the discriminator value names no variant (not one of its ids)",
        "'voyage-2'",
    )
    assert sample_causes.split_message("something else") == ("something else", None)
