"""The replica: server truth in `rows`, pending work layered in `overlay`, the outbox.

Every staff action goes through `Replica.record`: the domain decides against the
effective state (overlay over rows), and the outbox entry, its sequence number and its
optimistic effects commit in one IMMEDIATE transaction before the caller says "done".
Pulled pages replace server truth; pending commands are then re-run on top (rebase),
and acknowledged ones stay layered until their partitions are pulled past them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection

from frontdesk.domain import Context, Outcome, Status, execute
from frontdesk.domain.codec import decode, encode, parse_datetime, trusted_decoder
from frontdesk.domain.engine import REGISTRY
from frontdesk.domain.model import (
    KIND_OF,
    KINDS,
    Location,
    Member,
    MemberStatus,
    Policy,
    Session,
    StaffMember,
    Tenant,
)
from frontdesk.protocol import (
    CommandEnvelope,
    CommandOutcome,
    PullPage,
    partition_for,
)

from . import migrate, schema
from .engine import make_engine
from .search import member_terms, rowid_of

T = TypeVar("T")

REF_COLUMNS = ("session_id", "member_id", "entitlement_id", "card_code")
#: Look-ups whose field is stored in a column of another name (a member has no
#: member_id of its own, so the column holds the member it was merged into).
FIELD_COLUMNS = {("member", "merged_into"): "member_id"}
LAYERED = ("pending", "acked")


@dataclass(frozen=True)
class Recorded:
    """What `record` did: the domain's outcome, and the outbox sequence if it queued."""

    outcome: Outcome
    seq: int | None
    command_id: str


