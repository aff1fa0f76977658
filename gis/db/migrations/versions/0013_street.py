"""Street (issue 15): Open311 API keys; address, media_url and the 12345 回访 on problems; inspection photos

Revision ID: 0013
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("key_hash"),
    )
    # Plain ADD COLUMN (no table copy: problems carries a SpatiaLite geometry column).
    op.add_column("problems", sa.Column("address", sa.String(length=200), nullable=True))
    op.add_column("problems", sa.Column("media_url", sa.String(length=500), nullable=True))
    op.add_column("problems", sa.Column("satisfaction", sa.String(length=4), nullable=True))
    op.add_column("problems", sa.Column("followed_up_at", sa.DateTime(), nullable=True))
    op.create_index("ix_problems_followed_up_at", "problems", ["followed_up_at"])
    op.add_column("inspections", sa.Column("photo_path", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("inspections", "photo_path")
    op.drop_index("ix_problems_followed_up_at", table_name="problems")
    for name in ("followed_up_at", "satisfaction", "media_url", "address"):
        op.drop_column("problems", name)
    op.drop_table("api_keys")
