"""transcripts keep which speech recognizer made their words, so re-judging a stored heard
transcript reads it as the first judging did (tolerantly: Call.heard_by)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heard_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_column("heard_by")
