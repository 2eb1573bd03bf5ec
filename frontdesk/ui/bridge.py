"""The one place asyncio meets Qt.

The sync engine runs on its own thread with its own asyncio loop, so that applying a
pulled page (SQLite writes of thousands of rows) never stalls the window; its events
cross to the UI thread as queued Qt signals. The window's own coroutines run on the
qasync loop and await the engine through `call`, and DB-heavy reads through
`run_blocking`. `TaskSet` keeps a reference to every task it starts (qasync keeps
none) and sends a task's exception to sys.excepthook, where bugs are logged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from frontdesk.local_db import Replica
from frontdesk.sync import (
    CloudClient,
    CredentialStore,
    DeviceRevoked,
    NotSignedIn,
    SignIn,
    SyncEngine,
    SyncState,
    open_store,
    sign_in,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

ClientFactory = Callable[[str], CloudClient]

#: Changes per pulled page in the window. The sync thread holds the GIL while it parses
#: an answer (json.loads is one C call): a 5,000-change page (2.4 MB) stalled the event
#: loop for 60-130 ms on a busy 2-core machine; a 1,000-change page stays well under 50.
WINDOW_PAGE = 1000


class TaskSet:
    """Tasks started from slots, kept alive until done; failures reach the excepthook."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_event_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def cancel_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()


class _LoopThread:
    """A daemon thread running an asyncio loop, started on first use."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._ready = threading.Event()

    def ensure(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            self.thread = threading.Thread(target=self._run, name="frontdesk-sync", daemon=True)
            self.thread.start()
            self._ready.wait()
        assert self.loop is not None
        return self.loop

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.ensure())

    def close(self, timeout: float = 5.0) -> None:
        if self.loop is None or self.thread is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        self.loop = None
        self.thread = None


class SyncBridge(QObject):
    """Adapts the sync engine's events to Qt signals and runs it off the UI thread."""

    state_changed = Signal(object)  # SyncState
    data_changed = Signal(object)  # frozenset of partition names
    pushed = Signal(int)
    synced = Signal()  # a whole push-and-pull round finished
    running_changed = Signal(bool)

    def __init__(
        self,
        replica: Replica,
        data_dir: Path,
        client_factory: ClientFactory,
        now: Callable[[], Any],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self.data_dir = data_dir
        self.client_factory = client_factory
        self.now = now
        self.engine: SyncEngine | None = None
        self.state = SyncState(online=False, signed_in=bool(replica.meta("server_url")))
        self._thread = _LoopThread()
        self._blocking = concurrent.futures.ThreadPoolExecutor(1, "frontdesk-read")
        self._run: concurrent.futures.Future[None] | None = None
        self._stop: asyncio.Event | None = None
        self._last_sync_seen = self.state.last_sync

    # -- from the window's coroutines ---------------------------------------------------
    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine that runs on the sync thread (network work)."""
        return await asyncio.wrap_future(self._thread.submit(coro))

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run slow local work (a report over weeks, an argon2 check) off the UI thread."""
        return await asyncio.wrap_future(self._blocking.submit(fn, *args))

    # -- engine lifecycle -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._run is not None and not self._run.done()

    def open_engine(self) -> bool:
        """Build the engine of an already signed-in desk; False when it cannot sync."""
        if self.engine is not None:
            return True
        server = self.replica.meta("server_url")
        if not server:
            self._publish(replace(self.state, signed_in=False))
            return False
        store = open_store(
            self.replica.meta("credential_storage"),
            self.replica.meta("desk_id") or "",
            self.data_dir,
        )
        if store.load() is None:
            self._publish(replace(self.state, signed_in=False))
            return False
        self._adopt(
            SyncEngine(
                self.replica,
                self.client_factory(server),
                store,
                now=self.now,
                page_limit=WINDOW_PAGE,
            )
        )
        return True

    def _adopt(self, engine: SyncEngine) -> None:
        self.engine = engine
        engine.subscribe(self._on_event)
        self._publish(engine.state)

    async def sign_in(
        self,
        server: str,
        tenant: str,
        username: str,
        password: str,
        location_id: str | None = None,
    ) -> SignIn:
        """Sign this desk in (network work on the sync thread); the engine is then ready."""
        self.stop()
        await self._wait_stopped()
        client = self.client_factory(server)

        async def go() -> tuple[SignIn, CredentialStore]:
            try:
                return await sign_in(
                    self.replica,
                    client,
                    self.data_dir,
                    tenant=tenant,
                    username=username,
                    password=password,
                    location_id=location_id,
                )
            except BaseException:
                await client.aclose()
                raise

        result, store = await self.call(go())
        old = self.engine
        if old is not None:
            self._thread.submit(old.client.aclose())
        self.engine = None
        self._adopt(SyncEngine(self.replica, client, store, now=self.now, page_limit=WINDOW_PAGE))
        return result

    async def sync_once(self) -> None:
        """One full round now (used right after sign-in, before showing the desk)."""
        if self.engine is None:
            raise NotSignedIn("This desk is not signed in.")
        await self.call(self.engine.sync_once())

    def start(self) -> bool:
        """Keep syncing in the background (live) until `stop`."""
        if self.running or (self.engine is None and not self.open_engine()):
            return self.running
        assert self.engine is not None
        self._run = self._thread.submit(self._live(self.engine))
        self.running_changed.emit(True)
        return True

    async def _live(self, engine: SyncEngine) -> None:
        self._stop = asyncio.Event()
        try:
            await engine.run(self._stop)
        except (NotSignedIn, DeviceRevoked) as exc:
            log.warning("sync stopped: %s", exc)
            self._on_event("state", replace(engine.state, signed_in=False, online=False))

    def stop(self) -> None:
        """Stop syncing (Work offline, or quitting); the outbox keeps every action."""
        loop, stop = self._thread.loop, self._stop
        if loop is not None and stop is not None and self.running:
            loop.call_soon_threadsafe(stop.set)
        if self.engine is not None:
            self._publish(replace(self.engine.state, online=False, syncing=False))
        self.running_changed.emit(False)

    async def _wait_stopped(self) -> None:
        if self._run is not None and not self._run.done():
            await asyncio.wrap_future(self._run)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the engine, close its HTTP client, end the sync thread (on quit)."""
        self.stop()
        if self._run is not None:
            with contextlib.suppress(Exception):
                self._run.result(timeout)
        if self.engine is not None and self._thread.loop is not None:
            with contextlib.suppress(Exception):
                self._thread.submit(self.engine.client.aclose()).result(timeout)
        self._thread.close(timeout)
        self._blocking.shutdown(wait=True, cancel_futures=True)

    # -- events (called on the sync thread) ---------------------------------------------------
    def _on_event(self, event: str, payload: object) -> None:
        if event == "state":
            assert isinstance(payload, SyncState)
            self._publish(payload)
        elif event == "changed":
            self.data_changed.emit(payload)
        elif event == "pushed":
            self.pushed.emit(int(payload))  # type: ignore[call-overload]

    def _publish(self, state: SyncState) -> None:
        self.state = state
        self.state_changed.emit(state)
        if state.last_sync is not None and state.last_sync != self._last_sync_seen:
            self._last_sync_seen = state.last_sync
            self.synced.emit()


def run_soon(tasks: TaskSet, fn: Callable[[], Awaitable[Any]]) -> Callable[..., None]:
    """A slot that starts coroutine `fn` as a kept task (Qt slots cannot await)."""

    def slot(*_args: Any) -> None:
        tasks.spawn(fn())  # type: ignore[arg-type]

    return slot
