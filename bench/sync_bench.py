"""Sync benchmarks against a real cloud process on loopback, each beside its baseline.

first sync (and its resume after kill -9), today usable after first login, check-in
while a first sync downloads, an offline backlog drained, catch-up, and A-to-B latency.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from frontdesk.local_db import Desk, Replica
from frontdesk.protocol import MEMBERS

from .common import Result, summary
from .procs import Cloud, DeskDir, finish, stop


def _login_args(cloud: Cloud, user: str = "desk-sh") -> list[str]:
    return ["--login", cloud.url, cloud.seed["tenant"], user, cloud.location]


def _password(cloud: Cloud, user: str = "desk-sh") -> str:
    return str(cloud.staff(user)["password"]) + "\n"


def _spawn_login(cloud: Cloud, desk: DeskDir, *extra: str) -> Any:
    import subprocess
    import sys

    from .procs import ROOT

    process = subprocess.Popen(
        [sys.executable, "-m", "bench.desk_sync", str(desk.path), *_login_args(cloud), *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=desk.env(), cwd=ROOT,
    )
    assert process.stdin is not None
    process.stdin.write(_password(cloud))
    process.stdin.flush()
    process.stdin.close()
    process.stdin = None  # communicate() must not touch the closed pipe
    return process


def raw_bulk_insert(rows: list[tuple[str, str, str]]) -> float:
    """Seconds to insert the same rows into a bare table, one transaction, same pragmas."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("CREATE TABLE rows (kind TEXT, id TEXT, data TEXT, PRIMARY KEY (kind, id))")
        started = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany("INSERT INTO rows VALUES (?, ?, ?)", rows)
        raw.execute("COMMIT")
        took = time.perf_counter() - started
        raw.close()
    return took


def first_sync(name: str, cloud: Cloud, desk: DeskDir, resume: dict[str, Any] | None = None
               ) -> Result:
    """A new desk signs in and pulls everything; beside it a raw bulk insert of its rows."""
    report = finish(_spawn_login(cloud, desk))
    seconds, rows = float(report["seconds"]), int(report["rows"])
    held = desk.query("SELECT kind, id, data FROM rows")
    base = raw_bulk_insert([(k, i, d) for k, i, d in held])
    rate, raw_rate = rows / seconds, len(held) / base
    met = seconds <= 4.0 and rate >= 50_000
    note = (f"{rows} rows pulled ({len(held)} held) at {rate:,.0f} rows/s; raw insert "
            f"{raw_rate:,.0f} rows/s; cloud {cloud.kind}")
    if resume is not None:
        met = met and bool(resume.get("resumed"))
        note += f"; kill -9 resume: {resume['note']}"
    return Result(name, seconds, "s", "<= 4 s, >= 50k rows/s, resumes", met,
                  baseline=base, ratio=seconds / base, note=note)


