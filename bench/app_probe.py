"""The desk window in its own process, probed: `python -m bench.app_probe MODE [DATA_DIR]`.

    start DIR   the signed-in desk's window: seconds from process start until it is
                usable (shown, unlocked, today's schedule built), and peak RSS
    bare        a bare QApplication with an empty window shown: the same two figures
    stall DIR   a new desk's window while its first full sync runs (the sync thread
                of the window): the longest gap between the ticks of a 5 ms QTimer
    idle S [F]  the same probe on a bare QApplication for S seconds or until file F
                exists: run beside `stall`, it shows what the busy machine alone costs

Runs with QT_QPA_PLATFORM=offscreen (set by the caller). Prints one JSON line.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import psutil

TICK_MS = 5


def since_start() -> float:
    return time.time() - psutil.Process().create_time()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return psutil.Process().memory_info().rss / 2**20


class Probe:
    """A QTimer every TICK_MS; records how late each tick came."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.last: float | None = None
        self.gaps: list[float] = []
        self.times: list[float] = []
        self.recording = True
        self.hooks: list[Any] = []

    def start(self) -> None:
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None and self.recording:
            self.gaps.append((now - self.last) * 1000 - TICK_MS)
            self.times.append(now)
        self.last = now
        for hook in list(self.hooks):
            hook()

    def stalls(self, since: float | None = None) -> dict[str, float]:
        gaps = sorted(self.gaps) or [0.0]
        worst = max(range(len(self.gaps)), key=self.gaps.__getitem__, default=None)
        at = self.times[worst] - since if worst is not None and since is not None else -1.0
        over = sum(1 for g in self.gaps if g > 50)
        return {"max_stall_ms": gaps[-1], "p99_stall_ms": gaps[int(0.99 * (len(gaps) - 1))],
                "ticks": len(gaps), "worst_at_s": at, "over_50ms": over}


def _window() -> Any:
    from PySide6.QtWidgets import QApplication

    from frontdesk.ui.main_window import MainWindow

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.isVisible():
            return widget
    return None


def app_start(data_dir: Path) -> dict[str, Any]:
    # The window's module first, then Qt: the order the `frontdesk` command imports them.
    run_window = importlib.import_module("frontdesk.ui.app").run_window
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    probe = Probe()
    report: dict[str, Any] = {}

    def usable() -> None:
        window = _window()
        if window is None or "usable_s" in report:
            return
        if getattr(window, "desk", None) is None:
            return
        report["usable_s"] = since_start()
        report["sessions"] = len(window.desk.today.model.rows)
        # Let the window settle (its first live sync round starts) before quitting.
        from PySide6.QtCore import QTimer

        QTimer.singleShot(1000, window.close)

    probe.hooks.append(usable)
    probe.start()
    run_window(data_dir, quit_after=60)
    report["peak_rss_mb"] = peak_rss_mb()
    del app
    return report


def bare() -> dict[str, Any]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QLabel("FrontDesk"))
    window.resize(1280, 800)
    report: dict[str, Any] = {}

    def shown() -> None:
        report["usable_s"] = since_start()
        QTimer.singleShot(1000, app.quit)

    window.show()
    QTimer.singleShot(0, shown)
    app.exec()
    report["peak_rss_mb"] = peak_rss_mb()
    return report


def stall(data_dir: Path) -> dict[str, Any]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from frontdesk.ui.app import run_window

    app = QApplication(sys.argv[:1])
    probe = Probe()
    report: dict[str, Any] = {"synced": False}
    state: dict[str, Any] = {"window": None, "started": time.perf_counter()}

    def watch() -> None:
        if state["window"] is not None:
            return
        window = _window()
        if window is None:
            return
        state["window"] = window
        state["started"] = time.perf_counter()
        probe.gaps.clear()
        probe.times.clear()

        def synced() -> None:
            if report["synced"]:
                return
            report["synced"] = True
            report["sync_s"] = time.perf_counter() - state["started"]
            probe.recording = False
            QTimer.singleShot(200, window.close)

        window.ctx.bridge.synced.connect(synced)

    probe.hooks.append(watch)
    probe.start()
    run_window(data_dir, quit_after=900)
    report.update(probe.stalls(since=state["started"]))
    report["rows"] = _rows(data_dir)
    del app
    return report


def _rows(data_dir: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(data_dir / "replica.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM rows").fetchone()[0])
    finally:
        conn.close()


def idle(seconds: float, stop_file: Path | None = None) -> dict[str, Any]:
    """The probe alone, for `seconds` or until `stop_file` exists (run beside another)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    probe = Probe()
    started = time.perf_counter()
    if stop_file is not None:
        probe.hooks.append(lambda: stop_file.exists() and app.quit())
    probe.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    return {**probe.stalls(), "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    mode = args[0]
    if mode == "start":
        report = app_start(Path(args[1]))
    elif mode == "bare":
        report = bare()
    elif mode == "stall":
        report = stall(Path(args[1]))
    elif mode == "idle":
        report = idle(float(args[1]), Path(args[2]) if len(args) > 2 else None)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
