"""v4 keeps the comments a marked-up Word file brought back (``huibao import``), per section.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from assistant.workspace.migrations.helpers import refuse_downgrade, set_schema_version

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("section_id", sa.Text),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("anchor", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("comments_by_report", "comments", ["report_id", "section_id"])
    set_schema_version(4)


def downgrade() -> None:
    refuse_downgrade()
