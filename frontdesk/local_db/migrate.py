"""Brings a replica to the current schema at start-up, after a backup; refuses newer ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


class ReplicaError(Exception):
    """The replica cannot be used as it is; the message says what to do."""


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "frontdesk.local_db:migrations")
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, path: Path) -> Path | None:
    """Migrate to head. Returns the backup made before an upgrade, if one was needed."""
    cfg = _config()
    script = ScriptDirectory.from_config(cfg)
    current = current_revision(engine)
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
