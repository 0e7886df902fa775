"""bench/reliability.py pieces that need no server: what the battery sends and how a row is reported."""

from __future__ import annotations

from bench.reliability import HOSTILE_BODIES, Row, Sent, as_json, json_operations, markdown


def test_the_battery_reaches_every_api_that_takes_json_bodies() -> None:
    for api in ("aimlapi", "openai-responses", "openresponses", "lmdeploy", "lmdeploy-proxy", "sequrity"):
        operations = json_operations(api)
        assert operations and all(path.startswith(f"/{api}/") and "{" not in path for _, path in operations)
    assert any(rb"\ud800" in body for body in HOSTILE_BODIES)


def test_a_row_is_one_table_line_and_plain_json() -> None:
    row = Row("kill -9", requests=3, notes={"lost jobs": 0})
    assert "| kill -9 | 3 | 0 | 0 | 0 | lost jobs: 0 |" in markdown([row])
    assert as_json([row])["rows"][0]["notes"] == {"lost jobs": 0}


def test_the_longest_wait_is_put_beside_what_the_battery_was_sending_then() -> None:
    sent = Sent([(1.0, 2.0, "body 8 → 400"), (2.0, 2.5, "body 9 → 200"), (3.0, 4.0, "raw connections")])
    assert sent.during(1.5, 2.2) == ["body 8 → 400", "body 9 → 200"]
    assert sent.during(2.6, 2.9) == []
    assert sent.during(3.5, 3.6) == ["raw connections"]
