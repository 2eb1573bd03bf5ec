"""The live signal: wakes long-polls when a tenant's feed moves, across worker processes.

On PostgreSQL a background thread LISTENs on `frontdesk_feed` (pushes NOTIFY in their
transaction, so the signal arrives on commit, in every worker). On SQLite one thread
per process reads the feed counters every `poll_seconds` while anyone is waiting.
Pushes in this process also announce directly, so a wake never waits for either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass

from .db import Database
from .store import all_feed_positions

log = logging.getLogger(__name__)

CHANNEL = "frontdesk_feed"


@dataclass(eq=False)
class _Waiter:
    tenant_id: str
    after: int
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event


class FeedWatcher:
    def __init__(self, db: Database, poll_seconds: float = 0.1) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._latest: dict[str, int] = {}
        self._waiters: set[_Waiter] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._busy = threading.Event()  # someone is waiting (SQLite polls only then)
        #: Tenants whose figure was heard on the current LISTEN connection (PostgreSQL).
        self._heard: set[str] = set()

    def latest(self, tenant_id: str) -> int:
        with self._lock:
            return self._latest.get(tenant_id, 0)

    def sure(self, tenant_id: str) -> bool:
        """Whether `latest` is the tenant's latest committed position for certain: on
        PostgreSQL, once a NOTIFY of the tenant arrived on a LISTEN connection that has
        not broken since (every later commit then NOTIFYs on it too)."""
        with self._lock:
            return tenant_id in self._heard

    def announce(self, tenant_id: str, position: int, *, heard: bool = False) -> None:
        """The tenant's feed reached `position`: wake everyone waiting for less."""
        with self._lock:
            if heard:
                self._heard.add(tenant_id)
            if position <= self._latest.get(tenant_id, 0):
                return
            self._latest[tenant_id] = position
            woken = [w for w in self._waiters if w.tenant_id == tenant_id and w.after < position]
        for waiter in woken:
            with contextlib.suppress(RuntimeError):  # its loop has closed: nobody to wake
                waiter.loop.call_soon_threadsafe(waiter.event.set)

    async def wait(self, tenant_id: str, after: int, timeout: float) -> None:
        """Return when the feed passes `after` (as far as this watcher knows) or on timeout."""
        self._start()
        waiter = _Waiter(tenant_id, after, asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self._latest.get(tenant_id, 0) > after:
                return
            self._waiters.add(waiter)
            self._busy.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.event.wait(), timeout)
        finally:
            with self._lock:
                self._waiters.discard(waiter)
                if not self._waiters:
                    self._busy.clear()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            target = self._listen if self.db.is_postgres else self._poll
            self._thread = threading.Thread(target=target, name="feed-watcher", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._busy.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._busy.wait()
            if self._stop.is_set():
                return
            try:
                with self.db.transaction() as conn:
                    positions = all_feed_positions(conn)
                for tenant_id, position in positions.items():
                    self.announce(tenant_id, position)
            except Exception:
                log.exception("reading the feed counters failed; retrying")
            self._stop.wait(self.poll_seconds)

    def _listen(self) -> None:
        import psycopg

        url = self.db.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            tenant_id, _, position = note.payload.partition(":")
                            if position.isdigit():
                                self.announce(tenant_id, int(position), heard=True)
            except Exception:
                log.exception("listening for feed notifications failed; reconnecting")
            finally:
                with self._lock:  # what it missed while down is unknown: ask the database
                    self._heard.clear()
                self._stop.wait(1.0)
