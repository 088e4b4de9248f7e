"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Bump ``SCHEMA_VERSION`` in ``assistant/workspace/store.py`` and set it here (``set_schema_version``):
an older huibao refuses a workspace whose schema version is newer than its own.
"""

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

from assistant.workspace.migrations.helpers import refuse_downgrade, set_schema_version

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    refuse_downgrade()
