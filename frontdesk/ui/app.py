"""Composition root: builds the replica, desk, catalogue, sync bridge and window, and runs them.

`main(data_dir)` is what `frontdesk` with no subcommand opens: the sign-in screen on a
new desk, else the PIN lock. `run_window` opens an already signed-in desk unlocked as
the staff member who signed it in (for `frontdesk demo`), optionally saving a
screenshot once the first sync has filled the window and quitting after some seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import logging.handlers
import os
import signal
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEvent, QTimer, SignalInstance
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from frontdesk import __version__
from frontdesk.local_db import Desk, Replica
from frontdesk.local_db.catalogue import Catalogue
from frontdesk.sync import CloudClient, SyncState

from . import i18n
from . import settings as settings_file
from .bridge import ClientFactory, SyncBridge
from .context import DeskContext
from .main_window import MainWindow
from .pins import PinGate
from .resources import icon_path

log = logging.getLogger("frontdesk.ui")


def desk_now() -> datetime:
    """This PC's clock. FRONTDESK_CLOCK_SKEW_S shifts it, to rehearse a wrong PC clock."""
    skew = float(os.environ.get("FRONTDESK_CLOCK_SKEW_S", "0") or 0)
    return datetime.now(UTC) + timedelta(seconds=skew)


def build_context(
    data_dir: Path,
    *,
    client_factory: ClientFactory | None = None,
    now: Callable[[], datetime] = desk_now,
    offline_switch: bool = False,
    replica: Replica | None = None,
) -> DeskContext:
    """Every service of one desk, built once and passed down explicitly."""
    replica = replica or Replica(data_dir / "replica.db")
    desk_settings = settings_file.load(data_dir / "settings.json")
    i18n.set_language(desk_settings.language)
    if client_factory is None:
        client_factory = partial(CloudClient, now=now)  # offsets measured on this PC's clock
    bridge = SyncBridge(replica, data_dir, client_factory, now)
    pins = PinGate(
        data_dir / "pin_state.json",
        max_failures=desk_settings.pin_max_failures,
        lockout_seconds=desk_settings.pin_lockout_seconds,
        now=now,
    )
    return DeskContext(
        data_dir=data_dir,
        replica=replica,
        desk=Desk(replica),
        catalogue=Catalogue(replica),
        bridge=bridge,
        settings=desk_settings,
        pins=pins,
        now=now,
        offline_switch=offline_switch,
    )


def open_window(ctx: DeskContext, *, unlocked: bool) -> MainWindow:
    """The window in its first state: sign-in, lock, or unlocked as the signed-in staff."""
    window = MainWindow(ctx)
    signed_in = ctx.catalogue.signed_in_staff()
    if ctx.catalogue.location_id() is None or signed_in is None:
        window.show_sign_in()
    elif unlocked or not any(s.pin_hash for s in ctx.catalogue.staff_here()):
        window.unlock(signed_in)
    else:
        window.lock()
    return window


def _logging(data_dir: Path) -> None:
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / "frontdesk.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(os.environ.get("FRONTDESK_LOG", "INFO"))


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """A bug: log it with its traceback; the desk keeps running."""
    log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))


def _run(
    data_dir: Path,
    *,
    unlocked: bool,
    screenshot: Path | None = None,
    quit_after: float | None = None,
    offline_switch: bool = False,
) -> int:
    import qasync

    _logging(data_dir)
    sys.excepthook = _excepthook
    log.info("FrontDesk %s starting; data folder %s", __version__, data_dir)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("FrontDesk")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(icon_path())))
    app.setQuitOnLastWindowClosed(False)
    ctx = build_context(data_dir, offline_switch=offline_switch)
    _log_sync_state(ctx.bridge.state_changed)

    async def serve() -> int:
        closed = asyncio.Event()
        window = open_window(ctx, unlocked=unlocked)
        app.lastWindowClosed.connect(closed.set)
        app.aboutToQuit.connect(closed.set)
        _close_on_termination(window.close)
        if screenshot is not None:
            _screenshot_after_first_sync(window, screenshot)
        window.show()
        # Everything built so far lives as long as the window: out of the collector's
        # sight, a full collection (which the sync thread's allocations can trigger at any
        # moment, holding the GIL) walks a few thousand objects instead of ~70,000, so it
        # no longer stalls the event loop for tens of milliseconds.
        gc.freeze()
        log.info("window shown (%s)", window.ctx.catalogue.location_id() or "not signed in")
        if quit_after is not None:
            QTimer.singleShot(int(quit_after * 1000), window.close)
        await closed.wait()
        if screenshot is not None and not screenshot.exists():
            save_screenshot(window, screenshot)
        return 0

    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(serve())
    finally:
        ctx.tasks.cancel_all()
        ctx.bridge.shutdown()
        ctx.replica.close()
        log.info("FrontDesk closed")


def _close_on_termination(close: Callable[[], object]) -> None:
    """SIGTERM (log-out, shutdown, `kill`) and Ctrl-C close the window like its close button.

    Quitting then stops sync and closes the replica; the outbox keeps every action. Windows
    has no such signals on the event loop: there the window is closed by its own message.
    """
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, close)


def _log_sync_state(changed: SignalInstance) -> None:
    """Log when the desk goes online or offline, and each completed sync, for support."""
    last = SyncState()

    def note(state: SyncState) -> None:
        nonlocal last
        if state.online != last.online:
            if state.online:
                log.info("online")
            else:
                log.info("offline%s", f": {state.last_error}" if state.last_error else "")
        if state.last_sync is not None and state.last_sync != last.last_sync:
            log.info("synced at %s", state.last_sync.isoformat())
        last = state

    changed.connect(note)


def save_screenshot(window: MainWindow, path: Path) -> None:
    # Text and style changes queue layout requests: run them so nothing is grabbed half-laid.
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))


def _screenshot_after_first_sync(window: MainWindow, path: Path) -> None:
    def take() -> None:
        if not path.exists():
            save_screenshot(window, path)

    # MainWindow redraws from the replica on `synced` (connected first); the grab waits for
    # the events that redraw queued.
    window.ctx.bridge.synced.connect(lambda: QTimer.singleShot(0, take))


def main(data_dir: Path) -> int:
    """`frontdesk` with no subcommand: the window for this desk's data folder."""
    return _run(data_dir, unlocked=False)


def run_window(
    data_dir: Path,
    *,
    screenshot: Path | None = None,
    quit_after: float | None = None,
    offline_switch: bool = False,
) -> int:
    """Open a signed-in desk's window unlocked (for `frontdesk demo`)."""
    return _run(
        data_dir,
        unlocked=True,
        screenshot=screenshot,
        quit_after=quit_after,
        offline_switch=offline_switch,
    )
