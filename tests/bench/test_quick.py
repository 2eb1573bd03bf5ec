"""The benchmarks in quick mode, so they cannot rot: every one runs and reports, no bar judged.

Quick mode seeds small clouds (SQLite, and PostgreSQL when installed), drives real desk,
window and load-generator processes, and writes the results file; speed is never asserted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.__main__ import NAMES, main
from tests.pg import find_pg_bin

#: Figures the quality table prints without a baseline beside them.
NO_BASELINE = {"today_usable", "propagation", "catch_up", "cloud_load"}


@pytest.mark.timeout(900)
def test_quick_benchmarks_report_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    assert main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    results = {r["name"]: r for r in report["results"]}
    assert [r["name"] for r in report["results"]] == list(NAMES)  # one result per name
    expected = set(NAMES)
    if find_pg_bin() is None:
        expected -= {"first_sync_postgres", "cloud_load"}
    for name in expected:
        result = results[name]
        assert not result["note"].startswith(("error", "skipped")), (name, result["note"])
        assert math.isfinite(result["figure"]) and result["figure"] > 0, result
        assert result["unit"] and result["bar"], result
        assert isinstance(result["met"], bool)
        if name not in NO_BASELINE:
            assert result["baseline"] and result["ratio"] is not None, result
    assert "not seen on desk B" not in results["propagation"]["note"]
    assert "exactly once: True" in results["drain_10k"]["note"]
    assert "replica equals a clean sync: True" in results["first_sync_sqlite"]["note"] or (
        "not exercised" in results["first_sync_sqlite"]["note"]
    )
    assert report["machine"]["sqlite"]
