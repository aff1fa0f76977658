"""Districts (区县, issue 17): a `districts` table and a `district_code` on every table that belongs to
one district — areas, problems, inspections, cards, negative-list events — and on users (none: the
user is city-level). A database that already holds data is given its one district, the deployment's
own (`gis.geo.districts.home_district`), and every row is put in it; 领导 and 管理员 stay city-level.

Revision ID: 0017
Revises: 0016
"""

import geoalchemy2  # noqa: F401  (registers the spatial types Alembic renders)
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# table → True when it gets a plain index of its own (problems and inspections get a composite one)
TABLES = {"grids": True, "streets": True, "compounds": True, "villages": True, "points": True,
          "problems": False, "inspections": False, "users": True, "cards": True, "negative_events": True}

# each date range the figures read, led by the district (gis.db.models.Problem)
PROBLEM_INDEXES = {
    "ix_problems_district_month": ["district_code", "reported_at"],
    "ix_problems_district_deadline": ["district_code", "deadline"],
    "ix_problems_district_status": ["district_code", "status", "verified_at"],
    "ix_problems_district_registered": ["district_code", "registered_at"],
    "ix_problems_district_deferred": ["district_code", "deferred_at"],
    "ix_problems_district_followed": ["district_code", "followed_up_at"],
}


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("grid_prefix", sa.String(length=8), nullable=False),
        sa.Column("settings", sa.Text(), nullable=True),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4326, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.create_geospatial_index("idx_districts_geom", ["geom"], unique=False, postgresql_using="gist",
                                         postgresql_ops={})
    for table, own_index in TABLES.items():
        op.add_column(table, sa.Column("district_code", sa.String(length=12), nullable=True))
        if own_index:
            op.create_index(f"ix_{table}_district_code", table, ["district_code"])
    for name, columns in PROBLEM_INDEXES.items():
        op.create_index(name, "problems", columns)
    op.create_index("ix_inspections_district_date", "inspections", ["district_code", "inspected_on"])
    _backfill()


def _backfill() -> None:
    """Existing rows belong to the deployment's own district (its code: GRIDMAP_DISTRICT_CODE); its row
    in ``districts``, with the boundary, is written at first use (`gis.geo.districts.ensure_home`)."""
    from gis.config import setting

    conn = op.get_bind()
    home = setting("GRIDMAP_DISTRICT_CODE")
    for table in TABLES:
        if table != "users":
            conn.execute(sa.text(f"UPDATE {table} SET district_code = :c WHERE district_code IS NULL"), {"c": home})
    conn.execute(sa.text("UPDATE users SET district_code = :c WHERE district_code IS NULL AND role NOT IN "
                         "(:leader, :admin)"), {"c": home, "leader": "领导", "admin": "管理员"})


def downgrade() -> None:
    op.drop_index("ix_inspections_district_date", table_name="inspections")
    for name in PROBLEM_INDEXES:
        op.drop_index(name, table_name="problems")
    for table, own_index in TABLES.items():
        if own_index:
            op.drop_index(f"ix_{table}_district_code", table_name=table)
        op.drop_column(table, "district_code")
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_geospatial_index("idx_districts_geom", postgresql_using="gist", column_name="geom")
    op.drop_table("districts")
    if op.get_bind().dialect.name == "sqlite":  # SpatiaLite leaves the R*Tree of a dropped spatial index
        op.execute("DROP TABLE IF EXISTS idx_districts_geom")
