"""Numbers (issue 12): 立案 / 派遣 / 延期 / 缓办 on problems, time limits in working time on categories

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

PROBLEM_COLUMNS = ("registered_at", "dispatched_at", "original_deadline", "deferred_at", "request_deadline")


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy: problems carries a SpatiaLite geometry column).
    for name in PROBLEM_COLUMNS:
        op.add_column("problems", sa.Column(name, sa.DateTime(), nullable=True))
    op.add_column("problems", sa.Column("request_kind", sa.String(length=4), nullable=True))
    op.create_index("ix_problems_deadline", "problems", ["deadline"])
    op.create_index("ix_problems_registered", "problems", ["registered_at"])
    op.create_index("ix_problems_deferred", "problems", ["deferred_at"])
    op.add_column("categories", sa.Column("time_limit", sa.Float(), nullable=True))
    op.add_column("categories", sa.Column("time_unit", sa.String(length=4), nullable=True))
    op.add_column("categories", sa.Column("urgent_hours", sa.Float(), nullable=True))


def downgrade() -> None:
    for name in ("urgent_hours", "time_unit", "time_limit"):
        op.drop_column("categories", name)
    for name in ("ix_problems_deferred", "ix_problems_registered", "ix_problems_deadline"):
        op.drop_index(name, table_name="problems")
    for name in ("request_kind", *reversed(PROBLEM_COLUMNS)):
        op.drop_column("problems", name)