class EffectiveReader:
    """The domain's view on the desk: the pending layer over the last server state.

    With `memo=True` it remembers what it read (a check-in asks for the same member,
    session and location a dozen times while the rules run). Only for a reader that
    sees no writes while it is used: a read transaction, or a command's decision
    before its effects are written.
    """

    def __init__(self, conn: Connection, *, memo: bool = False) -> None:
        self.conn = conn
        self._gets: dict[tuple[type[Any], str], Any] | None = {} if memo else None
        self._wheres: dict[tuple[str, str, str], list[str]] | None = {} if memo else None

    def get(self, cls: type[T], entity_id: str) -> T | None:
        if self._gets is None:
            return self._get(cls, entity_id)
        key = (cls, entity_id)
        if key not in self._gets:
            self._gets[key] = self._get(cls, entity_id)
        found: T | None = self._gets[key]
        return found

    def _get(self, cls: type[T], entity_id: str) -> T | None:
        kind = KIND_OF[cls]
        row = self.conn.exec_driver_sql(
            "SELECT data FROM overlay WHERE kind = ? AND id = ? "
            "UNION ALL SELECT data FROM rows WHERE kind = ? AND id = ? LIMIT 1",
            (kind, entity_id, kind, entity_id),
        ).first()
        return None if row is None else trusted_decoder(cls)(json.loads(row[0]))

    def find(self, cls: type[T], field: str, value: str) -> list[T]:
        kind = KIND_OF[cls]
        column = FIELD_COLUMNS.get((kind, field), field)
        if column not in REF_COLUMNS:
            raise ValueError(f"no index for {field}")
        build = trusted_decoder(cls)
        return [build(json.loads(d)) for d in self.where(kind, column, value)]

    def where(self, kind: str, column: str, value: str) -> list[str]:
        """Effective JSON of every `kind` row whose `column` equals `value`, by id.

        No ORDER BY in SQL: it would steer SQLite to the primary key and scan every row
        of the kind instead of using the `column` index.
        """
        if self._wheres is None:
            return self._where(kind, column, value)
        key = (kind, column, value)
        if key not in self._wheres:
            self._wheres[key] = self._where(kind, column, value)
        return list(self._wheres[key])

    def _where(self, kind: str, column: str, value: str) -> list[str]:
        result = self.conn.exec_driver_sql(
            f"SELECT id, data FROM rows WHERE kind = ? AND {column} = ? "
            "AND id NOT IN (SELECT id FROM overlay WHERE kind = ?) "
            f"UNION ALL SELECT id, data FROM overlay WHERE kind = ? AND {column} = ?",
            (kind, value, kind, kind, value),
        )
        return [row[1] for row in sorted(result)]

    def all_of(self, cls: type[T], column: str, value: str) -> list[T]:
        build = trusted_decoder(cls)
        return [build(json.loads(d)) for d in self.where(KIND_OF[cls], column, value)]

    def names(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """The effective `name` of each of these rows, in one statement (a roster's)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        result = self.conn.exec_driver_sql(
            f"SELECT id, json_extract(data, '$.name') FROM overlay "
            f"WHERE kind = ? AND id IN ({marks}) "
            f"UNION ALL SELECT id, json_extract(data, '$.name') FROM rows "
            f"WHERE kind = ? AND id IN ({marks}) "
            "AND id NOT IN (SELECT id FROM overlay WHERE kind = ?)",
            (kind, *wanted, kind, *wanted, kind),
        )
        return {row[0]: row[1] for row in result}

    def timezone_of(self, location_id: str) -> str:
        location = self.get(Location, location_id)
        if location is None:
            raise LookupError(f"unknown location {location_id}")
        return location.timezone

    def session_of(self, session_id: str) -> Session | None:
        return self.get(Session, session_id)


class Replica:
    """One desk's local database. Safe to open from several processes at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine = make_engine(path)
        self.backup = migrate.upgrade(self.engine, path)
        with self.write() as conn:
            if self.get_meta(conn, "desk_id") is None:
                self.set_meta(conn, "desk_id", str(uuid.uuid4()))

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions --------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction that holds SQLite's write lock from its first statement."""
        conn = self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # -- meta ----------------------------------------------------------------------
    @staticmethod
    def get_meta(conn: Connection, key: str) -> str | None:
        row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (key,)).first()
        return row[0] if row else None

    @staticmethod
    def set_meta(conn: Connection, key: str, value: str | None) -> None:
        if value is None:
            conn.exec_driver_sql("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.exec_driver_sql(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def meta(self, key: str) -> str | None:
        with self.read() as conn:
            return self.get_meta(conn, key)

    def set_meta_values(self, values: dict[str, str | None]) -> None:
        with self.write() as conn:
            for key, value in values.items():
                self.set_meta(conn, key, value)

    # -- identity and context -----------------------------------------------------------
    def policy(self, reader: EffectiveReader) -> Policy:
        tenant_id = self.get_meta(reader.conn, "tenant_id")
        tenant = reader.get(Tenant, tenant_id) if tenant_id else None
        return tenant.policy if tenant else Policy()

    def actor(self, reader: EffectiveReader, staff_id: str) -> StaffMember:
        """The acting staff member as the catalogue knows them (else as signed in)."""
        staff = reader.get(StaffMember, staff_id)
        if staff is not None:
            return staff
        signed_in = self.get_meta(reader.conn, "staff")
        if signed_in:
            known = decode(StaffMember, json.loads(signed_in))
            if known.id == staff_id:
                return known
        raise LookupError(f"unknown staff member {staff_id}")

    def clock_offset(self, conn: Connection) -> float:
        value = self.get_meta(conn, "clock_offset_s")
        return float(value) if value else 0.0

    # -- recording commands ------------------------------------------------------------
    def record(
        self,
        name: str,
        args: dict[str, Any],
        *,
        staff_id: str,
        now: datetime,
        command_id: str | None = None,
    ) -> Recorded:
        """Decide a staff action and, if it changes anything, queue it durably."""
        command_id = command_id or str(uuid.uuid4())
        with self.write() as conn:
            reader = EffectiveReader(conn, memo=True)  # nothing is written until decided
            location_id = self.get_meta(conn, "location_id")
            if location_id is None:
                raise LookupError("this desk has no location yet: sign in first")
            offset = self.clock_offset(conn)
            spec = REGISTRY.get(name)
            version = spec.current if spec else 1
            ctx = Context(
                now=self._business_time(now, offset),
                actor=self.actor(reader, staff_id),
                location_id=location_id,
                policy=self.policy(reader),
            )
            result = execute(name, version, args, command_id, ctx, reader)
            if result.outcome.status is Status.REJECTED or not result.changes:
                return Recorded(result.outcome, None, command_id)
            row = conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").one()
            seq = int(row[0])
            reader = EffectiveReader(conn)  # from here on it reads what was just written
            partitions = self._partitions(reader, result.changes)
            conn.execute(
                schema.outbox.insert().values(
                    seq=seq,
                    command_id=command_id,
                    name=name,
                    version=version,
                    args=json.dumps(args, ensure_ascii=False),
                    staff_id=staff_id,
                    location_id=location_id,
                    happened_at=encode(now),
                    clock_offset_s=offset,
                    state="pending",
                    partitions=json.dumps(partitions),
                    effects=_effects_json(result.changes),
                    local_code=result.outcome.code,
                )
            )
            self._layer(conn, reader, seq, result.changes)
        return Recorded(result.outcome, seq, command_id)

    @staticmethod
    def _business_time(desk_time: datetime, offset: float) -> datetime:
        return desk_time.astimezone(UTC) + timedelta(seconds=offset)

    def _partitions(self, reader: EffectiveReader, changes: Iterable[object]) -> list[str]:
        found = set()
        for entity in changes:
            part = partition_for(entity, reader.timezone_of, reader.session_of)
            if part is not None:
                found.add(part)
        return sorted(found)

    def _layer(
        self, conn: Connection, reader: EffectiveReader, seq: int, changes: Iterable[object]
    ) -> None:
        """Put a command's effects in the pending layer (and the search index)."""
        for entity in changes:
            part = partition_for(entity, reader.timezone_of, reader.session_of) or "cloud"
            values = _row_values(KIND_OF[type(entity)], encode(entity), part)
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO overlay (kind, id, data, partition, seq, session_id, "
                "member_id, entitlement_id, card_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values[:4], seq, *values[4:]),
            )
            if isinstance(entity, Member):
                _index_member(conn, encode(entity))

    # -- the outbox ----------------------------------------------------------------------
    def pending(self, limit: int) -> list[CommandEnvelope]:
        with self.read() as conn:
            result = conn.exec_driver_sql(
                "SELECT seq, command_id, name, version, args, staff_id, location_id, "
                "happened_at, clock_offset_s FROM outbox WHERE state = 'pending' "
                "ORDER BY seq LIMIT ?",
                (limit,),
            )
            return [
                CommandEnvelope(
                    command_id=r.command_id,
                    seq=r.seq,
                    name=r.name,
                    version=r.version,
                    args=json.loads(r.args),
                    staff_id=r.staff_id,
                    location_id=r.location_id,
                    happened_at=parse_datetime(r.happened_at),
                    clock_offset_s=r.clock_offset_s,
                )
                for r in result
            ]

    def acknowledge(self, outcomes: Iterable[CommandOutcome], now: datetime) -> int:
        """Store the cloud's outcomes; rejections and warnings join the attention list."""
        count = 0
        rebuild = False
        with self.write() as conn:
            for outcome in outcomes:
                row = conn.exec_driver_sql(
                    "SELECT name, state, local_code FROM outbox WHERE seq = ? AND command_id = ?",
                    (outcome.seq, outcome.command_id),
                ).first()
                if row is None or row.state != "pending":
                    continue
                count += 1
                rejected = outcome.status is Status.REJECTED
                conn.exec_driver_sql(
                    "UPDATE outbox SET state = ?, outcome = ?, feed_position = ? WHERE seq = ?",
                    (
                        "settled" if rejected else "acked",
                        json.dumps(encode(outcome), ensure_ascii=False),
                        outcome.feed_position,
                        outcome.seq,
                    ),
                )
                rebuild = rebuild or rejected
                if outcome.status is not Status.APPLIED:
                    _add_attention(conn, row.name, outcome, now)
                elif outcome.code != row.local_code:
                    # The desk said one thing (booked) and the cloud another (waitlisted):
                    # staff told someone the wrong thing, so it needs their attention.
                    _add_attention(conn, row.name, outcome, now, "changed")
            rebuild = self._settle(conn) or rebuild
            if rebuild:
                self._rebuild_overlay(conn)
        return count

    def _settle(self, conn: Connection) -> bool:
        """Acked commands whose partitions were pulled past them leave the layer."""
        held = {
            r.partition: r.position
            for r in conn.exec_driver_sql("SELECT partition, position FROM cursors")
        }
        settled = []
        for r in conn.exec_driver_sql(
            "SELECT seq, partitions, feed_position FROM outbox WHERE state = 'acked'"
        ):
            parts = [p for p in json.loads(r.partitions) if p in held]
            if all(held[p] >= (r.feed_position or 0) for p in parts):
                settled.append((r.seq,))
        if settled:
            conn.exec_driver_sql("UPDATE outbox SET state = 'settled' WHERE seq = ?", settled)
        return bool(settled)

    def _rebuild_overlay(self, conn: Connection) -> None:
        """Rebase: drop the pending layer and lay every unsettled command on anew."""
        touched = [
            r[0] for r in conn.exec_driver_sql("SELECT data FROM overlay WHERE kind = 'member'")
        ]
        conn.exec_driver_sql("DELETE FROM overlay")
        for data in touched:
            _reindex_member(conn, json.loads(data)["id"])
        reader = EffectiveReader(conn)
        location_id = self.get_meta(conn, "location_id") or ""
        policy = self.policy(reader)
        layered = conn.exec_driver_sql(
            "SELECT seq, command_id, name, version, args, staff_id, happened_at, "
            "clock_offset_s, state, effects FROM outbox WHERE state IN ('pending', 'acked') "
            "ORDER BY seq"
        ).fetchall()
        for r in layered:
            if r.state == "acked":
                changes = _effects_from_json(r.effects)
            else:
                ctx = Context(
                    now=self._business_time(parse_datetime(r.happened_at), r.clock_offset_s or 0),
                    actor=self.actor(reader, r.staff_id),
                    location_id=location_id,
                    policy=policy,
                )
                result = execute(r.name, r.version, json.loads(r.args), r.command_id, ctx, reader)
                changes = result.changes if result.outcome.ok else []
                conn.exec_driver_sql(
                    "UPDATE outbox SET effects = ?, partitions = ? WHERE seq = ?",
                    (
                        _effects_json(changes),
                        json.dumps(self._partitions(reader, changes)) if changes else "[]",
                        r.seq,
                    ),
                )
            self._layer(conn, reader, r.seq, changes)

    # -- pulled pages --------------------------------------------------------------------
    def apply_page(self, page: PullPage, position: int) -> None:
        """Replace server truth with one pulled page, in one short write transaction."""
        self.apply_pages([page], position)

    def apply_pages(self, pages: list[PullPage], position: int) -> None:
        """Apply the pages of one pull answer in one write transaction (one fsync).

        A desk that is caught up pulls every partition in one request, and mostly gets
        empty pages back: committing them one by one would cost an fsync each.
        """
        with self.write() as conn:
            changed_keys: set[tuple[str, str]] = set()
            for page in pages:
                self._apply(conn, page, position)
                changed_keys.update((c.kind, c.id) for c in page.changes)
            rebuild = self._settle(conn)
            if not rebuild and changed_keys:
                rebuild = self._layer_affected(conn, changed_keys)
            if rebuild:
                self._rebuild_overlay(conn)

    def _apply(self, conn: Connection, page: PullPage, position: int) -> None:
        if page.reset:
            self._drop_partition(conn, page.partition)
        upserts = []
        tombstones = []
        members = []
        for change in page.changes:
            if change.data is None:
                tombstones.append((change.kind, change.id, page.partition))
                continue
            upserts.append(
                (*_row_values(change.kind, change.data, page.partition), change.position)
            )
            if change.kind == "member":
                members.append(change.data)
        if tombstones:
            conn.exec_driver_sql(
                "DELETE FROM rows WHERE kind = ? AND id = ? AND partition = ?", tombstones
            )
            for kind, entity_id, _ in tombstones:
                if kind == "member":
                    _reindex_member(conn, entity_id)
        if upserts:
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO rows (kind, id, data, partition, session_id, "
                "member_id, entitlement_id, card_code, position) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                upserts,
            )
        if members:
            shadowed = self._overlay_ids(conn, "member", [m["id"] for m in members])
            _index_members(conn, [m for m in members if m["id"] not in shadowed])
        reached = (
            position if not page.more else max((c.position for c in page.changes), default=0)
        )
        conn.exec_driver_sql(
            "INSERT INTO cursors (partition, cursor, position, complete) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (partition) DO UPDATE SET cursor = excluded.cursor, "
            "position = MAX(cursors.position, excluded.position), "
            "complete = excluded.complete",
            (page.partition, page.cursor, reached, 0 if page.more else 1),
        )

    def _layer_affected(self, conn: Connection, keys: set[tuple[str, str]]) -> bool:
        """Whether pulled changes can alter what the pending layer shows."""
        pending = conn.exec_driver_sql(
            "SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"
        ).first()
        if pending is not None:
            return True
        overlay_keys = {
            (r.kind, r.id) for r in conn.exec_driver_sql("SELECT kind, id FROM overlay")
        }
        return bool(overlay_keys & keys)

    @staticmethod
    def _overlay_ids(conn: Connection, kind: str, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        found = conn.exec_driver_sql("SELECT id FROM overlay WHERE kind = ?", (kind,))
        return {r[0] for r in found} & set(ids)

    def _drop_partition(self, conn: Connection, partition: str) -> None:
        members = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT id FROM rows WHERE partition = ? AND kind = 'member'", (partition,)
            )
        ]
        conn.exec_driver_sql("DELETE FROM rows WHERE partition = ?", (partition,))
        conn.exec_driver_sql("DELETE FROM cursors WHERE partition = ?", (partition,))
        for member_id in members:
            _reindex_member(conn, member_id)

    def drop_partitions(self, partitions: Iterable[str]) -> None:
        """Forget partitions the desk no longer holds (the window moved)."""
        with self.write() as conn:
            for partition in partitions:
                self._drop_partition(conn, partition)

    def forget_members(self) -> None:
        """A revoked desk removes its member data."""
        with self.write() as conn:
            conn.exec_driver_sql(
                "DELETE FROM rows WHERE kind IN ('member', 'entitlement', 'sale', 'feedback', "
                "'booking')"
            )
            conn.exec_driver_sql("DELETE FROM overlay")
            conn.exec_driver_sql("DELETE FROM member_fts")
            conn.exec_driver_sql("DELETE FROM cursors")

    def resolve_attention(
        self, command_id: str, resolution: str, staff_id: str, now: datetime
    ) -> bool:
        """Mark an attention item handled; False when it was already resolved or unknown."""
        with self.write() as conn:
            result = conn.exec_driver_sql(
                "UPDATE attention SET resolved_at = ?, resolution = ?, resolved_by = ? "
                "WHERE command_id = ? AND resolved_at IS NULL",
                (encode(now), resolution, staff_id, command_id),
            )
            return bool(result.rowcount)

    def cursors(self) -> dict[str, str | None]:
        with self.read() as conn:
            return {
                r.partition: r.cursor
                for r in conn.exec_driver_sql("SELECT partition, cursor FROM cursors")
            }

    def caught_up(self) -> set[str]:
        """Partitions whose last pull reached the end of their feed."""
        with self.read() as conn:
            return {
                r[0]
                for r in conn.exec_driver_sql("SELECT partition FROM cursors WHERE complete = 1")
            }

    def forget_cursor(self, partition: str) -> None:
        with self.write() as conn:
            conn.exec_driver_sql("DELETE FROM cursors WHERE partition = ?", (partition,))


