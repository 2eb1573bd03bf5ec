"""The cloud's tables, as SQLAlchemy Core metadata used by every query.

Migrations (`frontdesk_cloud/migrations`) create the same tables explicitly; a test
compares the migrated database with this metadata so the two cannot drift.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

_ID = 36  # a UUID as text; ids are minted by whoever creates the thing

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

#: One row per tenant, locked FOR UPDATE by every writer: positions follow commit order.
feed_counters = sa.Table(
    "feed_counters",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("epoch", sa.Integer, nullable=False),
)

#: The latest value of every domain entity, with the feed position of its last change.
entities = sa.Table(
    "entities",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),  # compact JSON of codec.encode(entity)
    sa.Column("partition", sa.String(80), nullable=True),  # None: stays in the cloud
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("session_id", sa.String(_ID), nullable=True),
    sa.Column("member_id", sa.String(_ID), nullable=True),
    sa.Column("entitlement_id", sa.String(_ID), nullable=True),
    sa.Column("card_code", sa.String(200), nullable=True),
    sa.Column("merged_into", sa.String(_ID), nullable=True),
    sa.Index("ix_entities_feed", "tenant_id", "partition", "position"),
    # Partial: a look-up by id can then only take the primary key, whatever the
    # statistics say (migration 0003).
    *(
        sa.Index(name, "tenant_id", "kind", column,
                 postgresql_where=sa.text(f"{column} IS NOT NULL"),
                 sqlite_where=sa.text(f"{column} IS NOT NULL"))
        for name, column in (
            ("ix_entities_session", "session_id"),
            ("ix_entities_member", "member_id"),
            ("ix_entities_entitlement", "entitlement_id"),
            ("ix_entities_card", "card_code"),
            ("ix_entities_merged", "merged_into"),
        )
    ),
)

#: A row that left a partition (deleted, or moved to another day), at that position.
tombstones = sa.Table(
    "tombstones",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("partition", sa.String(80), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Index("ix_tombstones_feed", "tenant_id", "partition", "position"),
)

staff_credentials = sa.Table(
    "staff_credentials",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("staff_id", sa.String(_ID), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.UniqueConstraint("tenant_id", "username", name="uq_staff_credentials_username"),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("client_id", sa.String(_ID), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("location_id", sa.String(_ID), nullable=False),
    sa.Column("staff_id", sa.String(_ID), nullable=False),  # who registered it
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    #: The desk's own durable id: registering the same desk again keeps its client id.
    sa.Column("desk_id", sa.String(64), nullable=True),
    sa.Index("uq_devices_desk", "tenant_id", "desk_id", unique=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("staff_id", sa.String(_ID), nullable=False),
    sa.Column("device_id", sa.String(_ID), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
)

client_states = sa.Table(
    "client_states",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("client_id", sa.String(_ID), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

applied_commands = sa.Table(
    "applied_commands",
    metadata,
    sa.Column("tenant_id", sa.String(_ID), primary_key=True),
    sa.Column("client_id", sa.String(_ID), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("command_id", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),  # JSON of the CommandOutcome
    sa.Column("feed_position", sa.BigInteger, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

#: Keyed by the tenant slug as typed: attempts against unknown tenants count too.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Index("ix_login_attempts_user", "tenant", "username", "at"),
    sa.Index("ix_login_attempts_address", "tenant", "address", "at"),
)

#: Service-wide settings kept in the database so every worker agrees (the JWT key).
service_keys = sa.Table(
    "service_keys",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

#: Tables whose rows belong to one tenant: row-level security applies to these.
TENANT_TABLES = (
    feed_counters,
    entities,
    tombstones,
    staff_credentials,
    devices,
    refresh_tokens,
    client_states,
    applied_commands,
)
