"""Tables of the replica: server truth, the pending layer, the outbox and sync state."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


def _entity_table(name: str, version_column: str) -> Table:
    """Entities as encoded JSON, with the columns the domain's look-ups need."""
    return Table(
        name,
        metadata,
        Column("kind", String, primary_key=True),
        Column("id", String, primary_key=True),
        Column("data", Text, nullable=False),
        Column("partition", String, nullable=False),
        Column(version_column, Integer, nullable=False),
        Column("session_id", String),
        Column("member_id", String),
        Column("entitlement_id", String),
        Column("card_code", String),
        Index(f"ix_{name}_partition", "partition", "kind"),
        Index(f"ix_{name}_session", "kind", "session_id"),
        Index(f"ix_{name}_member", "kind", "member_id"),
        Index(f"ix_{name}_entitlement", "kind", "entitlement_id"),
        Index(f"ix_{name}_card", "kind", "card_code"),
    )


#: The last state the cloud sent, per entity; `position` is its feed position.
rows = _entity_table("rows", "position")

#: Effects of commands the cloud has not yet reflected back; read on top of `rows`.
overlay = _entity_table("overlay", "seq")

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("command_id", String, nullable=False, unique=True),
    Column("name", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("args", Text, nullable=False),
    Column("staff_id", String, nullable=False),
    Column("location_id", String, nullable=False),
    Column("happened_at", String, nullable=False),
    Column("clock_offset_s", Float),
    Column("state", String, nullable=False),  # pending | acked | settled
    Column("outcome", Text),  # JSON of the cloud's CommandOutcome once acked
    Column("feed_position", Integer),
    Column("partitions", Text, nullable=False),  # JSON list the effects touch
    Column("effects", Text, nullable=False),  # JSON list of [kind, data]
    Column("local_code", String, nullable=False, server_default="ok"),  # the desk's answer
    Index("ix_outbox_state", "state", "seq"),
)

attention = Table(
    "attention",
    metadata,
    Column("command_id", String, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("status", String, nullable=False),
    Column("code", String, nullable=False),
    Column("message", Text, nullable=False),
    Column("fix", Text, nullable=False),
    Column("warnings", Text, nullable=False),  # JSON list of notices
    Column("subject_id", String),
    Column("created_at", String, nullable=False),
    Column("resolved_at", String),
    Column("resolution", Text),
    Column("resolved_by", String),
)

cursors = Table(
    "cursors",
    metadata,
    Column("partition", String, primary_key=True),
    Column("cursor", String),
    Column("position", Integer, nullable=False, default=0),
    Column("complete", Integer, nullable=False, default=0),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

#: Full-text search over members (FTS5), created by the migration; rowid from member id.
MEMBER_FTS_DDL = (
    "CREATE VIRTUAL TABLE member_fts USING fts5("
    "member_id UNINDEXED, name UNINDEXED, phone UNINDEXED, card UNINDEXED, terms, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3')"
)
