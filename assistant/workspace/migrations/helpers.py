"""What the migration scripts share."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def set_schema_version(version: int) -> None:
    """Keep ``schema_version`` in step with Alembic's revision: older huibao releases (before
    Alembic) read it to refuse a workspace newer than themselves."""
    op.execute(sa.text("UPDATE schema_version SET version = :v").bindparams(v=version))


def is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def refuse_downgrade() -> None:
    raise NotImplementedError(
        "huibao never migrates a workspace down: restore a backup instead (huibao restore-backup)"
    )
