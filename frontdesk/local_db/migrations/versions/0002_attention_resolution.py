"""Record who resolved an attention item, for the end-of-day review.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attention") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(), nullable=True))
