"""Desks keep their client id when registered again; members found by who they merged into.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("desk_id", sa.String(64), nullable=True))
    op.create_index("uq_devices_desk", "devices", ["tenant_id", "desk_id"], unique=True)
    op.add_column("entities", sa.Column("merged_into", sa.String(36), nullable=True))
    op.create_index("ix_entities_merged", "entities", ["tenant_id", "kind", "merged_into"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE entities SET merged_into = data::json->>'merged_into' "
                   "WHERE kind = 'member'")
    else:
        op.execute("UPDATE entities SET merged_into = json_extract(data, '$.merged_into') "
                   "WHERE kind = 'member'")


def downgrade() -> None:
    op.drop_index("ix_entities_merged", "entities")
    with op.batch_alter_table("entities") as batch:
        batch.drop_column("merged_into")
    op.drop_index("uq_devices_desk", "devices")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("desk_id")
