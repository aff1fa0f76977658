"""Rules by date (规则按日期生效, issue 13): versions of a 测评标准's points / 负面清单 effect and of a 问题类型's
time limit and deduction, each in force from valid_from (inclusive) to valid_to (exclusive, NULL = open)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standard_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=16), sa.ForeignKey("standards.code"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("negative", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("negative_effect", sa.String(length=4), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.UniqueConstraint("code", "valid_from"),
    )
    op.create_table(
        "category_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=20), sa.ForeignKey("categories.name"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("deadline_hours", sa.Float(), nullable=False),
        sa.Column("deduction", sa.Float(), nullable=False),
        sa.Column("time_limit", sa.Float(), nullable=True),
        sa.Column("time_unit", sa.String(length=4), nullable=True),
        sa.Column("urgent_hours", sa.Float(), nullable=True),
        sa.UniqueConstraint("name", "valid_from"),
    )


def downgrade() -> None:
    op.drop_table("category_versions")
    op.drop_table("standard_versions")
