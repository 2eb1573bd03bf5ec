"""The first replica schema: rows, overlay, outbox, attention, cursors, meta, search.

Revision ID: 0001
Revises:
"""

from alembic import op

from frontdesk.local_db.schema import MEMBER_FTS_DDL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen as of this revision, so later changes to schema.py cannot rewrite history.
STATEMENTS = [
    """
CREATE TABLE attention (
	command_id VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	name VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	code VARCHAR NOT NULL,
	message TEXT NOT NULL,
	fix TEXT NOT NULL,
	warnings TEXT NOT NULL,
	subject_id VARCHAR,
	created_at VARCHAR NOT NULL,
	resolved_at VARCHAR,
	resolution TEXT,
	PRIMARY KEY (command_id)
)
    """,
    """
CREATE TABLE cursors (
	partition VARCHAR NOT NULL,
	cursor VARCHAR,
	position INTEGER NOT NULL,
	complete INTEGER NOT NULL,
	PRIMARY KEY (partition)
)
    """,
    """
CREATE TABLE meta (
	"key" VARCHAR NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY ("key")
)
    """,
    """
CREATE TABLE outbox (
	seq INTEGER NOT NULL,
	command_id VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	version INTEGER NOT NULL,
	args TEXT NOT NULL,
	staff_id VARCHAR NOT NULL,
	location_id VARCHAR NOT NULL,
	happened_at VARCHAR NOT NULL,
	clock_offset_s FLOAT,
	state VARCHAR NOT NULL,
	outcome TEXT,
	feed_position INTEGER,
	partitions TEXT NOT NULL,
	effects TEXT NOT NULL,
	PRIMARY KEY (seq),
	UNIQUE (command_id)
)
    """,
    """
CREATE INDEX ix_outbox_state ON outbox (state, seq)
    """,
    """
CREATE TABLE overlay (
	kind VARCHAR NOT NULL,
	id VARCHAR NOT NULL,
	data TEXT NOT NULL,
	partition VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	session_id VARCHAR,
	member_id VARCHAR,
	entitlement_id VARCHAR,
	card_code VARCHAR,
	PRIMARY KEY (kind, id)
)
    """,
    """
CREATE INDEX ix_overlay_session ON overlay (kind, session_id)
    """,
    """
CREATE INDEX ix_overlay_member ON overlay (kind, member_id)
    """,
    """
CREATE INDEX ix_overlay_entitlement ON overlay (kind, entitlement_id)
    """,
    """
CREATE INDEX ix_overlay_card ON overlay (kind, card_code)
    """,
    """
CREATE INDEX ix_overlay_partition ON overlay (partition, kind)
    """,
    """
CREATE TABLE rows (
	kind VARCHAR NOT NULL,
	id VARCHAR NOT NULL,
	data TEXT NOT NULL,
	partition VARCHAR NOT NULL,
	position INTEGER NOT NULL,
	session_id VARCHAR,
	member_id VARCHAR,
	entitlement_id VARCHAR,
	card_code VARCHAR,
	PRIMARY KEY (kind, id)
)
    """,
    """
CREATE INDEX ix_rows_member ON rows (kind, member_id)
    """,
    """
CREATE INDEX ix_rows_entitlement ON rows (kind, entitlement_id)
    """,
    """
CREATE INDEX ix_rows_card ON rows (kind, card_code)
    """,
    """
CREATE INDEX ix_rows_partition ON rows (partition, kind)
    """,
    """
CREATE INDEX ix_rows_session ON rows (kind, session_id)
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
    op.execute(MEMBER_FTS_DDL)
