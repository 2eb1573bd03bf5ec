"""The store contract on both databases: migrations, look-ups, positions, savepoints."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from frontdesk.domain.model import Booking, BookingStatus, Member
from frontdesk_cloud.db import DatabaseURLError, driver_url
from frontdesk_cloud.migrate import current_revision, head_revision, migrate
from frontdesk_cloud.schema import metadata
from tests.cloud.studio import Backend, CloudStudio, new_id


def test_migrations_build_exactly_the_schema_the_code_uses(fresh_backend: Backend) -> None:
    from frontdesk_cloud.db import Database

    owner = Database.open(fresh_backend.owner_url)
    try:
        migrate(owner)  # a second run is a no-op
        assert current_revision(owner) == head_revision()
        with owner.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        if owner.is_postgres:
            with owner.engine.connect() as conn:
                forced = conn.execute(sa.text(
                    "SELECT relname FROM pg_class WHERE relforcerowsecurity")).scalars()
                assert set(forced) >= {"entities", "tombstones", "feed_counters", "devices"}
        else:
            with owner.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        owner.dispose()


def test_database_urls() -> None:
    assert driver_url("sqlite:////tmp/x.sqlite").drivername == "sqlite+pysqlite"
    assert driver_url("postgresql://me@localhost:5432/db").drivername == "postgresql+psycopg"
    for bad in ("mysql://x/y", "sqlite://", "sqlite:///:memory:", "::"):
        with pytest.raises(DatabaseURLError):
            driver_url(bad)


def test_find_follows_writes_inside_a_transaction(studio: CloudStudio) -> None:
    session = studio.session()
    member, _ = studio.member(card_code="A-1")
    with studio.store() as store:
        assert store.find(Member, "card_code", "A-1") == [member]
        assert store.find(Booking, "session_id", session.id) == []
        booking = Booking(new_id(), session.id, member.id, BookingStatus.BOOKED,
                          session.start)
        store.write([booking, replace(member, card_code="B-2")])
        assert store.find(Member, "card_code", "A-1") == []
        assert store.find(Member, "card_code", "B-2") == [replace(member, card_code="B-2")]
        assert store.find(Booking, "session_id", session.id) == [booking]
        assert store.find(Member, "name", member.name) == [replace(member, card_code="B-2")]
    with studio.store() as store:  # and a new transaction reads the same from the database
        assert store.find(Booking, "member_id", member.id) == [booking]
        assert store.get(Member, member.id) == replace(member, card_code="B-2")


def test_every_write_takes_new_positions_in_order(studio: CloudStudio) -> None:
    with studio.store() as store:
        start, _ = store.feed_state()
        last = store.write([Member(new_id(), "a"), Member(new_id(), "b")])
        assert last == start + 2
        assert store.feed_state()[0] == last


def test_a_rolled_back_savepoint_leaves_no_trace(studio: CloudStudio) -> None:
    member, _ = studio.member()
    with studio.store() as store:
        before = store.feed_state()[0]
        savepoint = store.conn.begin_nested()
        store.write([replace(member, name="Changed")])
        savepoint.rollback()
        store.forget()
        assert store.get(Member, member.id) == member
        assert store.feed_state()[0] == before


def test_every_rule_look_up_has_an_indexed_column() -> None:
    from frontdesk.domain.state import INDEXED
    from frontdesk_cloud.store import REF_COLUMNS

    assert {field for _, field in INDEXED} <= set(REF_COLUMNS)


def test_find_members_merged_into_another(studio: CloudStudio) -> None:
    from frontdesk.domain.model import MemberStatus

    keep, _ = studio.member()
    gone, _ = studio.member()
    studio.write(replace(gone, status=MemberStatus.MERGED, merged_into=keep.id))
    with studio.store() as store:
        assert [m.id for m in store.find(Member, "merged_into", keep.id)] == [gone.id]
