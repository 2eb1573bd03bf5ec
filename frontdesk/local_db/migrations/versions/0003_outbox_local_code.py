"""Keep the desk's own answer to each command, to spot when the cloud decides otherwise.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("local_code", sa.String(), nullable=False, server_default="ok"))
