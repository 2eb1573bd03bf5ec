"""Recording commands: durable, gapless, layered over server truth, safe across processes."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from datetime import timedelta
from pathlib import Path

from frontdesk.domain import Status
from frontdesk.domain.codec import encode
from frontdesk.domain.model import Booking, BookingStatus, Role
from frontdesk.local_db import Desk, EffectiveReader, Replica
from frontdesk.protocol import Change, CommandOutcome, PullPage
from tests.replica_fixture import push_server_state
from tests.studio import Studio


def test_check_in_is_durable_and_queued(desk: Desk, studio: Studio, clerk: str) -> None:
    session = studio.session(start=studio.now + timedelta(minutes=20))
    member = studio.member("Ana", card_code="SCAN1")
    studio.run("book", member_id=member.id, session_id=session.id)
    push_server_state(desk.replica, studio, position=2)
    result = desk.check_in("SCAN1", clerk, studio.now)
    assert result.ok and result.seq == 1
    # A second process (a fresh connection) sees it committed.
    raw = sqlite3.connect(desk.replica.path)
    state, name = raw.execute("SELECT state, name FROM outbox WHERE seq = 1").fetchone()
    assert (state, name) == ("pending", "check_in")
    assert [line.booking.status for line in desk.views.roster(session.id)] == [
        BookingStatus.CHECKED_IN
    ]
    again = desk.check_in("SCAN1", clerk, studio.now)
    assert again.outcome.code == "already_checked_in" and again.seq is None
    assert desk.views.counts() == (1, 0)
    assert member.id == result.member.id  # type: ignore[union-attr]


def test_refused_scan_is_recorded(desk: Desk, studio: Studio, clerk: str) -> None:
    result = desk.check_in("NO-SUCH-CARD", clerk, studio.now)
    assert not result.ok and result.outcome.code == "unknown_member"
    pending = desk.replica.pending(10)
    assert [(c.name, c.args["reason"]) for c in pending] == [("record_scan", "unknown_member")]


def test_no_booking_offers_walk_in_sessions(desk: Desk, studio: Studio, clerk: str) -> None:
    session = studio.session(start=studio.now + timedelta(minutes=20), capacity=5)
    studio.member("Bo", card_code="B1")
    push_server_state(desk.replica, studio, position=2)
    result = desk.check_in("B1", clerk, studio.now)
    assert result.outcome.code == "no_booking_now"
    assert [line.session.id for line in result.walk_in_options] == [session.id]


def _record_many(path: str, staff_id: str, count: int, member_id: str) -> None:
    replica = Replica(Path(path))
    desk = Desk(replica)
    for n in range(count):
        desk.act(
            "record_feedback", staff_id, Studio.now, member_id=member_id, rating=5, comment=f"{n}"
        )
    replica.close()


def test_gapless_sequence_across_processes(desk: Desk, studio: Studio, clerk: str) -> None:
    member = studio.member("Multi")
    push_server_state(desk.replica, studio, position=2)
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_record_many, args=(str(desk.replica.path), clerk, 40, member.id))
        for _ in range(3)
    ]
    for w in workers:
        w.start()
    _record_many(str(desk.replica.path), clerk, 40, member.id)
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    seqs = [c.seq for c in desk.replica.pending(1000)]
    assert seqs == list(range(1, 161))


def test_pull_rebases_pending_work(desk: Desk, studio: Studio, clerk: str) -> None:
    """A pulled change under a pending booking re-runs it on the new server truth."""
    session = studio.session(capacity=1)
    mine = studio.member("Mine")
    push_server_state(desk.replica, studio, position=2)
    recorded = desk.act("book", clerk, studio.now, member_id=mine.id, session_id=session.id)
    assert recorded.outcome.status is Status.APPLIED
    assert recorded.outcome.code == "ok"
    # Meanwhile another desk took the last spot; the cloud sends that booking down.
    other = studio.member("Other")
    studio.run("book", member_id=other.id, session_id=session.id)
    push_server_state(desk.replica, studio, position=3)
    lines = {line.member_name: line.booking.status for line in desk.views.roster(session.id)}
    assert lines == {"Other": BookingStatus.BOOKED, "Mine": BookingStatus.WAITLISTED}
    assert desk.views.counts()[0] == 1  # still pending: the cloud decides


def _ack(
    replica: Replica, seq: int, command_id: str, position: int, status: Status = Status.APPLIED
) -> None:
    replica.acknowledge(
        [
            CommandOutcome(
                seq=seq,
                command_id=command_id,
                status=status,
                code="x",
                message="refused",
                feed_position=position,
            )
        ],
        Studio.now,
    )


def test_acked_command_stays_until_pulled_past(desk: Desk, studio: Studio, clerk: str) -> None:
    session = studio.session()
    member = studio.member("Layered")
    push_server_state(desk.replica, studio, position=2)
    recorded = desk.act("book", clerk, studio.now, member_id=member.id, session_id=session.id)
    assert recorded.seq is not None
    _ack(desk.replica, recorded.seq, recorded.command_id, position=10)
    assert desk.views.counts()[0] == 0
    # A pull that has not reached position 10 yet: the booking must not flicker away.
    push_server_state(desk.replica, studio, position=5)
    assert [line.member_name for line in desk.views.roster(session.id)] == ["Layered"]
    # The cloud's copy arrives at position 10: the layer goes, the server row shows it.
    booking = desk.views.booking(recorded.outcome.subject_id or "")
    assert booking is not None
    studio.state.apply([booking])
    push_server_state(desk.replica, studio, position=10)
    with desk.replica.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM overlay").scalar_one() == 0
    assert [line.member_name for line in desk.views.roster(session.id)] == ["Layered"]


def test_rejection_removes_optimistic_effect_and_needs_attention(
    desk: Desk, studio: Studio, clerk: str
) -> None:
    session = studio.session()
    member = studio.member("Rejected")
    push_server_state(desk.replica, studio, position=2)
    recorded = desk.act("book", clerk, studio.now, member_id=member.id, session_id=session.id)
    assert recorded.seq is not None
    _ack(desk.replica, recorded.seq, recorded.command_id, 3, Status.REJECTED)
    assert desk.views.roster(session.id) == []
    items = desk.views.attention()
    assert [(i["command"], i["status"]) for i in items] == [("book", "rejected")]
    assert desk.replica.resolve_attention(recorded.command_id, "told member", clerk, studio.now)
    assert desk.views.attention() == []


def test_tombstone_and_reset(desk: Desk, studio: Studio) -> None:
    session = studio.session()
    member = studio.member("Gone")
    studio.run("book", member_id=member.id, session_id=session.id)
    push_server_state(desk.replica, studio, position=2)
    with desk.replica.read() as conn:
        booking = EffectiveReader(conn).find(Booking, "session_id", session.id)[0]
        part = conn.exec_driver_sql(
            "SELECT partition FROM rows WHERE id = ?", (booking.id,)
        ).scalar_one()
    desk.replica.apply_page(
        PullPage(part, (Change("booking", booking.id, None, 4),), "v1:0:4", False), 4
    )
    assert desk.views.roster(session.id) == []
    # An unknown cursor: the cloud resets the partition; the desk keeps only the page.
    desk.replica.apply_page(
        PullPage(
            part, (Change("session", session.id, encode(session), 5),), "v1:1:5", False, reset=True
        ),
        5,
    )
    assert desk.views.session(session.id) is not None
    assert desk.replica.cursors()[part] == "v1:1:5"


def test_migration_keeps_pending_commands(tmp_path: Path) -> None:
    from alembic import command

    from frontdesk.local_db import migrate
    from frontdesk.local_db.engine import make_engine

    path = tmp_path / "old.db"
    engine = make_engine(path)
    cfg = migrate._config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.commit()
        conn.exec_driver_sql(
            "INSERT INTO outbox (seq, command_id, name, version, args, staff_id, location_id, "
            "happened_at, state, partitions, effects) VALUES (1, 'c1', 'record_feedback', 1, "
            "'{}', 's', 'l', '2026-12-03T01:00:00Z', 'pending', '[]', '[]')"
        )
        conn.commit()
    engine.dispose()
    replica = Replica(path)
    assert replica.backup is not None and replica.backup.exists()
    assert [c.command_id for c in replica.pending(10)] == ["c1"]
    assert migrate.current_revision(replica.engine) == migrate.head_revision()


def test_newer_replica_is_refused(tmp_path: Path) -> None:
    import pytest

    from frontdesk.local_db import ReplicaError

    replica = Replica(tmp_path / "new.db")
    with replica.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    replica.close()
    with pytest.raises(ReplicaError, match="newer FrontDesk"):
        Replica(tmp_path / "new.db")


def test_replica_file_is_private(replica: Replica) -> None:
    assert replica.path.stat().st_mode & 0o077 == 0
    assert replica.path.parent.stat().st_mode & 0o077 == 0


def test_outbox_args_round_trip(desk: Desk, studio: Studio) -> None:
    manager = studio.staff[Role.MANAGER].id
    member = studio.member("冯")
    push_server_state(desk.replica, studio, position=2)
    desk.act("record_feedback", manager, studio.now, member_id=member.id, rating=4, comment="好")
    envelope = desk.replica.pending(1)[0]
    assert envelope.args == {"member_id": member.id, "rating": 4, "comment": "好"}
    assert json.loads(json.dumps(encode(envelope)))["staff_id"] == manager


def test_schema_head_constant_matches_the_migrations() -> None:
    from frontdesk.local_db import migrate

    assert migrate.head_revision() == migrate.SCHEMA_HEAD


def test_reader_answers_every_lookup_the_rules_use(desk: Desk, studio: Studio) -> None:
    from frontdesk.domain.model import Member, MemberStatus
    from frontdesk.domain.state import INDEXED

    kept, merged = studio.member("Kept"), studio.member("Twin")
    studio.state.apply(
        [Member(**{**merged.__dict__, "status": MemberStatus.MERGED, "merged_into": kept.id})]
    )
    push_server_state(desk.replica, studio, position=2)
    with desk.replica.read() as conn:
        reader = EffectiveReader(conn)
        for cls, field in INDEXED:
            assert isinstance(reader.find(cls, field, "no-such-id"), list)
        assert [m.id for m in reader.find(Member, "merged_into", kept.id)] == [merged.id]
