"""One tenant's rows inside one transaction: the domain's StateReader, the feed, accounts.

Every tenant-owned query goes through `TenantStore._mine`, so tenant scoping lives in
one place (PostgreSQL's row-level security confines the same rows a second time).
Writes take feed positions from the tenant's counter row, which the writer holds
locked until commit: positions are handed out in commit order and no pull can skip a
change that commits late.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import secrets
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from frontdesk.domain.codec import encode, trusted_decoder
from frontdesk.domain.model import KIND_OF, KINDS, Booking, Location, Session, Tenant
from frontdesk.protocol import (
    CATALOGUE_KINDS,
    CLOUD_ONLY_KINDS,
    MEMBER_KINDS,
    SCHEDULE_KINDS,
    partition_for,
)

from .db import utc
from .schema import (
    TENANT_TABLES,
    applied_commands,
    client_states,
    devices,
    entities,
    feed_counters,
    login_attempts,
    refresh_tokens,
    service_keys,
    staff_credentials,
    tenants,
    tombstones,
)

T = TypeVar("T")

#: Entity fields copied into indexed columns, for `find` and for row locks. A test checks
#: that every (kind, field) look-up of `frontdesk.domain.state.INDEXED` has its column.
REF_COLUMNS = ("session_id", "member_id", "entitlement_id", "card_code", "merged_into")
_BULK_CHUNK = 5000
_CHUNK = 500  # ids in one IN list
_UPDATED = ("data", "partition", "position", *REF_COLUMNS)
_INSERTED = ("kind", "id", *_UPDATED)
_INSERT = (
    f"INSERT INTO entities (tenant_id, {', '.join(_INSERTED)}) "
    f"VALUES ({', '.join('?' * (len(_INSERTED) + 1))})"
)
# Hot-path SQL for TenantStore._raw: `?` markers; every statement binds the tenant.
_GET = "SELECT data, partition FROM entities WHERE tenant_id = ? AND kind = ? AND id = ?"
_FIND = {
    column: f"SELECT id, data, partition FROM entities WHERE tenant_id = ? AND kind = ? "
            f"AND {column} = ?"
    for column in REF_COLUMNS
}
_UPDATE = (
    f"UPDATE entities SET {', '.join(f'{c} = ?' for c in _UPDATED)} "
    "WHERE tenant_id = ? AND kind = ? AND id = ?"
)
_FEED = (
    "SELECT kind, id, data, position FROM entities WHERE tenant_id = ? AND partition = ? "
    "AND position > ? ORDER BY position LIMIT ?"
)
_FEED_TOMBSTONES = (
    "SELECT kind, id, position FROM tombstones WHERE tenant_id = ? AND partition = ? "
    "AND position > ? ORDER BY position LIMIT ?"
)
_PG_SQL: dict[str, str] = {}

assert not (CATALOGUE_KINDS | MEMBER_KINDS | SCHEDULE_KINDS | CLOUD_ONLY_KINDS) ^ set(KINDS), (
    "every entity kind needs a partition rule"
)


class UnknownTenant(LookupError):
    pass


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def entity_json(entity: object) -> str:
    return dumps(encode_fast(entity))


def encode_fast(value: Any) -> Any:
    """`codec.encode` for entities, with per-class field lists: seeding encodes 100,000s.

    A test checks it gives exactly what `codec.encode` gives.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None or kind is float:
        return value
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: encode_fast(getattr(value, name)) for name in names}
    if kind is tuple or kind is list:
        return [encode_fast(v) for v in value]
    if kind is datetime and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if kind is date:
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return encode(value)


_FIELDS: dict[type, tuple[str, ...]] = {}


# --- tenants (the one table without a tenant column) -------------------------------------


@dataclass(frozen=True)
class TenantRow:
    id: str
    slug: str


def find_tenant(conn: Connection, slug: str) -> TenantRow | None:
    row = conn.execute(
        sa.select(tenants.c.id, tenants.c.slug).where(tenants.c.slug == slug)
    ).first()
    return TenantRow(row.id, row.slug) if row else None


def tenant_by_id(conn: Connection, tenant_id: str) -> TenantRow | None:
    row = conn.execute(
        sa.select(tenants.c.id, tenants.c.slug).where(tenants.c.id == tenant_id)
    ).first()
    return TenantRow(row.id, row.slug) if row else None


