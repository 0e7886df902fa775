"""bench/specs_start.py and bench/memory_soak.py pieces that need no server: pairing, verdicts and tables."""

from __future__ import annotations

import json
from pathlib import Path

from bench.memory_soak import MemoryResults, Settings, markdown
from bench.specs_start import DiffRow, SpecRow, StartResults, dated_pairs, spec_files
from bench.specs_start import markdown as start_markdown

MACHINE = {"cpus": 2, "cpu_model": "cpu", "load_average_at_start": [1.0], "python": "3.11", "date": "today"}


def test_every_spec_file_is_a_row_anddated_pairs_are_diffed(tmp_path: Path) -> None:
    for name in ("openai-2026-08-21.yaml", "openai-2026-07-23.yaml", "petstore.yaml", "x.json", "README.md"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    files = spec_files(tmp_path)
    assert [path.name for path in files] == [
        "openai-2026-07-23.yaml",
        "openai-2026-08-21.yaml",
        "petstore.yaml",
        "x.json",
    ]
    assert [(old.name, new.name) for old, new in dated_pairs(files)] == [
        ("openai-2026-07-23.yaml", "openai-2026-08-21.yaml")
    ]


def test_a_spec_row_is_judged_on_its_medians() -> None:
    row = SpecRow("big.yaml", 3_000_000, [12.0, 8.0, 9.0], [1.0, 4.0, 2.0], [300.0, 500.0, 350.0], [14.0, 16.0, 15.5])
    row.compiled_rss_mib = 420.0
    assert row.medians() == {
        "first start s": 9.0,
        "warm start s": 2.0,
        "lint s": 15.5,
        "RSS MiB": 350.0,
        "RSS all compiled MiB": 420.0,
    }
    assert row.verdicts() == {
        "first start s": True,
        "warm start s": True,
        "lint s": False,
        "RSS MiB": True,
        "RSS all compiled MiB": False,
    }
    assert SpecRow("empty.yaml", 1).verdicts()["lint s"] is None


def test_the_start_table_shows_every_row_its_verdicts_and_the_diffs() -> None:
    rows = [
        SpecRow("big.yaml", 3_000_000, [9.0], [1.5], [300.0], [16.0], [2.0], 0, 380.0, 4.5),
        SpecRow("broken.yaml", 10, failure="apitwin serve broken.yaml exited with code 2"),
    ]
    results = StartResults(MACHINE, 1, rows, [DiffRow("a-2026-01-01.yaml", "a-2026-02-01.yaml", [3.0], [1.0], 1)])
    table = start_markdown(results)
    assert "| big.yaml | 3,000,000 | 9.00 | 1.50 | 0.17 | 300 | 380 (4.5) | 16.00 | 2.00 | 0 |" in table
    assert "| big.yaml | met (9.00) | met (1.50) | **missed** (16.00) | met (300.00) | met (380.00) |" in table
    assert "failed: apitwin serve broken.yaml exited with code 2" in table
    assert "| a-2026-01-01.yaml → a-2026-02-01.yaml | 3.00 | 1.00 | 1 |" in table
    assert json.loads(json.dumps(results.as_json()))["rows"][0]["met"]["lint s"] is False


def test_memory_is_flat_only_when_every_sample_after_the_warm_up_stays_within_ten_percent() -> None:
    settings = Settings(duration_s=50, sample_s=10)  # warm-up 10 s
    flat = MemoryResults(MACHINE, settings, [(0, 70.0), (10, 200.0), (20, 215.0), (25, 190.0), (50, 210.0)])
    summary = flat.summary()
    assert summary["after warm-up MiB"] == 200.0 and summary["flat"] is True
    assert summary["end vs warm-up %"] == 5.0
    assert round(summary["second half %"], 2) == round(100 * 20 / 190, 2)
    growing = MemoryResults(MACHINE, settings, [(0, 70.0), (10, 200.0), (25, 215.0), (50, 221.0)])
    assert growing.summary()["flat"] is False
    table = markdown(growing)
    assert "| 70 | 200 | 221 | 221 | +10.5 % | +2.8 % | **not flat** (215–221) |" in table
    assert "| 50 | 221.0 |" in table
