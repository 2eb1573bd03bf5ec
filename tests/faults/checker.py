"""The independent checker: reads every desk's SQLite file and the cloud's database.

It uses no FrontDesk code at all, only SQL and the documented data shapes, so a bug in
the product's queries cannot hide itself here. After the network has healed and every
desk has synced, it requires:

- exactly once, in order: every outbox command is applied once in the cloud under the
  same (client, seq) and command id, with the content hash of what the desk queued, in
  sequence order, and the outbox has no gaps;
- convergence: each desk's server rows equal the cloud's entities for every partition
  the desk holds; nothing is left pending or layered;
- capacity: no session holds more unflagged places than its capacity, and every place
  held over capacity was recorded as a manager's override or a policy warning;
- credits: every entitlement's balance equals the sum of its ledger, never below zero,
  and each booking's net ledger movement equals what it is charged (none spent twice);
- attention: every rejected or warned command is in its desk's attention list;
- the upload queues drained within 5 seconds of the network healing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECKS = (
    "outbox_gapless",
    "outbox_settled",
    "exactly_once",
    "in_order",
    "outcomes_agree",
    "attention",
    "replica_converged",
    "capacity",
    "ledger_balances",
    "no_double_spend",
    "no_internal_errors",
    "drain_5s",
)
#: What the harness itself watches: no desk process crashed or hung, no sync failed
#: with anything but "unreachable", no desk command raised, every run finished.
HARNESS_CHECKS = ("sync_errors", "desk_processes", "desk_commands", "harness")
ALL_CHECKS = CHECKS + HARNESS_CHECKS
DRAIN_LIMIT_S = 5.0
HOLDS = ("booked", "checked_in")


@dataclass
class Report:
    failed: dict[str, list[str]] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)

    def fail(self, check: str, detail: str) -> None:
        self.failed.setdefault(check, []).append(detail)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self, limit: int = 5) -> str:
        lines = []
        for check, details in sorted(self.failed.items()):
            lines.append(f"{check}: {len(details)} problem(s)")
            lines += [f"  - {d}" for d in details[:limit]]
        return "\n".join(lines) or "all checks passed"


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CloudSource:
    """Where the cloud keeps its data: a SQLite file, or a PostgreSQL connection string."""

    sqlite_path: Path | None = None
    pg_conninfo: str | None = None


@dataclass
class CloudData:
    tenant_id: str
    entities: dict[tuple[str, str], tuple[str | None, dict[str, Any]]]
    applied: dict[str, list[dict[str, Any]]]  # client id -> rows by seq
    last_seq: dict[str, int]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [data for (k, _), (_, data) in sorted(self.entities.items()) if k == kind]


@contextmanager
def _cloud_cursor(source: CloudSource) -> Iterator[tuple[Any, str]]:
    """A DB-API cursor and its parameter marker."""
    if source.sqlite_path is not None:
        conn = sqlite3.connect(f"file:{source.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            yield conn.cursor(), "?"
        finally:
            conn.close()
        return
    import psycopg

    assert source.pg_conninfo is not None
    with psycopg.connect(source.pg_conninfo) as pg:
        yield pg.cursor(), "%s"


def read_cloud(source: CloudSource, slug: str) -> CloudData:
    with _cloud_cursor(source) as (cur, mark):
        cur.execute(f"SELECT id FROM tenants WHERE slug = {mark}", (slug,))
        tenant_id = cur.fetchone()[0]
        cur.execute(f"SELECT kind, id, partition, data FROM entities WHERE tenant_id = {mark}",
                    (tenant_id,))
        entities = {(k, i): (p, json.loads(d)) for k, i, p, d in cur.fetchall()}
        cur.execute(
            "SELECT client_id, seq, command_id, content_hash, outcome, feed_position, "
            f"applied_at FROM applied_commands WHERE tenant_id = {mark} "
            "ORDER BY client_id, seq", (tenant_id,))
        applied: dict[str, list[dict[str, Any]]] = {}
        for client, seq, command_id, digest, outcome, position, at in cur.fetchall():
            applied.setdefault(client, []).append({
                "seq": int(seq), "command_id": command_id, "hash": digest,
                "outcome": json.loads(outcome), "feed_position": int(position), "at": at,
            })
        cur.execute(f"SELECT client_id, last_seq FROM client_states WHERE tenant_id = {mark}",
                    (tenant_id,))
        last = {c: int(s) for c, s in cur.fetchall()}
    return CloudData(tenant_id, entities, applied, last)


@dataclass
class DeskData:
    name: str
    meta: dict[str, str]
    outbox: list[dict[str, Any]]
    rows: dict[tuple[str, str], tuple[str, dict[str, Any]]]
    overlay: int
    cursors: dict[str, tuple[str | None, int, int]]
    attention: dict[str, dict[str, Any]]


def read_desk(name: str, path: Path) -> DeskData:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM meta")}
        outbox = [dict(r) for r in conn.execute("SELECT * FROM outbox ORDER BY seq")]
        rows = {(r["kind"], r["id"]): (r["partition"], json.loads(r["data"]))
                for r in conn.execute("SELECT kind, id, partition, data FROM rows")}
        overlay = conn.execute("SELECT COUNT(*) FROM overlay").fetchone()[0]
        cursors = {r["partition"]: (r["cursor"], r["position"], r["complete"])
                   for r in conn.execute("SELECT * FROM cursors")}
        attention = {r["command_id"]: dict(r) for r in conn.execute("SELECT * FROM attention")}
    finally:
        conn.close()
    return DeskData(name, meta, outbox, rows, int(overlay), cursors, attention)


def content_hash(row: dict[str, Any]) -> str:
    """What the wire contract hashes for a command (docs/sync-api.md), from the outbox row."""
    body = {
        "command_id": row["command_id"],
        "name": row["name"],
        "version": row["version"],
        "args": json.loads(row["args"]),
        "staff_id": row["staff_id"],
        "location_id": row["location_id"],
        "happened_at": row["happened_at"],
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


# --- checking -----------------------------------------------------------------------------


def check(cloud: CloudData, desks: list[DeskData], drain_s: dict[str, float]) -> Report:
    report = Report()
    for desk in desks:
        _commands(report, cloud, desk)
        _replica(report, cloud, desk)
    _capacity(report, cloud)
    _credits(report, cloud)
    for client, rows in cloud.applied.items():
        for row in rows:
            if row["outcome"].get("code") == "internal_error":
                report.fail("no_internal_errors",
                            f"client {client[:8]} seq {row['seq']}: {row['outcome']}")
    for name, seconds in sorted(drain_s.items()):
        if seconds > DRAIN_LIMIT_S:
            report.fail("drain_5s", f"{name}: the upload queue took {seconds:.1f} s to drain")
    report.passed = set(CHECKS) - set(report.failed)
    return report


def _commands(report: Report, cloud: CloudData, desk: DeskData) -> None:
    client = desk.meta.get("client_id", "")
    seqs = [r["seq"] for r in desk.outbox]
    if seqs != list(range(1, len(seqs) + 1)):
        report.fail("outbox_gapless", f"{desk.name}: outbox seqs {seqs[:10]}...")
    if len({r["command_id"] for r in desk.outbox}) != len(seqs):
        report.fail("outbox_gapless", f"{desk.name}: a command id repeats in the outbox")
    left = [(r["seq"], r["state"]) for r in desk.outbox if r["state"] != "settled"]
    if left or desk.overlay:
        report.fail("outbox_settled",
                    f"{desk.name}: not settled {left[:5]}, {desk.overlay} overlay rows")
    applied = cloud.applied.get(client, [])
    by_seq = {a["seq"]: a for a in applied}
    if sorted(by_seq) != seqs or len(applied) != len(by_seq):
        missing = sorted(set(seqs) - set(by_seq))
        extra = sorted(set(by_seq) - set(seqs))
        report.fail("exactly_once",
                    f"{desk.name}: cloud has seqs missing {missing[:5]} extra {extra[:5]}")
    if cloud.last_seq.get(client, 0) != len(seqs):
        report.fail("exactly_once", f"{desk.name}: cloud last_seq "
                    f"{cloud.last_seq.get(client)} != outbox length {len(seqs)}")
    for row in desk.outbox:
        done = by_seq.get(row["seq"])
        if done is None:
            continue
        if done["command_id"] != row["command_id"]:
            report.fail("exactly_once", f"{desk.name} seq {row['seq']}: cloud applied "
                        f"{done['command_id']}, desk queued {row['command_id']}")
        elif done["hash"] != content_hash(row):
            report.fail("exactly_once", f"{desk.name} seq {row['seq']}: content differs")
        outcome = done["outcome"]
        if row["outcome"] is None:
            report.fail("outcomes_agree", f"{desk.name} seq {row['seq']}: no outcome kept")
        else:
            mine = json.loads(row["outcome"])
            keys = ("command_id", "status", "code", "feed_position", "subject_id")
            if any(mine.get(k) != outcome.get(k) for k in keys):
                report.fail("outcomes_agree", f"{desk.name} seq {row['seq']}: desk kept "
                            f"{[mine.get(k) for k in keys]}, cloud "
                            f"{[outcome.get(k) for k in keys]}")
        if outcome.get("status") in ("rejected", "applied_with_warning") and (
            row["command_id"] not in desk.attention
        ):
            report.fail("attention", f"{desk.name} seq {row['seq']} {row['name']} "
                        f"{outcome.get('status')} {outcome.get('code')} is not in attention")
    # The feed position is the cloud's own order of effects. (`applied_at` is when the
    # request arrived: a push that waited for another desk process's push of the same
    # outbox can have arrived first and still apply the later commands, rightly.)
    ordered = [by_seq[s] for s in sorted(by_seq)]
    for before, after in itertools.pairwise(ordered):
        if after["feed_position"] < before["feed_position"]:
            report.fail("in_order", f"{desk.name}: seq {after['seq']} took feed position "
                        f"{after['feed_position']}, before seq {before['seq']}'s "
                        f"{before['feed_position']}")
    commands = [a["command_id"] for rows in cloud.applied.values() for a in rows]
    if len(commands) != len(set(commands)):
        report.fail("exactly_once", "a command id was applied more than once")


def _replica(report: Report, cloud: CloudData, desk: DeskData) -> None:
    held = desk.cursors
    for partition, (_, _, complete) in sorted(held.items()):
        if not complete:
            report.fail("replica_converged", f"{desk.name}: {partition} not fully pulled")
        mine = {k: d for k, (p, d) in desk.rows.items() if p == partition}
        theirs = {k: d for k, (p, d) in cloud.entities.items() if p == partition}
        if mine != theirs:
            diff = sorted(
                k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)
            )
            report.fail("replica_converged",
                        f"{desk.name}: {partition} differs on {len(diff)} rows, e.g. {diff[:3]}")
    stray = sorted({p for p, _ in desk.rows.values() if p not in held})
    if stray:
        report.fail("replica_converged", f"{desk.name}: rows in partitions it does not "
                    f"hold: {stray[:3]}")


def _warned(cloud: CloudData, code: str) -> set[str]:
    """Subjects (and bookings) of every command the cloud applied with warning `code`."""
    out: set[str] = set()
    for rows in cloud.applied.values():
        for row in rows:
            outcome = row["outcome"]
            if any(w.get("code") == code for w in outcome.get("warnings", [])):
                out.add(outcome.get("subject_id") or "")
                out.add((outcome.get("data") or {}).get("booking_id", ""))
    return out


def _capacity(report: Report, cloud: CloudData) -> None:
    overrides = {a["subject_id"] for a in cloud.of_kind("audit")
                 if a["action"] == "override_capacity"}
    warned = _warned(cloud, "over_capacity")
    holders: dict[str, list[dict[str, Any]]] = {}
    for booking in cloud.of_kind("booking"):
        if booking["status"] in HOLDS:
            holders.setdefault(booking["session_id"], []).append(booking)
    sessions = {s["id"]: s for s in cloud.of_kind("session")}
    for session_id, held in sorted(holders.items()):
        session = sessions.get(session_id)
        if session is None:
            report.fail("capacity", f"bookings in unknown session {session_id}")
            continue
        plain = [b for b in held if not b["over_capacity"]]
        if len(plain) > session["capacity"]:
            report.fail("capacity", f"session {session_id[:8]} holds {len(plain)} unflagged "
                        f"places for capacity {session['capacity']}")
        for booking in held:
            if booking["over_capacity"] and not ({booking["id"]} & (overrides | warned)):
                report.fail("capacity", f"booking {booking['id'][:8]} is over capacity with "
                            "no recorded override or warning")


def _credits(report: Report, cloud: CloudData) -> None:
    by_entitlement: dict[str, int] = {}
    by_booking: dict[str, int] = {}
    for entry in cloud.of_kind("ledger"):
        by_entitlement[entry["entitlement_id"]] = (
            by_entitlement.get(entry["entitlement_id"], 0) + entry["delta"])
        if entry.get("booking_id"):
            by_booking[entry["booking_id"]] = by_booking.get(entry["booking_id"], 0) + entry[
                "delta"]
    entitlements = {e["id"]: e for e in cloud.of_kind("entitlement")}
    for ent_id, ent in sorted(entitlements.items()):
        total = by_entitlement.get(ent_id, 0)
        if ent["balance"] != total:
            report.fail("ledger_balances", f"entitlement {ent_id[:8]} ({ent['kind']}) balance "
                        f"{ent['balance']} != ledger sum {total}")
        if ent["balance"] < 0:
            report.fail("ledger_balances", f"entitlement {ent_id[:8]} balance {ent['balance']}")
    stray = sorted(set(by_entitlement) - set(entitlements))
    if stray:
        report.fail("ledger_balances", f"ledger entries for unknown entitlements {stray[:3]}")
    bookings = {b["id"]: b for b in cloud.of_kind("booking")}
    for booking_id in sorted(set(bookings) | set(by_booking)):
        booking = bookings.get(booking_id)
        if booking is None:
            report.fail("no_double_spend", f"ledger entries for unknown booking {booking_id}")
            continue
        moved = by_booking.get(booking_id, 0)
        if moved != -booking["charged"]:
            report.fail("no_double_spend", f"booking {booking_id[:8]} ({booking['status']}) "
                        f"is charged {booking['charged']} but its ledger moved {moved}")
        if booking["charged"] and not booking["entitlement_id"]:
            report.fail("no_double_spend", f"booking {booking_id[:8]} charged with no pass")
