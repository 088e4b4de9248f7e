"""v2 keeps each version's whole SectionDraft JSON (``draft_json``).

v1 kept only the columns, so fields the draft model gains later (and the full provenance: engine,
repaired flag) were lost. Existing rows are backfilled from their columns, so no version
disappears or changes text.

Revision ID: 0002
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

from assistant.workspace.migrations.helpers import refuse_downgrade, set_schema_version

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("versions", sa.Column("draft_json", sa.Text))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, section_id, text, title, level, author, model, instruction, prompt_version,"
            " passages_json, figures_json, check_json FROM versions"
        )
    ).mappings()
    for r in list(rows):
        engine = "model" if r["author"] == "model" or (r["model"] and r["author"] != "offline") else "offline"
        draft = {
            "section_id": r["section_id"],
            "title": r["title"],
            "text": r["text"],
            "level": r["level"],
            "provenance": {
                "engine": engine,
                "model": r["model"],
                "prompt_version": r["prompt_version"] or "",
                "figures": json.loads(r["figures_json"] or "[]"),
                "passages": json.loads(r["passages_json"] or "[]"),
                "instruction": r["instruction"],
                "repaired": False,
            },
            "check": json.loads(r["check_json"]),
        }
        bind.execute(
            sa.text("UPDATE versions SET draft_json = :d WHERE id = :i"),
            {"d": json.dumps(draft, ensure_ascii=False), "i": r["id"]},
        )
    set_schema_version(2)


def downgrade() -> None:
    refuse_downgrade()
