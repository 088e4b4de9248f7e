"""v3 keeps the changes a chat's model proposed (waiting for 确认 / 取消, then settled), so a
proposal outlives a page reload and the record of who proposed a change stays.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from assistant.workspace.migrations.helpers import refuse_downgrade, set_schema_version

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("proposal_json", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),  # pending | confirmed | cancelled
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("settled", sa.Text),
        sqlite_autoincrement=True,
    )
    set_schema_version(3)


def downgrade() -> None:
    refuse_downgrade()
