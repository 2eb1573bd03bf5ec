"""Brings a replica to the current schema at start-up, after a backup; refuses newer ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest schema revision; checked against the migration scripts by a test. Opening a
#: replica already at this revision skips loading Alembic (a third of a CLI call's time).
SCHEMA_HEAD = "0003"


class ReplicaError(Exception):
    """The replica cannot be used as it is; the message says what to do."""


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "frontdesk.local_db:migrations")
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first()
        if exists is None:
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return row[0] if row else None


def upgrade(engine: Engine, path: Path) -> Path | None:
    """Migrate to head. Returns the backup made before an upgrade, if one was needed."""
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return None
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = _config()
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    if current == head:
        return None
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise ReplicaError(
            f"This desk's data ({path}) was written by a newer FrontDesk (schema {current}). "
            "Install the newer version, or sign in with a new --data-dir."
        )
    backup = None
    if current is not None:
        backup = path.with_name(f"{path.name}.before-{head}.bak")
        _backup(path, backup)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
    return backup


def _backup(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (safe while others read)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
