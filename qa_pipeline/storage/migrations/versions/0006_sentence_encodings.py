"""sentence encodings of the understanding stage, by encoder and text, so re-judging a stored
call encodes nothing again

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sentence_encodings",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sentence_encodings")