def resume_after_kill(cloud: Cloud, desk: DeskDir, reference: DeskDir) -> dict[str, Any]:
    """Kill -9 a first sync mid-way through the members, sync again, compare with `reference`."""
    total = reference.query("SELECT COUNT(*) FROM rows")[0][0]
    process = _spawn_login(cloud, desk)
    killed_at = None
    deadline = time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        try:
            found = desk.query("SELECT position, complete FROM cursors WHERE partition = ?",
                               (MEMBERS,))
            held = desk.query("SELECT COUNT(*) FROM rows")[0][0] if found else 0
        except sqlite3.Error:
            found, held = [], 0
        # Mid-way through the members (or at their first page on small data).
        if found and found[0][0] > 0 and not found[0][1] and (held >= total // 2 or total < 50_000):
            stop(process, kill=True)
            killed_at = desk.query("SELECT COUNT(*) FROM rows")[0][0]
            break
        time.sleep(0.05)
    if killed_at is None:
        stop(process)
        return {"resumed": True, "note": "not exercised (the sync ended before a kill)"}
    again = finish(desk.sync_helper())
    mine = set(desk.query("SELECT kind, id, data FROM rows"))
    theirs = set(reference.query("SELECT kind, id, data FROM rows"))
    same = mine == theirs
    resumed = same and int(again["rows"]) < len(theirs)
    return {"resumed": resumed,
            "note": f"killed with {killed_at} rows held, the next sync pulled {again['rows']} "
                    f"more in {again['seconds']:.1f} s; replica equals a clean sync: {same}"}


def today_usable(cloud: Cloud, desk: DeskDir) -> Result:
    report = finish(_spawn_login(cloud, desk, "--until-today"))
    seconds = float(report["today_s"])
    return Result("today_usable", seconds, "s", "<= 2 s", seconds <= 2.0,
                  note=f"from login (took {report['login_s']:.2f} s) to today's "
                       f"{report['sessions']} sessions and {report['roster_lines']} roster lines "
                       "read from the replica")


def _raw_writer(folder: Path) -> Any:
    raw = sqlite3.connect(folder / "raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT)")

    def insert() -> float:
        started = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO t (data) VALUES (?)", ("x" * 200,))
        raw.execute("COMMIT")
        return (time.perf_counter() - started) * 1000

    return insert


def checkin_during_sync(cloud: Cloud, desk: DeskDir, samples: int) -> Result:
    """Scans on a new desk while its first sync writes pages into the same replica."""
    process = _spawn_login(cloud, desk)
    session = cloud.open_session
    deadline = time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        # The class and its booked members are in (the members come first in their
        # partition); near midnight the class may be in tomorrow's partition, pulled
        # after the members, while the rest of the window still downloads.
        try:
            found = desk.query("SELECT position FROM cursors WHERE partition = ?", (MEMBERS,))
            ready = found and found[0][0] > 0 and desk.query(
                "SELECT 1 FROM rows WHERE kind = 'session' AND id = ?", (session["id"],))
        except sqlite3.Error:
            ready = False
        if ready:
            break
        time.sleep(0.01)
    replica = Replica(desk.replica)
    scans: list[float] = []
    raws: list[float] = []
    during = 0
    with tempfile.TemporaryDirectory() as tmp:
        raw = _raw_writer(Path(tmp))
        try:
            the_desk = Desk(replica)
            staff = replica.meta("staff_id") or ""
            members = list(session["booked_members"])
            n = 0
            while len(scans) < samples:
                member = members[n % len(members)]
                n += 1
                running = process.poll() is None
                started = time.perf_counter()
                result = the_desk.check_in(member, staff, datetime.now(UTC), session["id"])
                the_desk.views.roster(session["id"])
                took = (time.perf_counter() - started) * 1000
                if not result.ok:
                    raise RuntimeError(f"check-in refused: {result.outcome}")
                booking = result.outcome.subject_id
                scans.append(took)
                during += running
                raws.append(raw())
                if booking and result.outcome.code != "already_checked_in":
                    the_desk.act("undo_check_in", staff, datetime.now(UTC), booking_id=booking)
        finally:
            replica.close()
            still = process.poll() is None
            stop(process)
    stats, base = summary(scans), summary(raws)
    return Result("checkin_during_sync", stats["p99"], "ms", "p99 <= 10 ms",
                  stats["p99"] <= 10.0, baseline=base["p99"], ratio=stats["p99"] / base["p99"],
                  note=f"{len(scans)} scans, {during} of them while the first sync was "
                       f"downloading (still running at the end: {still}); raw insert+commit "
                       "sampled between scans",
                  **stats)


# --- offline backlogs ---------------------------------------------------------------------


@contextmanager
def fast_setup(path: Path) -> Iterator[Replica]:
    """The desk's replica with fsync off, only to build a backlog quickly (not measured)."""
    replica = Replica(path)

    @event.listens_for(replica.engine, "connect")
    def _no_fsync(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=OFF")

    replica.engine.dispose()
    try:
        yield replica
    finally:
        replica.close()


def record_backlog(desk: DeskDir, count: int, kinds: str = "walk_in") -> int:
    """Queue `count` offline commands on a desk: walk-in guests (add, sell, feedback,
    waiver) or plain new members (`kinds="members"`, one change each)."""
    with fast_setup(desk.replica) as replica:
        staff = replica.meta("staff_id") or ""
        plan = next(r for r in replica_plans(replica))
        the_desk = Desk(replica)
        now = datetime.now(UTC)
        made = 0
        tag = uuid.uuid4().hex[:6]
        while made < count:
            member = str(uuid.uuid4())
            steps: list[tuple[str, dict[str, Any]]] = [
                ("add_member", {"member_id": member, "name": f"Guest {tag} {made}",
                                "phone": f"1{made:010d}"})]
            if kinds == "walk_in":
                steps += [
                    ("sell", {"member_id": member, "plan_id": plan, "method": "wechat_pay"}),
                    ("record_feedback", {"member_id": member, "rating": 5, "comment": "lovely"}),
                    ("sign_waiver", {"member_id": member}),
                ]
            for name, args in steps[: count - made]:
                recorded = the_desk.act(name, staff, now, **args)
                if recorded.seq is None:
                    raise RuntimeError(f"{name} was not queued: {recorded.outcome}")
                made += 1
    return made


def replica_plans(replica: Replica) -> list[str]:
    with replica.read() as conn:
        found = conn.exec_driver_sql(
            "SELECT id, data FROM rows WHERE kind = 'plan' ORDER BY id").fetchall()
    packs = [r[0] for r in found if json.loads(r[1]).get("kind") == "pack"]
    return packs or [r[0] for r in found]


def _pending(desk: DeskDir) -> int:
    return int(desk.query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")[0][0])


def drain(desk: DeskDir, commands: int, single: int) -> Result:
    """An offline backlog pushed and acknowledged; baseline: one request per command."""
    record_backlog(desk, commands)
    report = finish(desk.sync_helper("--push-only"))
    seconds, pushed = float(report["seconds"]), int(report["pushed"])
    left = _pending(desk)
    record_backlog(desk, single)
    one = finish(desk.sync_helper("--push-only", "--batch", "1"))
    per_command = float(one["seconds"]) / max(int(one["pushed"]), 1)
    baseline = per_command * commands
    back = finish(desk.sync_helper())  # the effects come back; acked commands settle
    acked = desk.query("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    exactly_once = pushed == commands and left == 0
    return Result("drain_10k", seconds, "s", "<= 20 s (>= 500/s)",
                  seconds <= 20.0 and exactly_once, baseline=baseline, ratio=seconds / baseline,
                  note=f"{pushed} of {commands} pushed and acknowledged, "
                       f"{pushed / seconds:,.0f}/s; one request each: {1 / per_command:,.0f}/s "
                       f"(measured on {one['pushed']}, scaled to {commands}); the next "
                       f"round pulled {back['rows']} rows back in {back['seconds']:.1f} s; outbox "
                       f"{dict(acked)}; exactly once: {exactly_once}")


def catch_up(writer: DeskDir, reader: DeskDir, changes: int) -> Result:
    """`reader` was offline while `writer` made `changes` changes; its next sync, timed."""
    record_backlog(writer, changes, kinds="members")
    finish(writer.sync_helper("--push-only"))
    report = finish(reader.sync_helper())
    seconds = float(report["seconds"])
    return Result("catch_up", seconds, "s", "<= 2 s", seconds <= 2.0,
                  note=f"{changes} changes made elsewhere; {report['rows']} rows pulled")


TIMEOUT_S = 10.0


def _wait_idle(desks: tuple[DeskDir, ...], since: datetime, limit_s: float = 300) -> None:
    """Until each desk's live sync finished its first round (it notes `last_sync`)."""
    deadline = time.monotonic() + limit_s
    waiting = list(desks)
    while waiting and time.monotonic() < deadline:
        time.sleep(0.1)
        for desk in list(waiting):
            found = desk.query("SELECT value FROM meta WHERE key = 'last_sync'")
            if found and datetime.fromisoformat(found[0][0].replace("Z", "+00:00")) > since:
                waiting.remove(desk)


def propagation(cloud: Cloud, a: DeskDir, b: DeskDir, rounds: int) -> Result:
    """A check-in recorded on desk A (its live sync running) until desk B's replica has it."""
    live_a = a.spawn("-m", "frontdesk.cli", "sync", "--data-dir", str(a.path))
    live_b = b.spawn("-m", "frontdesk.cli", "sync", "--data-dir", str(b.path))
    session = cloud.open_session
    latencies: list[float] = []
    missed: list[str] = []
    replica = Replica(a.replica)
    try:
        the_desk = Desk(replica)
        staff = replica.meta("staff_id") or ""
        _wait_idle((a, b), since=datetime.now(UTC))
        for n in range(rounds * 2):
            member = session["booked_members"][(n // 2) % len(session["booked_members"])]
            lines = {line.booking.member_id: line for line in the_desk.views.roster(session["id"])}
            line = lines.get(member)
            if line is None:
                raise RuntimeError("the booked member is not on desk A's roster")
            now = datetime.now(UTC)
            if line.booking.status.value == "checked_in":
                the_desk.act("undo_check_in", staff, now, booking_id=line.booking.id)
                want = "booked"
            else:
                result = the_desk.check_in(member, staff, now, session["id"])
                if not result.ok:
                    raise RuntimeError(f"check-in refused: {result.outcome}")
                want = "checked_in"
            started = time.perf_counter()
            booking = line.booking.id
            while time.perf_counter() - started < TIMEOUT_S:
                got = b.query("SELECT json_extract(data, '$.status') FROM rows "
                              "WHERE kind = 'booking' AND id = ?", (booking,))
                if got and got[0][0] == want:
                    break
                time.sleep(0.002)
            else:
                # Counted at the timeout, and said so: a lost signal is a finding, not a crash.
                tail = a.query("SELECT seq, name, state FROM outbox ORDER BY seq DESC LIMIT 2")
                missed.append(f"{want} after {n} changes; desk A's outbox tail {tail}")
            if want == "checked_in":
                latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    finally:
        replica.close()
        stop(live_a)
        stop(live_b)
    stats = summary(latencies)
    note = f"{len(latencies)} check-ins, both desks running `frontdesk sync` live"
    if missed:
        note += f"; {len(missed)} not seen on desk B within {TIMEOUT_S:.0f} s: {missed[:2]}"
    return Result("propagation", stats["p95"], "ms", "p95 <= 300 ms",
                  stats["p95"] <= 300.0 and not missed, note=note, **stats)
