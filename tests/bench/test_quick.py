"""The benchmarks in quick mode, so they cannot rot: they run and report, no bar judged."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.__main__ import main


def test_quick_benchmarks_report_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    assert main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    names = [r["name"] for r in report["results"]]
    assert {"search", "checkin"} <= set(names)
    for result in report["results"]:
        assert math.isfinite(result["figure"]) and result["figure"] > 0
        assert result["baseline"] and result["ratio"] is not None
    assert report["machine"]["sqlite"]
