"""Reference indexes only over rows that have the reference.

Without statistics (a new or freshly loaded table) PostgreSQL took any index starting
with (tenant_id, kind) for a primary-key look-up and filtered thousands of rows. Partial
indexes (`WHERE col IS NOT NULL`) can only serve look-ups by that column, and are
smaller: most rows have no card code, session or merge target.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_entities_session": "session_id",
    "ix_entities_member": "member_id",
    "ix_entities_entitlement": "entitlement_id",
    "ix_entities_card": "card_code",
    "ix_entities_merged": "merged_into",
}


def upgrade() -> None:
    for name, column in _INDEXES.items():
        op.drop_index(name, "entities")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "entities", ["tenant_id", "kind", column],
                        postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, column in _INDEXES.items():
        op.drop_index(name, "entities")
        op.create_index(name, "entities", ["tenant_id", "kind", column])
