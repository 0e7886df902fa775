"""bench/reliability.py pieces that need no server: what the battery sends and how a row is reported."""

from __future__ import annotations

from bench.reliability import HOSTILE_BODIES, Row, as_json, json_operations, markdown


def test_the_battery_reaches_every_api_that_takes_json_bodies() -> None:
    for api in ("aimlapi", "openai-responses", "openresponses", "lmdeploy", "lmdeploy-proxy", "sequrity"):
        operations = json_operations(api)
        assert operations and all(path.startswith(f"/{api}/") and "{" not in path for _, path in operations)
    assert any(rb"\ud800" in body for body in HOSTILE_BODIES)


def test_a_row_is_one_table_line_and_plain_json() -> None:
    row = Row("kill -9", requests=3, notes={"lost jobs": 0})
    assert "| kill -9 | 3 | 0 | 0 | 0 | lost jobs: 0 |" in markdown([row])
    assert as_json([row])["rows"][0]["notes"] == {"lost jobs": 0}