def _row_values(kind: str, data: dict[str, Any], partition: str) -> tuple[Any, ...]:
    refs = [data.get(col) for col in REF_COLUMNS]
    if kind == "member":
        refs[1] = data.get("merged_into")
    else:
        refs[3] = None
    if kind == "entitlement":
        refs[2] = None
    return (kind, data["id"], json.dumps(data, ensure_ascii=False), partition, *refs)


def _effects_json(changes: Iterable[object]) -> str:
    return json.dumps([[KIND_OF[type(e)], encode(e)] for e in changes], ensure_ascii=False)


def _effects_from_json(raw: str) -> list[object]:
    return [decode(KINDS[kind], data) for kind, data in json.loads(raw)]


def _add_attention(
    conn: Connection, name: str, outcome: CommandOutcome, now: datetime, status: str = ""
) -> None:
    conn.exec_driver_sql(
        "INSERT OR IGNORE INTO attention (command_id, seq, name, status, code, message, fix, "
        "warnings, subject_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outcome.command_id,
            outcome.seq,
            name,
            status or outcome.status.value,
            outcome.code,
            outcome.message,
            outcome.fix,
            json.dumps(encode(outcome.warnings), ensure_ascii=False),
            outcome.subject_id,
            encode(now),
        ),
    )


def _index_member(conn: Connection, data: dict[str, Any]) -> None:
    _index_members(conn, [data])


