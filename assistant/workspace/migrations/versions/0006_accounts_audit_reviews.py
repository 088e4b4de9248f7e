"""v6: accounts for an office, who changed what, and review states.

* ``users`` (password hashes only, never a password), ``memberships`` (who works on which report),
  ``sessions`` (signed-in browsers; the cookie holds a signed token, the table its sha256) and
  ``audit`` (who did what, when; never deleted by any operation).
* Each version records its ``user``; a report its creator (``created_by``).
* Each section has a review state (``draft`` 草稿, ``submitted`` 待审, ``approved`` 已通过,
  ``returned`` 退回) with the version it applies to, and ``reviews`` keeps every decision.
* ``locked_by``: who locked a section (a drafter may unlock only their own locks).

Existing versions keep their text; their user is NULL (recorded before accounts existed) and
every existing section starts as 草稿.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from assistant.workspace.migrations.helpers import refuse_downgrade, set_schema_version

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),  # drafter | reviewer | admin
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("enabled", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("last_login", sa.Text),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "memberships",
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("added", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("report_id", "user"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("user", sa.Text, sa.ForeignKey("users.name"), nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("last_seen", sa.Text, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("time", sa.Text, nullable=False),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("report_id", sa.Text),
        sa.Column("section_id", sa.Text),
        sa.Column("version", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sqlite_autoincrement=True,
    )
    op.create_index("audit_by_time", "audit", ["time"])
    op.create_index("audit_by_report", "audit", ["report_id", "section_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Text, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("section_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("previous", sa.Text, nullable=False),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("created", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("reviews_by_section", "reviews", ["report_id", "section_id", "id"])
    op.add_column("versions", sa.Column("user", sa.Text))
    op.add_column("reports", sa.Column("created_by", sa.Text))
    op.add_column("sections", sa.Column("review_state", sa.Text, nullable=False, server_default="draft"))
    op.add_column("sections", sa.Column("review_version", sa.Integer))
    op.add_column("sections", sa.Column("locked_by", sa.Text))
    set_schema_version(6)


def downgrade() -> None:
    refuse_downgrade()
