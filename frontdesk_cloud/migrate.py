"""Brings the schema to the latest version with Alembic, run programmatically.

`script_location` is a package path so it works from an installed or frozen build.
On PostgreSQL, migrate runs as the owner; `app_role` names the non-owner role the
service connects as, which gets row access (row-level security still confines it).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database
from .schema import metadata

_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "frontdesk_cloud:migrations")
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database, app_role: str | None = None) -> None:
    """Upgrade to head; grant `app_role` (PostgreSQL) the rights the service needs."""
    config = _config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    if app_role:
        grant_app_role(db, app_role)


def grant_app_role(db: Database, role: str) -> None:
    if not db.is_postgres:
        return
    if not _ROLE.match(role):
        raise ValueError(f"not a role name: {role!r}")
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {names} TO {role}"))
        conn.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        # Read-only, so `serve` can check the schema version before it starts.
        conn.execute(sa.text(f"GRANT SELECT ON alembic_version TO {role}"))
