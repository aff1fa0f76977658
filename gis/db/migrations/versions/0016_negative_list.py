"""负面清单事件 (issue 12 §5): a negative-list standard occurring in a grid (and its responsible units) on a
date — reported, then confirmed (确认) or withdrawn (撤销) by the command centre, a leader or an administrator.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "negative_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("standard_code", sa.String(length=16), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("unit_codes", sa.Text(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_negative_events_occurred_on", "negative_events", ["occurred_on"])
    op.create_index("ix_negative_events_grid_code", "negative_events", ["grid_code"])


def downgrade() -> None:
    op.drop_index("ix_negative_events_grid_code", table_name="negative_events")
    op.drop_index("ix_negative_events_occurred_on", table_name="negative_events")
    op.drop_table("negative_events")
