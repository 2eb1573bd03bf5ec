"""Window benchmarks, each in a fresh offscreen process: start, memory, event-loop stalls."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from typing import Any

from .common import Result
from .procs import DESK_ENV, ROOT, Cloud, DeskDir, finish


def probe(*args: str, timeout: float = 900) -> dict[str, Any]:
    env = {**os.environ, **DESK_ENV, "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen([sys.executable, "-m", "bench.app_probe", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, cwd=ROOT)
    return finish(process, timeout)


def app_start(desk: DeskDir, repeat: int) -> tuple[Result, Result]:
    """The signed-in desk's window with its replica, and a bare QApplication beside it."""
    runs = [probe("start", str(desk.path)) for _ in range(repeat)]
    bares = [probe("bare") for _ in range(repeat)]
    start = statistics.median(r["usable_s"] for r in runs)
    base = statistics.median(r["usable_s"] for r in bares)
    rss = max(r["peak_rss_mb"] for r in runs)
    base_rss = max(r["peak_rss_mb"] for r in bares)
    rows = desk.query("SELECT COUNT(*) FROM rows")[0][0]
    members = desk.query("SELECT COUNT(*) FROM rows WHERE kind = 'member'")[0][0]
    note = f"replica of {members} members ({rows} rows); median of {repeat} offscreen starts"
    return (
        Result("app_start", start, "s", "<= 1.5 s", start <= 1.5, baseline=base,
               ratio=start / base,
               note=note + f" (each: {[round(r['usable_s'], 2) for r in runs]})",
               p50=start),
        Result("app_memory", rss, "MB", "<= 250 MB RSS", rss <= 250.0, baseline=base_rss,
               ratio=rss / base_rss, note=note + "; peak RSS (VmHWM) until a second after usable"),
    )


def loop_stall(cloud: Cloud, desk: DeskDir, idle_s: float) -> Result:
    """A new desk's window runs its first full sync; the longest QTimer gap meanwhile."""
    desk.login(cloud)
    report = probe("stall", str(desk.path))
    idle = probe("idle", str(idle_s))
    worst = float(report["max_stall_ms"])
    note = (f"first sync of {report['rows']} rows inside the window took "
            f"{report.get('sync_s', float('nan')):.1f} s; {report['ticks']} ticks of a "
            f"{5} ms QTimer, p99 late {report['p99_stall_ms']:.1f} ms; baseline: the same probe "
            f"in an idle QApplication for {idle_s:.0f} s")
    return Result("loop_stall", worst, "ms", "never > 50 ms",
                  worst <= 50.0 and bool(report["synced"]), baseline=idle["max_stall_ms"],
                  ratio=worst / max(idle["max_stall_ms"], 0.1), p99=report["p99_stall_ms"],
                  note=note)
