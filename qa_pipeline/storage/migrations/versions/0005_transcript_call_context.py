"""transcripts keep who was talking when the recording ended and the call a revisit
re-confirms, so re-judging a stored transcript sees what the first judging saw

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("talking_at_end", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("revisit_of", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_column("revisit_of")
        batch_op.drop_column("talking_at_end")
