"""Opens the cloud database: URLs, engines, pragmas, and tenant-scoped transactions.

The one place that knows the driver. On PostgreSQL every transaction sets
`app.tenant_id` for row-level security; on SQLite writers take the write lock at BEGIN
(`BEGIN IMMEDIATE`), which also serialises feed positions.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

#: Errors of the database itself (through SQLAlchemy or straight from the driver).
DRIVER_ERRORS: tuple[type[Exception], ...] = (sa.exc.DBAPIError, sqlite3.Error, psycopg.Error)
#: Errors that mean "the database is not answering right now": retry later (503).
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.exc.OperationalError, sa.exc.InterfaceError, sqlite3.OperationalError,
    psycopg.OperationalError, psycopg.InterfaceError,
)


class DatabaseURLError(ValueError):
    """A database URL we do not accept; the message says what is expected."""


def driver_url(url: str) -> sa.URL:
    """`sqlite:///PATH` or `postgresql://USER@HOST:PORT/DB` as a SQLAlchemy URL."""
    try:
        parsed = sa.make_url(url)
    except Exception:
        raise DatabaseURLError(
            f"cannot read database URL {url!r}: use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseURLError("a SQLite database URL needs a file path: sqlite:///PATH")
        return parsed.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise DatabaseURLError(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    )


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    target = driver_url(url)
    if target.get_backend_name() == "sqlite":
        assert target.database is not None
        Path(target.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(target, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_events(engine)
        return engine
    return sa.create_engine(
        target, pool_size=pool_size, max_overflow=2 * pool_size, pool_pre_ping=True
    )


def _sqlite_events(engine: Engine) -> None:
    """Pragmas on connect (inside a transaction WAL silently does nothing), real BEGINs."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT: we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def utc(moment: datetime | None) -> datetime | None:
    """Times come back naive from SQLite: they were stored in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class Database:
    """An engine and how to open transactions on it."""

    engine: Engine

    @classmethod
    def open(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(make_engine(url, pool_size=pool_size))

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def transaction(
        self, tenant_id: str | None = None, *, write: bool = False, snapshot: bool = False
    ) -> Iterator[Connection]:
        """One transaction; with a tenant, row-level security scopes it to that tenant.

        `write` takes SQLite's write lock at BEGIN so a reader never has to upgrade;
        `snapshot` gives PostgreSQL one snapshot for every statement (a pull page).
        """
        with self.engine.connect() as conn:
            if self.is_postgres and snapshot:
                conn.execution_options(isolation_level="REPEATABLE READ")
            elif not self.is_postgres and write:
                conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                if tenant_id is not None and self.is_postgres:
                    conn.execute(
                        sa.text("SELECT set_config('app.tenant_id', :tid, true)"),
                        {"tid": tenant_id},
                    )
                yield conn

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
