"""Alembic environment for the replica: runs on the connection handed in by `migrate`."""

from alembic import context

from frontdesk.local_db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