def insert_tenant(conn: Connection, tenant_id: str, slug: str, now: datetime) -> None:
    conn.execute(sa.insert(tenants).values(id=tenant_id, slug=slug, created_at=now))


def delete_tenant_row(conn: Connection, tenant_id: str) -> None:
    conn.execute(sa.delete(tenants).where(tenants.c.id == tenant_id))


# --- login attempts and service keys (not tenant data) ----------------------------------


def record_login_attempt(
    conn: Connection, tenant: str, username: str, address: str, at: datetime, ok: bool
) -> None:
    conn.execute(
        sa.insert(login_attempts).values(
            tenant=tenant[:64], username=username[:100], address=address[:64], at=at, succeeded=ok
        )
    )


def failed_logins_since(
    conn: Connection, tenant: str, since: datetime, *, username: str | None = None,
    address: str | None = None,
) -> tuple[int, datetime | None]:
    """Failed attempts since `since` for a user or an address: (count, oldest)."""
    query = sa.select(sa.func.count(), sa.func.min(login_attempts.c.at)).where(
        login_attempts.c.tenant == tenant[:64],
        login_attempts.c.at >= since,
        login_attempts.c.succeeded.is_(False),
    )
    if username is not None:
        query = query.where(login_attempts.c.username == username[:100])
    if address is not None:
        query = query.where(login_attempts.c.address == address[:64])
    count, oldest = conn.execute(query).one()
    return int(count), utc(oldest)


def service_key(conn: Connection, name: str) -> str:
    """A random secret shared by every worker, made on first use."""
    found = conn.execute(sa.select(service_keys.c.value).where(service_keys.c.name == name))
    value = found.scalar()
    if value is not None:
        return str(value)
    value = secrets.token_urlsafe(48)
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    new_key = dialect_insert(service_keys).values(name=name, value=value)
    conn.execute(new_key.on_conflict_do_nothing())
    stored = conn.execute(sa.select(service_keys.c.value).where(service_keys.c.name == name))
    return str(stored.scalar_one())


def all_feed_positions(conn: Connection) -> dict[str, int]:
    """Every tenant's feed position (SQLite's live poller; PostgreSQL uses NOTIFY)."""
    rows = conn.execute(sa.select(feed_counters.c.tenant_id, feed_counters.c.position))
    return {row.tenant_id: int(row.position) for row in rows}


# --- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    id: str
    client_id: str
    name: str
    location_id: str
    staff_id: str
    revoked_at: datetime | None
    desk_id: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class RefreshRecord:
    token_hash: str
    staff_id: str
    device_id: str | None
    expires_at: datetime
    replaced_at: datetime | None


@dataclass(frozen=True)
class AppliedCommand:
    seq: int
    command_id: str
    content_hash: str
    outcome: dict[str, Any]


@dataclass(frozen=True)
class AppliedRecord:
    seq: int
    command_id: str
    content_hash: str
    outcome: dict[str, Any]
    feed_position: int


@dataclass(frozen=True)
class FeedRow:
    """One change in a partition: the row's JSON text, or None for a tombstone."""

    kind: str
    id: str
    data: str | None
    position: int


