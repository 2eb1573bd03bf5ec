"""The one place that opens the replica database and sets its pragmas."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool


def make_engine(path: Path) -> Engine:
    """An engine whose every connection runs WAL with synchronous=FULL.

    pysqlite's own transaction handling is switched off so that we issue BEGIN
    ourselves: writes use BEGIN IMMEDIATE (several processes share one replica and a
    deferred writer would fail with "database is locked" on upgrade), reads BEGIN.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _private(path.parent, 0o700)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": 30.0, "check_same_thread": False},
        poolclass=NullPool if os.environ.get("FRONTDESK_NO_POOL") else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    with engine.connect():
        pass
    _private(path, 0o600)
    return engine


def _private(path: Path, mode: int) -> None:
    """Member data on a shared front-desk PC: keep the folder and file to this OS user."""
    with contextlib.suppress(OSError):
        os.chmod(path, mode)
