"""Registry fields a city loads on day one (issues 12, 13): how a standard is assessed, the point kinds it
applies to and, for the 负面清单, whether it vetoes or deducts; a category's code and 数字城管 classes; category aliases

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("standards", sa.Column("method", sa.String(length=8), nullable=True))
    op.add_column("standards", sa.Column("point_kinds", sa.String(length=200), nullable=True))
    op.add_column("standards", sa.Column("negative_effect", sa.String(length=4), nullable=True))
    op.add_column("categories", sa.Column("code", sa.String(length=16), nullable=True))
    op.add_column("categories", sa.Column("kind", sa.String(length=4), nullable=True))
    op.add_column("categories", sa.Column("major", sa.String(length=20), nullable=True))
    op.create_table(
        "category_aliases",
        sa.Column("alias", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=20), sa.ForeignKey("categories.name"), nullable=False),
        sa.PrimaryKeyConstraint("alias"),
    )


def downgrade() -> None:
    op.drop_table("category_aliases")
    for name in ("major", "kind", "code"):
        op.drop_column("categories", name)
    for name in ("negative_effect", "point_kinds", "method"):
        op.drop_column("standards", name)