def _index_members(conn: Connection, members: list[dict[str, Any]]) -> None:
    """(Re)index members' search documents: two statements for a whole pulled page."""
    if not members:
        return
    conn.exec_driver_sql(
        "DELETE FROM member_fts WHERE rowid = ?", [(rowid_of(d["id"]),) for d in members]
    )
    documents = [
        (
            rowid_of(data["id"]),
            data["id"],
            data.get("name", ""),
            data.get("phone", ""),
            data.get("card_code", ""),
            member_terms(
                data.get("name", ""),
                data.get("phone", ""),
                data.get("card_code", ""),
                data.get("email", ""),
            ),
        )
        for data in members
        if data.get("status", MemberStatus.ACTIVE.value) == MemberStatus.ACTIVE.value
    ]
    if documents:
        conn.exec_driver_sql(
            "INSERT INTO member_fts (rowid, member_id, name, phone, card, terms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            documents,
        )


def _reindex_member(conn: Connection, member_id: str) -> None:
    """Index a member as the effective state now shows them (or drop them)."""
    row = conn.exec_driver_sql(
        "SELECT data FROM overlay WHERE kind = 'member' AND id = ? "
        "UNION ALL SELECT data FROM rows WHERE kind = 'member' AND id = ? LIMIT 1",
        (member_id, member_id),
    ).first()
    if row is None:
        conn.exec_driver_sql("DELETE FROM member_fts WHERE rowid = ?", (rowid_of(member_id),))
    else:
        _index_member(conn, json.loads(row[0]))
