"""v5: a report can be moved to the 回收站 (``deleted_at``) and back, and the versions a whole-report
action saves share a batch, so that the action is undone in one step.

Only columns and a table are added: every existing report stays live and every existing version
keeps its text (its batch is NULL: it was saved by no undoable action).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from assistant.workspace.migrations.helpers import is_sqlite, refuse_downgrade, set_schema_version

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("deleted_at", sa.Text))
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("unlocked_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("undone_by", sa.Integer),
        sqlite_autoincrement=True,
    )
    if is_sqlite():
        # SQLite adds a column with its reference in one statement; Alembic would ask for a table
        # rebuild (batch mode) to add the constraint separately.
        op.execute("ALTER TABLE versions ADD COLUMN batch_id INTEGER REFERENCES batches(id)")
    else:
        op.add_column("versions", sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id")))
    op.create_index("versions_by_batch", "versions", ["batch_id"])
    set_schema_version(5)


def downgrade() -> None:
    refuse_downgrade()
