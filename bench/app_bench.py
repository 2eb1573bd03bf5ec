"""Window benchmarks, each in a fresh offscreen process: start, memory, event-loop stalls."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from typing import Any

from .common import Result
from .procs import DESK_ENV, ROOT, Cloud, DeskDir, finish


def spawn_probe(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **DESK_ENV, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "bench.app_probe", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)


def probe(*args: str, timeout: float = 900) -> dict[str, Any]:
    return finish(spawn_probe(*args), timeout)


def app_start(desk: DeskDir, repeat: int) -> tuple[Result, Result]:
    """The signed-in desk's window with its replica, and a bare QApplication beside it."""
    runs, bares = [], []
    for _ in range(repeat):  # interleaved: a busy spell of the machine hits both alike
        runs.append(probe("start", str(desk.path)))
        bares.append(probe("bare"))
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


def loop_stall(cloud: Cloud, desk: DeskDir) -> Result:
    """A new desk's window runs its first full sync; the longest QTimer gap meanwhile.

    Beside it, in its own process for the same time, the same probe in an idle
    QApplication: the stalls a busy shared machine causes by itself.
    """
    desk.login(cloud)
    stop_file = desk.path / "stall-probe.done"
    beside = spawn_probe("idle", "1800", str(stop_file))
    try:
        report = probe("stall", str(desk.path))
    finally:
        stop_file.touch()
    idle = finish(beside, 60)
    worst = float(report["max_stall_ms"])
    note = (f"first sync of {report['rows']} rows inside the window took "
            f"{report.get('sync_s', float('nan')):.1f} s; {report['ticks']} ticks of a "
            f"5 ms QTimer, p99 late {report['p99_stall_ms']:.1f} ms, {report['over_50ms']} "
            f"over 50 ms, the worst {report['worst_at_s']:.1f} s in; baseline: the same probe "
            f"in an idle QApplication meanwhile ({idle['over_50ms']} over 50 ms, p99 late "
            f"{idle['p99_stall_ms']:.1f} ms)")
    return Result("loop_stall", worst, "ms", "never > 50 ms",
                  worst <= 50.0 and bool(report["synced"]), baseline=idle["max_stall_ms"],
                  ratio=worst / max(idle["max_stall_ms"], 0.1), p99=report["p99_stall_ms"],
                  note=note)
