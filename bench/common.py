"""Figures, percentiles and the results file (contracts.md: bench/results/latest.json)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


@dataclass
class Result:
    name: str
    figure: float  # the headline number, in `unit`
    unit: str
    bar: str  # the quality bar, as written in quality.md
    met: bool
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    baseline: float | None = None  # the plain baseline measured in the same run, same unit
    ratio: float | None = None  # figure / baseline
    note: str = ""

    def line(self) -> str:
        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.3g}"

        return (
            f"{self.name:<20} {fmt(self.figure):>9} {self.unit:<4} {fmt(self.p50):>9} "
            f"{fmt(self.p95):>9} {fmt(self.p99):>9}  {self.bar:<34} {fmt(self.baseline):>9}  "
            f"{fmt(self.ratio):>7}  {'MET' if self.met else 'MISSED'}  {self.note}"
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples_ms),
        "p95": percentile(samples_ms, 0.95),
        "p99": percentile(samples_ms, 0.99),
    }


def time_each(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds per call."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Seconds elapsed, in the list's only element after the block."""
    box = [0.0]
    start = time.perf_counter()
    yield box
    box[0] = time.perf_counter() - start


def machine() -> dict[str, Any]:
    import sqlite3

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }


def write(results: list[Result], path: Path | None = None) -> Path:
    path = path or RESULTS / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"machine": machine(), "results": [asdict(r) for r in results]}, indent=1)
    )
    return path
