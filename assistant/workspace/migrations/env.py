"""Alembic's environment: always run by ``assistant.workspace.schema.upgrade`` on a connection it
opened and locked, inside its transaction (so the migration, its version stamp and the write lock
commit or roll back together)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
