"""Desk-local benchmarks: member search and scan-to-check-in, each beside its baseline."""

from __future__ import annotations

import random
import sqlite3
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from frontdesk.local_db import Desk, Replica

from .common import Result, summary, time_each
from .data import Reference


def search(replica: Replica, ref: Reference, repeat: int) -> Result:
    """A rush-hour mix of queries against the FTS index vs a naive LIKE scan."""
    rng = random.Random(11)
    desk = Desk(replica)
    today = ref.today
    queries = []
    for _ in range(repeat):
        member = rng.choice(ref.members)
        kind = rng.randrange(6)
        if kind == 0:
            queries.append(member.name)
        elif kind == 1:
            queries.append(member.phone)
        elif kind == 2:
            queries.append(member.phone[-4:])
        elif kind == 3:
            queries.append(member.card_code)
        elif kind == 4:
            from pypinyin import Style, lazy_pinyin

            queries.append("".join(lazy_pinyin(member.name, style=Style.FIRST_LETTER)))
        else:
            queries.append(member.name[:2])
    it = iter(queries)
    samples = time_each(lambda: desk.views.search(next(it), today, alerts=False), len(queries))
    raw = sqlite3.connect(replica.path)
    it2 = iter(queries)

    def naive() -> None:
        q = f"%{next(it2)}%"
        raw.execute(
            "SELECT id FROM rows WHERE kind = 'member' AND data LIKE ? LIMIT 20", (q,)
        ).fetchall()

    base = summary(time_each(naive, min(len(queries), 200)))
    stats = summary(samples)
    return Result(
        "search",
        stats["p95"],
        "ms",
        "p95 <= 2 ms",
        stats["p95"] <= 2.0,
        baseline=base["p95"],
        ratio=stats["p95"] / base["p95"],
        note=f"{len(ref.members)} members",
        **stats,
    )


def checkin(replica: Replica, ref: Reference, repeat: int, name: str = "checkin") -> Result:
    """Scan -> check-in committed with fsync -> roster re-read, vs a raw insert + commit."""
    desk = Desk(replica)
    now = ref.sessions[0].start  # moved per scan to each session's check-in window
    today_sessions = [s for s in ref.sessions if s.start.date() == ref.today] or ref.sessions
    sessions = {s.id: s for s in today_sessions}
    targets = [b for b in ref.bookings if b.session_id in sessions][:repeat]
    members = {m.id: m for m in ref.members}
    it = iter(targets)

    def scan() -> None:
        booking = next(it)
        session = sessions[booking.session_id]
        at = session.start - timedelta(minutes=10)
        result = desk.check_in(members[booking.member_id].card_code, ref.staff.id, at)
        assert result.ok, result.outcome
        desk.views.roster(session.id)

    samples = time_each(scan, len(targets))
    stats = summary(samples)
    with tempfile.TemporaryDirectory() as tmp:
        raw = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT)")

        def insert() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("INSERT INTO t (data) VALUES (?)", ("x" * 200,))
            raw.execute("COMMIT")

        base = summary(time_each(insert, 300))
        raw.close()
    del now
    return Result(
        name,
        stats["p99"],
        "ms",
        "p99 <= 10 ms",
        stats["p99"] <= 10.0,
        baseline=base["p99"],
        ratio=stats["p99"] / base["p99"],
        note=f"{len(samples)} scans",
        **stats,
    )


def started_at() -> datetime:
    return datetime.now().astimezone()
