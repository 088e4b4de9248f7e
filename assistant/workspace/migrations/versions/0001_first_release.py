"""v1: the first released layout (reports, figure snapshots, sections, versions, chat).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from assistant.workspace.migrations.helpers import refuse_downgrade

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("schema_version", sa.Column("version", sa.Integer, nullable=False))
    op.create_table(
        "reports",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("organisation", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("updated", sa.Text, nullable=False),
    )
    op.create_table(
        "figure_snapshots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("figures_json", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sqlite_autoincrement=True,  # ids are never reused, even after the newest row is gone
    )
    op.create_table(
        "sections",
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("section_id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("level", sa.Integer, nullable=False, server_default="0"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("locked", sa.Integer, nullable=False, server_default="0"),
        sa.Column("current_version", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("report_id", "section_id"),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Text, nullable=False),
        sa.Column("section_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("model", sa.Text),
        sa.Column("model_settings_json", sa.Text),
        sa.Column("instruction", sa.Text),
        sa.Column("prompt_version", sa.Text),
        sa.Column("passages_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("figures_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("check_json", sa.Text, nullable=False),
        sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("figure_snapshots.id")),
        sa.Column("reverted_from", sa.Integer),
        sa.Column("created", sa.Text, nullable=False),
        # Two writers can never save the same version number: the lock serialises them, this backs it up.
        sa.UniqueConstraint("report_id", "section_id", "version"),
        sa.ForeignKeyConstraint(["report_id", "section_id"], ["sections.report_id", "sections.section_id"]),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("versions_by_section", "versions", ["report_id", "section_id", "version"])
    op.create_index("snapshots_by_report", "figure_snapshots", ["report_id", "id"])
    op.execute("INSERT INTO schema_version(version) VALUES (1)")


def downgrade() -> None:
    refuse_downgrade()