class TenantStore:
    """One tenant inside one open transaction. Not shared between threads."""

    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.is_postgres = conn.dialect.name == "postgresql"
        self._cache: dict[tuple[type, str], object | None] = {}
        self._partition: dict[tuple[str, str], str | None] = {}  # stored partition
        self._stored: set[tuple[str, str]] = set()  # rows known to exist
        self._absent: set[tuple[str, str]] = set()  # rows known not to exist
        self._found: dict[tuple[type, str, str], set[str]] = {}
        self._locked: set[str] = set()
        self._feed_locked = False
        self._cursor: Any = None
        self._feed: tuple[int, int] | None = None  # (position, epoch) while the lock is held
        self._defer = False
        self._unflushed = False

    def _mine(self, table: sa.Table) -> sa.ColumnElement[bool]:
        """The tenant condition every query on a tenant table carries."""
        return table.c.tenant_id == self.tenant_id

    def forget(self) -> None:
        """Drop cached reads (after a savepoint rolled back)."""
        self._cache.clear()
        self._partition.clear()
        self._stored.clear()
        self._absent.clear()
        self._found.clear()
        if not self._defer:
            self._feed = None  # re-read: a rolled-back write may have moved it

    # --- StateReader ---------------------------------------------------------------------

    def _raw(self, sql: str, params: Sequence[Any], *, replan: bool = False) -> list[Any]:
        """Run a hot-path statement on the DBAPI cursor, in this transaction.

        Rules read row by row and a push runs thousands of commands: SQLAlchemy's
        statement building would cost more than the database. `sql` uses `?` markers
        and always has the condition `tenant_id = ?`, bound to `self.tenant_id`.
        `replan` keeps PostgreSQL from preparing it: a generic plan for a list of keys
        guessed from a table without statistics scans the tenant's every row.
        """
        cursor = self._raw_exec(sql, params, replan=replan)
        return list(cursor.fetchall())

    def _raw_exec(self, sql: str, params: Sequence[Any] = (), *, replan: bool = False) -> Any:
        """Send a statement without waiting for its answer (in a pipeline, it is queued)."""
        cursor = self._dbapi_cursor()
        if replan and self.is_postgres:
            cursor.execute(self._dialect_sql(sql), tuple(params), prepare=False)
        else:
            cursor.execute(self._dialect_sql(sql), tuple(params))
        return cursor

    def _raw_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._dbapi_cursor().executemany(self._dialect_sql(sql), [tuple(r) for r in rows])

    def _dialect_sql(self, sql: str) -> str:
        if not self.is_postgres:
            return sql
        return _PG_SQL.get(sql) or _PG_SQL.setdefault(sql, sql.replace("?", "%s"))

    def _dbapi_cursor(self) -> Any:
        """One driver cursor for this transaction's hot paths."""
        if self._cursor is None:
            self._cursor = self.conn.connection.cursor()
        return self._cursor

    @contextlib.contextmanager
    def pipelined(self) -> Iterator[None]:
        """On PostgreSQL, queue statements and wait only when a read needs an answer.

        Inside, a command's savepoint, inserts, updates and release travel with the next
        read instead of one round trip each. An error of a queued statement surfaces at
        that read, which fails the whole transaction as any database error does.
        """
        if not self.is_postgres:
            yield
            return
        with self.conn.connection.dbapi_connection.pipeline():  # type: ignore[union-attr]
            yield

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """One command's writes: kept when the block ends, undone when it raises."""
        self._raw_exec("SAVEPOINT command")
        try:
            yield
        except BaseException:
            self._raw_exec("ROLLBACK TO SAVEPOINT command")
            self._raw_exec("RELEASE SAVEPOINT command")
            self.forget()
            raise
        self._raw_exec("RELEASE SAVEPOINT command")

    def get(self, cls: type[T], entity_id: str) -> T | None:
        key = (cls, entity_id)
        if key not in self._cache:
            found = self._raw(_GET, (self.tenant_id, KIND_OF[cls], entity_id))
            self._remember(cls, entity_id, found[0] if found else None)
        return typing.cast("T | None", self._cache[key])

    def find(self, cls: type[T], field: str, value: str) -> list[T]:
        key = (cls, field, value)
        if key not in self._found:
            kind = KIND_OF[cls]
            if field not in REF_COLUMNS:
                return [e for e in self.all(cls) if getattr(e, field) == value]
            ids: set[str] = set()
            for entity_id, data, partition in self._raw(_FIND[field],
                                                        (self.tenant_id, kind, value)):
                if (cls, entity_id) not in self._cache:
                    self._remember(cls, entity_id, (data, partition))
                current = self._cache[(cls, entity_id)]
                if current is not None and getattr(current, field) == value:
                    ids.add(entity_id)
            self._found[key] = ids
        found = self._found[key]
        return [typing.cast(T, self._cache[(cls, i)]) for i in sorted(found)]

    def all(self, cls: type[T]) -> list[T]:
        rows = self.conn.execute(
            sa.select(entities.c.data).where(self._mine(entities), entities.c.kind == KIND_OF[cls])
        )
        build = trusted_decoder(cls)
        out = [build(json.loads(row.data)) for row in rows]
        return sorted(out, key=lambda e: e.id)  # type: ignore[attr-defined]

    def _remember(self, cls: type, entity_id: str, row: tuple[str, str | None] | None) -> None:
        """Cache a row read as (data, partition), or its absence."""
        kind = KIND_OF[cls]
        if row is None:
            self._cache[(cls, entity_id)] = None
            self._absent.add((kind, entity_id))
            return
        self._cache[(cls, entity_id)] = trusted_decoder(cls)(json.loads(row[0]))
        self._partition[(kind, entity_id)] = row[1]
        self._stored.add((kind, entity_id))

    # --- locks -------------------------------------------------------------------------

    def lock_feed(self) -> int:
        """Take the tenant's feed lock (held to commit); returns the current position."""
        query = sa.select(feed_counters.c.position, feed_counters.c.epoch).where(
            self._mine(feed_counters)
        )
        if self.is_postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            raise UnknownTenant(self.tenant_id)
        self._feed_locked = True
        self._feed = (int(row.position), int(row.epoch))
        return self._feed[0]

    def defer_positions(self) -> None:
        """Keep the counter in memory until `flush_positions` (one UPDATE per batch).

        Positions of writes in a rolled-back savepoint are then skipped, never reused.
        """
        self._defer = True

    def flush_positions(self) -> None:
        if self._unflushed and self._feed is not None:
            self.conn.execute(
                sa.update(feed_counters)
                .where(self._mine(feed_counters))
                .values(position=self._feed[0])
            )
            self._unflushed = False

    def _by_keys(self, columns: str, keys: Sequence[tuple[str, str]], *, lock: bool = False
                 ) -> list[Any]:
        """Rows (`columns` of entities `e`) for many (kind, id) keys, in key order.

        PostgreSQL joins an unnest()ed list, which takes the primary key whatever the
        statistics say (a long IN list on a table never analysed was filtered, not
        looked up); SQLite gets OR-ed IN lists, which its planner looks up.
        """
        out: list[Any] = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            if self.is_postgres:
                out += self._raw(
                    f"SELECT {columns} FROM unnest(?::text[], ?::text[]) AS w(kind, id) "
                    "JOIN entities e ON e.tenant_id = ? AND e.kind = w.kind AND e.id = w.id "
                    f"ORDER BY e.kind, e.id{' FOR UPDATE OF e' if lock else ''}",
                    [[k for k, _ in chunk], [i for _, i in chunk], self.tenant_id], replan=True,
                )
                continue
            by_kind: dict[str, list[str]] = {}
            for kind, entity_id in chunk:
                by_kind.setdefault(kind, []).append(entity_id)
            groups = " OR ".join(f"(e.kind = ? AND e.id IN ({', '.join('?' * len(ids))}))"
                                 for ids in by_kind.values())
            out += self._raw(
                f"SELECT {columns} FROM entities e WHERE e.tenant_id = ? AND ({groups})",
                [self.tenant_id, *(p for kind, ids in by_kind.items() for p in (kind, *ids))],
            )
        return out

    def _by_field(self, columns: str, kind: str, field: str, values: Sequence[str], *,
                  lock: bool = False) -> list[Any]:
        """Rows of one kind whose indexed `field` is any of `values` (see `_by_keys`)."""
        if field not in REF_COLUMNS:
            raise ValueError(f"{field} is not an indexed column")
        out: list[Any] = []
        for start in range(0, len(values), _CHUNK):
            chunk = list(values[start : start + _CHUNK])
            if self.is_postgres:
                out += self._raw(
                    f"SELECT {columns} FROM unnest(?::text[]) AS w(value) JOIN entities e "
                    f"ON e.tenant_id = ? AND e.kind = ? AND e.{field} = w.value "
                    f"WHERE e.{field} IS NOT NULL ORDER BY e.id"
                    f"{' FOR UPDATE OF e' if lock else ''}",
                    [chunk, self.tenant_id, kind], replan=True,
                )
            else:
                out += self._raw(
                    f"SELECT {columns} FROM entities e WHERE e.tenant_id = ? AND e.kind = ? "
                    f"AND e.{field} IN ({', '.join('?' * len(chunk))})",
                    [self.tenant_id, kind, *chunk],
                )
        return out

    def lock_rows(self, keys: Iterable[tuple[str, str]], member_ids: Iterable[str] = ()) -> None:
        """Lock the named (kind, id) rows and the named members' entitlements FOR UPDATE.

        Where capacity and credits are decided these rows must not change under us. The
        locked rows are read in the same round trip and feed the cache the rules read
        from. SQLite already holds the database write lock (BEGIN IMMEDIATE): there the
        rows are only read ahead.
        """
        wanted = sorted({k for k in keys if f"{k[0]}:{k[1]}" not in self._locked})
        members = sorted({m for m in member_ids if f"m:{m}" not in self._locked})
        rows = {(kind, entity_id): (data, partition) for kind, entity_id, data, partition in
                self._by_keys("e.kind, e.id, e.data, e.partition", wanted,
                              lock=self.is_postgres)}
        for kind, entity_id in wanted:
            if (KINDS[kind], entity_id) not in self._cache:  # absent rows are known too
                self._remember(KINDS[kind], entity_id, rows.get((kind, entity_id)))
        self.read_ahead(KINDS["entitlement"], "member_id", members, lock=True)
        self._locked.update(f"{k}:{i}" for k, i in wanted)
        self._locked.update(f"m:{m}" for m in members)

    def read_ahead(self, cls: type, field: str, values: Iterable[str], *, lock: bool = False
                   ) -> None:
        """Answer `find(cls, field, v)` for every v from one query (a push reads ahead)."""
        wanted = sorted({v for v in values if (cls, field, v) not in self._found})
        found: dict[str, set[str]] = {v: set() for v in wanted}
        for entity_id, data, partition in self._by_field(
            "e.id, e.data, e.partition", KIND_OF[cls], field, wanted,
            lock=lock and self.is_postgres,
        ):
            if (cls, entity_id) not in self._cache:
                self._remember(cls, entity_id, (data, partition))
            value = getattr(self._cache[(cls, entity_id)], field, None)
            if value in found:  # as this transaction sees it now
                found[value].add(entity_id)
        for value, ids in found.items():
            self._found[(cls, field, value)] = ids

    # --- writing -----------------------------------------------------------------------

    def feed_state(self) -> tuple[int, int]:
        """(position, epoch) of the tenant's feed."""
        if self._feed is not None:
            return self._feed
        row = self.conn.execute(
            sa.select(feed_counters.c.position, feed_counters.c.epoch).where(
                self._mine(feed_counters)
            )
        ).first()
        if row is None:
            raise UnknownTenant(self.tenant_id)
        return int(row.position), int(row.epoch)

    def _take_positions(self, count: int) -> int:
        """Reserve `count` positions; returns the first. The feed lock is held to commit."""
        if not self._feed_locked or self._feed is None:
            self.lock_feed()
        assert self._feed is not None
        first = self._feed[0] + 1
        self._feed = (self._feed[0] + count, self._feed[1])
        self._unflushed = True
        if not self._defer:
            self.flush_positions()
        return first

    def partition_of(self, entity: object) -> str | None:
        """The partition a row belongs to, by the protocol's rule (None: cloud only)."""
        return partition_for(entity, self._timezone_of, self._session_of)

    def _timezone_of(self, location_id: str) -> str:
        location = self.get(Location, location_id)
        return location.timezone if location is not None else "UTC"

    def _session_of(self, session_id: str) -> Session | None:
        return self.get(Session, session_id)

    def _load_partitions(self, keys: Sequence[tuple[str, str]]) -> None:
        """Learn which rows exist and their partitions, in one query for any kinds."""
        missing = sorted({k for k in keys if k not in self._stored and k not in self._absent})
        for kind, entity_id, partition in self._by_keys("e.kind, e.id, e.partition", missing):
            self._partition[(kind, entity_id)] = partition
            self._stored.add((kind, entity_id))
        self._absent.update(set(missing) - self._stored)

    def write(self, changed: Sequence[object]) -> int:
        """Store new entity values with fresh feed positions; returns the last position.

        A row whose partition changes leaves a tombstone in the one it left; a session
        that moves day takes its bookings along. Bookings are written after sessions so
        their partition follows the session's new value.
        """
        if not changed:
            return self.feed_state()[0]
        ordered = sorted(changed, key=lambda e: isinstance(e, Booking))
        keys = [(KIND_OF[type(e)], e.id) for e in ordered]  # type: ignore[attr-defined]
        self._load_partitions(keys)
        plan: list[tuple[object, str | None, str | None, bool]] = []  # entity, new, old, exists
        seen: set[tuple[str, str]] = set()
        queue = list(ordered)
        while queue:
            entity = queue.pop(0)
            key = (KIND_OF[type(entity)], entity.id)  # type: ignore[attr-defined]
            if key in seen:
                continue
            seen.add(key)
            exists = key in self._stored
            old = self._partition.get(key)
            self._put_cache(entity)
            new = self.partition_of(entity)
            plan.append((entity, new, old, exists))
            if isinstance(entity, Session) and exists and old != new:
                followers = self.find(Booking, "session_id", entity.id)
                self._load_partitions([("booking", b.id) for b in followers])
                queue.extend(b for b in followers if ("booking", b.id) not in seen)
        moves = sum(1 for _, new, old, exists in plan if exists and old is not None and old != new)
        position = self._take_positions(len(plan) + moves)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        stones: list[dict[str, Any]] = []
        unstone: list[tuple[str, str, str]] = []
        for entity, new, old, exists in plan:
            kind = KIND_OF[type(entity)]
            if exists and old is not None and old != new:
                stones.append(
                    {"tenant_id": self.tenant_id, "partition": old, "kind": kind,
                     "id": entity.id, "position": position}  # type: ignore[attr-defined]
                )
                position += 1
            if exists and old != new and new is not None:
                unstone.append((new, kind, entity.id))  # type: ignore[attr-defined]
            row = self._row(entity, new, position)
            (updates if exists else inserts).append(row)
            self._partition[(kind, row["id"])] = new
            self._stored.add((kind, row["id"]))
            self._absent.discard((kind, row["id"]))
            position += 1
        if inserts:
            self._raw_many(_INSERT, [[self.tenant_id, *(row[c] for c in _INSERTED)]
                                     for row in inserts])
        for row in updates:
            self._raw_exec(_UPDATE, [*(row[c] for c in _UPDATED), self.tenant_id, row["kind"],
                                     row["id"]])
        for partition, kind, entity_id in unstone:
            self.conn.execute(
                sa.delete(tombstones).where(
                    self._mine(tombstones), tombstones.c.partition == partition,
                    tombstones.c.kind == kind, tombstones.c.id == entity_id,
                )
            )
        for stone in stones:
            self.conn.execute(
                sa.delete(tombstones).where(
                    self._mine(tombstones), tombstones.c.partition == stone["partition"],
                    tombstones.c.kind == stone["kind"], tombstones.c.id == stone["id"],
                )
            )
            self.conn.execute(sa.insert(tombstones).values(**stone))
        return position - 1

    def bulk_insert(self, new: Sequence[object]) -> int:
        """Insert entities known to be new (seeding), in large batches; last position."""
        if not new:
            return self.feed_state()[0]
        for entity in new:
            self._put_cache(entity)
        position = self._take_positions(len(new))
        for start in range(0, len(new), _BULK_CHUNK):
            rows = []
            for entity in new[start : start + _BULK_CHUNK]:
                rows.append(self._row(entity, self.partition_of(entity), position))
                position += 1
            if self.is_postgres:
                # SQLAlchemy sends many rows per INSERT ... VALUES, far fewer statements than
                # the driver's executemany; COPY is refused under row-level security.
                self.conn.execute(sa.insert(entities), rows)
            else:
                self._raw_many(_INSERT, [(self.tenant_id, *(r[c] for c in _INSERTED))
                                         for r in rows])
        self.forget()
        return position - 1

    def _row(self, entity: object, partition: str | None, position: int) -> dict[str, Any]:
        row: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "kind": KIND_OF[type(entity)],
            "id": entity.id,  # type: ignore[attr-defined]
            "data": entity_json(entity),
            "partition": partition,
            "position": position,
        }
        for column in REF_COLUMNS:
            row[column] = getattr(entity, column, None)
        return row

    def _put_cache(self, entity: object) -> None:
        cls = type(entity)
        entity_id: str = entity.id  # type: ignore[attr-defined]
        previous = self._cache.get((cls, entity_id))
        self._cache[(cls, entity_id)] = entity
        for column in REF_COLUMNS:
            if not hasattr(entity, column):
                continue
            if previous is not None:
                before = self._found.get((cls, column, getattr(previous, column)))
                if before is not None:
                    before.discard(entity_id)
            after = self._found.get((cls, column, getattr(entity, column)))
            if after is not None:
                after.add(entity_id)

    # --- the feed ------------------------------------------------------------------------

    def feed(
        self, partition: str, after: int, limit: int, *, tombstones_too: bool
    ) -> list[FeedRow]:
        """Changes in a partition after a position, in position order, at most `limit`.

        A row's data stays the JSON text it was stored as: pulls splice it in unparsed.
        """
        rows = [FeedRow(*r) for r in self._raw(_FEED, (self.tenant_id, partition, after, limit))]
        if tombstones_too:
            rows.extend(
                FeedRow(kind, entity_id, None, position)
                for kind, entity_id, position in self._raw(
                    _FEED_TOMBSTONES, (self.tenant_id, partition, after, limit)
                )
            )
            rows.sort(key=lambda r: r.position)
        return rows[:limit]

    # --- tenant life -------------------------------------------------------------------

    def create_feed(self) -> None:
        self.conn.execute(
            sa.insert(feed_counters).values(
                tenant_id=self.tenant_id, position=0, epoch=secrets.randbelow(2**31 - 1) + 1
            )
        )

    def delete_everything(self) -> None:
        for table in TENANT_TABLES:
            self.conn.execute(sa.delete(table).where(self._mine(table)))
        self.forget()

    def tenant(self) -> Tenant:
        found = self.get(Tenant, self.tenant_id)
        if found is None:
            raise UnknownTenant(self.tenant_id)
        return found

    # --- staff credentials ---------------------------------------------------------------

    def credentials(self, username: str) -> tuple[str, str] | None:
        """(staff id, password hash) for a username."""
        row = self.conn.execute(
            sa.select(staff_credentials.c.staff_id, staff_credentials.c.password_hash).where(
                self._mine(staff_credentials), staff_credentials.c.username == username
            )
        ).first()
        return (row.staff_id, row.password_hash) if row else None

    def usernames(self) -> dict[str, str]:
        """staff id -> username."""
        rows = self.conn.execute(
            sa.select(staff_credentials.c.staff_id, staff_credentials.c.username).where(
                self._mine(staff_credentials)
            )
        )
        return {row.staff_id: row.username for row in rows}

    def set_credentials(self, staff_id: str, username: str, password_hash: str | None) -> None:
        """Set a username (and the password hash, when given) for a staff member."""
        where = (self._mine(staff_credentials), staff_credentials.c.staff_id == staff_id)
        exists = self.conn.execute(sa.select(staff_credentials.c.staff_id).where(*where)).first()
        values: dict[str, Any] = {"username": username}
        if password_hash is not None:
            values["password_hash"] = password_hash
        if exists:
            self.conn.execute(sa.update(staff_credentials).where(*where).values(**values))
        else:
            self.conn.execute(
                sa.insert(staff_credentials).values(
                    tenant_id=self.tenant_id, staff_id=staff_id,
                    password_hash=password_hash or "!", **{"username": username},
                )
            )

    # --- devices and refresh tokens ------------------------------------------------------

    def add_device(self, device: Device, now: datetime) -> None:
        self.conn.execute(
            sa.insert(devices).values(
                tenant_id=self.tenant_id, id=device.id, client_id=device.client_id,
                name=device.name, location_id=device.location_id, staff_id=device.staff_id,
                created_at=now, revoked_at=None, desk_id=device.desk_id,
            )
        )

    def device(self, device_id: str) -> Device | None:
        return self._device(devices.c.id == device_id)

    def device_of_desk(self, desk_id: str) -> Device | None:
        """The device a desk registered as before (its durable local id)."""
        return self._device(devices.c.desk_id == desk_id)

    def _device(self, condition: sa.ColumnElement[bool]) -> Device | None:
        row = self.conn.execute(sa.select(devices).where(self._mine(devices), condition)).first()
        if row is None:
            return None
        return Device(row.id, row.client_id, row.name, row.location_id, row.staff_id,
                      utc(row.revoked_at), row.desk_id)

    def move_device(self, device_id: str, name: str, location_id: str) -> None:
        self.conn.execute(
            sa.update(devices)
            .where(self._mine(devices), devices.c.id == device_id)
            .values(name=name, location_id=location_id)
        )

    def location_ids(self) -> tuple[str, ...]:
        """Every location of the tenant, in the order they were made."""
        rows = self.conn.execute(
            sa.select(entities.c.id)
            .where(self._mine(entities), entities.c.kind == "location")
            .order_by(entities.c.position)
        )
        return tuple(row.id for row in rows)

    def revoke_device(self, device_id: str, now: datetime) -> bool:
        result = self.conn.execute(
            sa.update(devices)
            .where(self._mine(devices), devices.c.id == device_id, devices.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self.conn.execute(
            sa.delete(refresh_tokens).where(
                self._mine(refresh_tokens), refresh_tokens.c.device_id == device_id
            )
        )
        return bool(result.rowcount)

    def add_refresh(self, record: RefreshRecord, now: datetime) -> None:
        self.conn.execute(
            sa.insert(refresh_tokens).values(
                tenant_id=self.tenant_id, token_hash=record.token_hash, staff_id=record.staff_id,
                device_id=record.device_id, created_at=now, expires_at=record.expires_at,
                replaced_at=None,
            )
        )

    def refresh_record(self, token_hash: str, *, lock: bool = False) -> RefreshRecord | None:
        query = sa.select(refresh_tokens).where(
            self._mine(refresh_tokens), refresh_tokens.c.token_hash == token_hash
        )
        if lock and self.is_postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            return None
        expires = utc(row.expires_at)
        assert expires is not None
        return RefreshRecord(row.token_hash, row.staff_id, row.device_id, expires,
                             utc(row.replaced_at))

    def mark_replaced(self, token_hash: str, now: datetime) -> None:
        self.conn.execute(
            sa.update(refresh_tokens)
            .where(
                self._mine(refresh_tokens),
                refresh_tokens.c.token_hash == token_hash,
                refresh_tokens.c.replaced_at.is_(None),
            )
            .values(replaced_at=now)
        )

    def drop_expired_refresh(self, now: datetime) -> None:
        self.conn.execute(
            sa.delete(refresh_tokens).where(
                self._mine(refresh_tokens), refresh_tokens.c.expires_at < now
            )
        )

    # --- exactly-once state ------------------------------------------------------------

    def last_seq(self, client_id: str) -> int:
        """The client's last applied sequence (0 for a new client), its row locked."""
        query = sa.select(client_states.c.last_seq).where(
            self._mine(client_states), client_states.c.client_id == client_id
        )
        if self.is_postgres:
            query = query.with_for_update()
        found = self.conn.execute(query).scalar()
        if found is None:
            self.conn.execute(
                sa.insert(client_states).values(
                    tenant_id=self.tenant_id, client_id=client_id, last_seq=0
                )
            )
            return 0
        return int(found)

    def set_last_seq(self, client_id: str, seq: int) -> None:
        self.conn.execute(
            sa.update(client_states)
            .where(self._mine(client_states), client_states.c.client_id == client_id)
            .values(last_seq=seq)
        )

    def applied(self, client_id: str, seqs: Sequence[int]) -> dict[int, AppliedCommand]:
        out: dict[int, AppliedCommand] = {}
        for start in range(0, len(seqs), 500):
            rows = self.conn.execute(
                sa.select(
                    applied_commands.c.seq, applied_commands.c.command_id,
                    applied_commands.c.content_hash, applied_commands.c.outcome,
                ).where(
                    self._mine(applied_commands),
                    applied_commands.c.client_id == client_id,
                    applied_commands.c.seq.in_(list(seqs[start : start + 500])),
                )
            )
            for row in rows:
                out[int(row.seq)] = AppliedCommand(
                    int(row.seq), row.command_id, row.content_hash, json.loads(row.outcome)
                )
        return out

    def record_applied(self, client_id: str, applied: Sequence[AppliedRecord], now: datetime
                       ) -> None:
        """Store what each command did, in the transaction of its effects."""
        if applied:
            self.conn.execute(sa.insert(applied_commands), [
                {"tenant_id": self.tenant_id, "client_id": client_id, "seq": a.seq,
                 "command_id": a.command_id, "content_hash": a.content_hash,
                 "outcome": dumps(a.outcome), "feed_position": a.feed_position,
                 "applied_at": now}
                for a in applied
            ])
