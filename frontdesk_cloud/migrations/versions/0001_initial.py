"""The first schema: tenants, entities and their feed, accounts, devices, exactly-once state.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = 36
_TZ = sa.DateTime(timezone=True)

#: Tables holding one tenant's rows; on PostgreSQL row-level security confines them.
TENANT_TABLES = (
    "feed_counters",
    "entities",
    "tombstones",
    "staff_credentials",
    "devices",
    "refresh_tokens",
    "client_states",
    "applied_commands",
)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "feed_counters",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
    )
    op.create_table(
        "entities",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("partition", sa.String(80), nullable=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("session_id", sa.String(_ID), nullable=True),
        sa.Column("member_id", sa.String(_ID), nullable=True),
        sa.Column("entitlement_id", sa.String(_ID), nullable=True),
        sa.Column("card_code", sa.String(200), nullable=True),
    )
    op.create_index("ix_entities_feed", "entities", ["tenant_id", "partition", "position"])
    op.create_index("ix_entities_session", "entities", ["tenant_id", "kind", "session_id"])
    op.create_index("ix_entities_member", "entities", ["tenant_id", "kind", "member_id"])
    op.create_index(
        "ix_entities_entitlement", "entities", ["tenant_id", "kind", "entitlement_id"]
    )
    op.create_index("ix_entities_card", "entities", ["tenant_id", "kind", "card_code"])
    op.create_table(
        "tombstones",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("partition", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_tombstones_feed", "tombstones", ["tenant_id", "partition", "position"])
    op.create_table(
        "staff_credentials",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("staff_id", sa.String(_ID), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.UniqueConstraint("tenant_id", "username", name="uq_staff_credentials_username"),
    )
    op.create_table(
        "devices",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("client_id", sa.String(_ID), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("location_id", sa.String(_ID), nullable=False),
        sa.Column("staff_id", sa.String(_ID), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("revoked_at", _TZ, nullable=True),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(_ID), nullable=False),
        sa.Column("device_id", sa.String(_ID), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("replaced_at", _TZ, nullable=True),
    )
    op.create_table(
        "client_states",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("client_id", sa.String(_ID), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "applied_commands",
        sa.Column("tenant_id", sa.String(_ID), primary_key=True),
        sa.Column("client_id", sa.String(_ID), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("feed_position", sa.BigInteger, nullable=False),
        sa.Column("applied_at", _TZ, nullable=False),
    )
    op.create_table(
        "login_attempts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
        ),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
    )
    op.create_index("ix_login_attempts_user", "login_attempts", ["tenant", "username", "at"])
    op.create_index(
        "ix_login_attempts_address", "login_attempts", ["tenant", "address", "at"]
    )
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} "
                "USING (tenant_id = current_setting('app.tenant_id', true)) "
                "WITH CHECK (tenant_id = current_setting('app.tenant_id', true))"
            )


def downgrade() -> None:
    for table in (
        "service_keys",
        "login_attempts",
        "applied_commands",
        "client_states",
        "refresh_tokens",
        "devices",
        "staff_credentials",
        "tombstones",
        "entities",
        "feed_counters",
        "tenants",
    ):
        op.drop_table(table)
