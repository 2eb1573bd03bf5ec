"""The sync engine: signs in, pushes the outbox, pulls partitions, follows live changes.

No Qt here: state and events are plain values and callbacks that the UI adapts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from frontdesk.domain.clock import local_date
from frontdesk.domain.codec import encode
from frontdesk.domain.model import Location, Role, StaffMember
from frontdesk.local_db import EffectiveReader, Replica
from frontdesk.protocol import (
    CATALOGUE,
    MAX_BATCH,
    MAX_PAGE,
    MEMBERS,
    CommandEnvelope,
    DeviceRequest,
    PartitionCursor,
    PullRequest,
    PushRequest,
    parse_partition,
    schedule_partition,
    window_days,
)

from .client import CloudClient, CloudError, Unauthorized, Unreachable
from .credentials import CredentialStore, choose_store, open_store

log = logging.getLogger(__name__)
T = TypeVar("T")

STUCK_AFTER = timedelta(minutes=1)
#: How often a live desk looks for work queued by another process (an indexed read):
#: it adds half of this, on average, to the time a check-in takes to reach other desks.
LOCAL_POLL_S = 0.05
#: While the cloud gives no answer, how often to look for it again (seconds, jittered).
PROBE_EVERY_S = 1.0


class NotSignedIn(Exception):
    """This desk has no usable credentials: sign in again."""


class DeviceRevoked(Exception):
    """The cloud revoked this desk; its member data has been removed."""


@dataclass(frozen=True)
class SyncState:
    online: bool = False
    syncing: bool = False
    last_sync: datetime | None = None
    last_error: str = ""
    clock_offset_s: float | None = None
    clock_wrong: bool = False
    stuck: bool = False  # the queue head has not moved for a minute while online
    signed_in: bool = True


@dataclass(frozen=True)
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    changed_partitions: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class SignIn:
    location_id: str
    credential_storage: str
    staff_id: str
    role: str


async def sign_in(
    replica: Replica,
    client: CloudClient,
    data_dir: Path,
    *,
    tenant: str,
    username: str,
    password: str,
    location_id: str | None = None,
    insecure_storage: bool = False,
) -> tuple[SignIn, CredentialStore]:
    """Log in, register (or re-register) this desk, and keep its refresh token."""
    tokens = await client.login(tenant, username, password)
    if location_id is None:
        if not tokens.location_ids:
            raise CloudError(400, "no_location", "This staff member has no location.")
        location_id = tokens.location_ids[0]
    elif tokens.location_ids and location_id not in tokens.location_ids:
        raise CloudError(403, "wrong_location", "This staff member does not work there.")
    desk_id = replica.meta("desk_id") or ""
    registration = await client.register(
        tokens.access_token,
        DeviceRequest(
            name=f"{socket.gethostname()} desk", location_id=location_id, desk_id=desk_id
        ),
    )
    store = choose_store(desk_id, data_dir, insecure_storage)
    store.save(registration.refresh_token)
    staff = StaffMember(
        id=tokens.staff_id,
        name=username,
        role=Role(tokens.role),
        location_ids=tokens.location_ids,
    )
    previous_client = replica.meta("client_id")
    if previous_client and previous_client != registration.client_id:
        pending = replica.pending(1)
        if pending:
            raise CloudError(
                409,
                "client_changed",
                "The cloud gave this desk a new identity while it has unsynced work.",
            )
    replica.set_meta_values(
        {
            "server_url": client.base_url,
            "tenant_slug": tenant,
            "tenant_id": tokens.tenant_id,
            "location_id": registration.location_id,
            "device_id": registration.device_id,
            "client_id": registration.client_id,
            "staff_id": tokens.staff_id,
            "staff": json.dumps(encode(staff)),
            "credential_storage": store.kind,
            "clock_offset_s": _offset_text(client.clock_offset_s),
        }
    )
    return (
        SignIn(registration.location_id, store.kind, tokens.staff_id, tokens.role),
        store,
    )


def _offset_text(offset: float | None) -> str | None:
    return None if offset is None else f"{offset:.3f}"


class SyncEngine:
    """Pushes and pulls for one desk; `run` keeps it live until stopped."""

    def __init__(
        self,
        replica: Replica,
        client: CloudClient,
        store: CredentialStore,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        live_wait_s: float = 25.0,
        page_limit: int = MAX_PAGE,
    ) -> None:
        self.replica = replica
        #: Changes per pulled page: a window asks for smaller pages, because decoding an
        #: answer holds the GIL, and so its event loop, for as long as it takes.
        self.page_limit = min(page_limit, MAX_PAGE)
        self.client = client
        self.store = store
        self.now = now
        self.live_wait_s = live_wait_s
        self.state = SyncState(clock_offset_s=_float(replica.meta("clock_offset_s")))
        self.listeners: list[Callable[[str, object], None]] = []
        self._access: str | None = None
        self._access_until = datetime.min.replace(tzinfo=UTC)
        self._head: tuple[int, datetime] | None = None
        self._position = 0
        self._lock = asyncio.Lock()

    @classmethod
    def for_replica(
        cls,
        replica: Replica,
        data_dir: Path,
        *,
        timeout: float = 15.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> SyncEngine:
        """The engine of a signed-in desk; NotSignedIn when it has no usable token."""
        server = replica.meta("server_url")
        desk_id = replica.meta("desk_id") or ""
        store = open_store(replica.meta("credential_storage"), desk_id, data_dir)
        if not server or store.load() is None:
            raise NotSignedIn("This desk is not signed in.")
        return cls(replica, CloudClient(server, timeout=timeout, now=now), store, now=now)

    # -- events ---------------------------------------------------------------------
    def subscribe(self, listener: Callable[[str, object], None]) -> None:
        self.listeners.append(listener)

    def _emit(self, event: str, payload: object) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, payload)
            except Exception:  # a listener's bug must not stop sync
                log.exception("sync listener failed on %s", event)

    def _set(self, **changes: object) -> None:
        new = replace(self.state, **changes)  # type: ignore[arg-type]
        if new != self.state:
            self.state = new
            self._emit("state", new)

    # -- tokens -----------------------------------------------------------------------
    async def _token(self) -> str:
        if self._access is not None and self.now() < self._access_until:
            return self._access
        refresh = self.store.load()
        if refresh is None:
            self._set(signed_in=False)
            raise NotSignedIn("This desk is not signed in.")
        try:
            tokens = await self.client.refresh(refresh)
        except Unauthorized as exc:
            if exc.code == "device_revoked":
                self._revoked()
            self._set(signed_in=False)
            raise NotSignedIn(exc.message) from exc
        # Keep the rotated token before using the new access token: if we crash between
        # the two, the cloud's grace period still accepts the previous one.
        self.store.save(tokens.refresh_token)
        self._access = tokens.access_token
        self._access_until = self.now() + timedelta(seconds=max(tokens.expires_in - 30, 5))
        return self._access

    def _revoked(self) -> None:
        self.replica.forget_members()
        self.store.clear()
        raise DeviceRevoked("This desk was revoked by the studio; its member data was removed.")

    async def _authorized(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run a call with a fresh access token, refreshing once on a 401."""
        for attempt in (1, 2):
            token = await self._token()
            try:
                return await call(token)
            except Unauthorized as exc:
                if exc.code == "device_revoked":
                    self._revoked()
                self._access = None
                if attempt == 2:
                    self._set(signed_in=False)
                    raise NotSignedIn(exc.message) from exc
        raise AssertionError("unreachable")

    # -- one round -----------------------------------------------------------------------
    async def sync_once(self) -> SyncReport:
        """Push the whole outbox, then pull every partition to the latest change."""
        async with self._lock:
            self._set(syncing=True)
            try:
                pushed = await self.push_all()
                pulled, changed = await self.pull_all()
            except Unreachable as exc:
                self._set(online=False, syncing=False, last_error=exc.message)
                raise
            self._contact()
            self._set(syncing=False, last_sync=self.now(), last_error="", online=True)
            self.replica.set_meta_values({"last_sync": encode(self.now())})
            self._watch_queue()
            if changed:
                self._emit("changed", frozenset(changed))
            return SyncReport(pushed, pulled, frozenset(changed))

    def _contact(self) -> None:
        offset = self.client.clock_offset_s
        values: dict[str, str | None] = {"last_contact": encode(self.now())}
        if offset is not None:
            values["clock_offset_s"] = _offset_text(offset)
            with self.replica.read() as conn:
                tolerance = self.replica.policy(EffectiveReader(conn)).clock_tolerance_seconds
            self._set(clock_offset_s=offset, clock_wrong=abs(offset) > tolerance)
        self.replica.set_meta_values(values)

    async def push_all(self) -> int:
        client_id = self.replica.meta("client_id")
        if client_id is None:
            raise NotSignedIn("This desk is not registered.")
        pushed = 0
        while True:
            batch = _bounded(self.replica.pending(MAX_BATCH))
            if not batch:
                return pushed
            request = PushRequest(client_id=client_id, commands=tuple(batch))
            answer = await self._authorized(partial(self.client.push, request=request))
            outcomes = answer.outcomes
            self.replica.acknowledge(outcomes, self.now())
            pushed += len(outcomes)
            self._emit("pushed", len(outcomes))
            if not outcomes:
                return pushed

    def desired_partitions(self) -> list[str]:
        """Catalogue, today's schedule here, members, then the rest of the window."""
        with self.replica.read() as conn:
            location_id = Replica.get_meta(conn, "location_id")
            location = EffectiveReader(conn).get(Location, location_id) if location_id else None
        wanted = [CATALOGUE]
        if location is not None:
            today = local_date(self.now(), location.timezone)
            wanted.append(schedule_partition(location.id, today))
            wanted.append(MEMBERS)
            wanted += [
                schedule_partition(location.id, day) for day in window_days(today) if day != today
            ]
        else:
            wanted.append(MEMBERS)
        return wanted

    async def pull_all(self) -> tuple[int, set[str]]:
        pulled = 0
        changed: set[str] = set()
        done: set[str] = set()
        while True:
            desired = self.desired_partitions()
            wanted = [p for p in desired if p not in done]
            if not wanted:
                break
            self._drop_outside(desired)
            cursors = self.replica.cursors()
            # Partitions already caught up go together in one request (a live wake-up
            # costs one round trip and one commit, not one per partition), each page kept
            # small; a partition still downloading goes alone, in full pages, so each
            # answer and write transaction stays short.
            caught_up = self.replica.caught_up()
            names = [p for p in wanted if p in caught_up][:MAX_PARTITIONS]
            if len(names) < 2:
                names = wanted[:1]
            size = self.page_limit
            limit = size if len(names) == 1 else max(size // len(names), 100)
            request = PullRequest(
                partitions=tuple(PartitionCursor(n, cursors.get(n)) for n in names), limit=limit
            )
            answer = await self._authorized(partial(self.client.pull, request=request))
            # Applied here, between requests: while the next page is asked for, the write
            # lock is free, so a check-in is never stuck behind a download.
            self.replica.apply_pages(list(answer.pages), answer.position)
            self._position = max(self._position, answer.position)
            for page in answer.pages:
                pulled += len(page.changes)
                if page.changes or page.reset:
                    changed.add(page.partition)
                if not page.more:
                    done.add(page.partition)
                self._emit("pulled", page.partition)
        return pulled, changed

    def _drop_outside(self, wanted: list[str]) -> None:
        held = self.replica.cursors()
        keep = set(wanted)
        stale = [p for p in held if p not in keep and parse_partition(p)[0] == "schedule"]
        if stale:
            self.replica.drop_partitions(stale)

    def _watch_queue(self) -> None:
        """Alert when the head of the upload queue has not moved for a minute."""
        batch = self.replica.pending(1)
        if not batch:
            self._head = None
            self._set(stuck=False)
            return
        seq = batch[0].seq
        if self._head is None or self._head[0] != seq:
            self._head = (seq, self.now())
        self._set(stuck=self.state.online and self.now() - self._head[1] > STUCK_AFTER)

    # -- live -------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Keep syncing until `stop` is set: live changes, retries with backoff and jitter."""
        backoff = 1.0
        while not stop.is_set():
            try:
                await self.sync_once()
                backoff = 1.0
                await self._wait_for_change(stop)
            except Unreachable as exc:
                self._watch_queue()
                delay = min(backoff, 30.0) * random.uniform(0.5, 1.5)
                backoff = min(backoff * 2, 30.0)
                if exc.status == 0:  # no answer at all: the network or the cloud is down
                    await self._back_off_until_reachable(stop, delay)
                else:
                    await _sleep_or_stop(stop, delay)
            except CloudError as exc:
                log.warning("sync refused: %s (%s)", exc.message, exc.code)
                self._set(last_error=exc.message)
                await _sleep_or_stop(stop, 30.0)

    async def _back_off_until_reachable(self, stop: asyncio.Event, delay: float) -> None:
        """Back off for `delay`, but no longer than the outage: a cheap health probe every
        second or so ends the wait as soon as the cloud answers again, so a queue stuck
        behind an outage drains within seconds of the network healing (not up to 45 s)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while not stop.is_set():
            left = deadline - loop.time()
            if left <= 0:
                return
            await _sleep_or_stop(stop, min(PROBE_EVERY_S * random.uniform(0.5, 1.5), left))
            if not stop.is_set() and await self.client.health():
                return

    async def _wait_for_change(self, stop: asyncio.Event) -> None:
        """Long-poll the cloud; return early when staff queued work or stop is set."""
        position = self._position
        poll = asyncio.ensure_future(
            self._authorized(partial(self.client.live, position=position, wait_s=self.live_wait_s))
        )
        stopper = asyncio.ensure_future(stop.wait())
        local = asyncio.ensure_future(self._local_work(stop))
        try:
            finished, _ = await asyncio.wait(
                {poll, stopper, local}, return_when=asyncio.FIRST_COMPLETED
            )
            if poll in finished:
                poll.result()
        finally:
            for task in (poll, stopper, local):
                task.cancel()

    async def _local_work(self, stop: asyncio.Event) -> None:
        """Return as soon as the outbox holds something to push."""
        while not stop.is_set():
            if self.replica.pending(1):
                return
            await asyncio.sleep(LOCAL_POLL_S)


MAX_PARTITIONS = 100  # in one pull request (the cloud's limit)
MAX_PUSH_BYTES = 4_000_000  # well under the cloud's request limit, whatever the commands


def _bounded(batch: list[CommandEnvelope]) -> list[CommandEnvelope]:
    """The longest prefix of `batch` whose encoded size stays under MAX_PUSH_BYTES."""
    total = 0
    for count, envelope in enumerate(batch):
        total += len(json.dumps(encode(envelope), ensure_ascii=False).encode())
        if total > MAX_PUSH_BYTES and count:
            return batch[:count]
    return batch


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=delay)


def _float(value: str | None) -> float | None:
    return float(value) if value else None
