"""agent role and yellow cards: users linked to an agent id, and the agents' service cases
(issue 14, from the hotline practice)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite cannot add a unique constraint to a table in place
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_users_agent_id", ["agent_id"])
    op.create_table(
        "agent_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("explained_by", sa.String(length=64), nullable=True),
        sa.Column("explained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("yellow_card", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("callback_task_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
    )
    with op.batch_alter_table("agent_cases", schema=None) as batch_op:
        batch_op.create_index("ix_agent_cases_agent_status", ["agent_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_cases_team"), ["team"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agent_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_cases_team"))
        batch_op.drop_index("ix_agent_cases_agent_status")
    op.drop_table("agent_cases")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_agent_id", type_="unique")
        batch_op.drop_column("agent_id")
