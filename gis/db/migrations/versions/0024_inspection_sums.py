"""测评月度汇总 (issue 17): the inspection sums of whole months kept in the database (`gis.metrics.inspection_sums`).

A grid's score (综合得分) reads its month's inspections: the visits (distinct point-days) and the points earned and at
stake. One grid's 12-month trend read a year of its district's inspections at every call (118,000 rows, 150 of its
300 ms at 1M problems). ``inspection_month_sums`` holds those three sums per (month, district, grid code) for
whole months; ``inspection_months`` the (month, district) pairs computed and the rules they were computed with (a
digest of the standards' points, their dated versions and the district's grid codes, which the sums depend on
besides the inspections); ``inspection_month_changes`` the (month, district) pairs a write to ``inspections``
touched since — triggers, as migration 0018's on ``problems``: on PostgreSQL once per statement from the transition
tables, on SQLite once per row into a keyed table. Derived data: not in the models, not moved by ``gis move``.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _pg_months(rows: str) -> str:
    return (f"INSERT INTO inspection_month_changes (k, district_code) SELECT DISTINCT to_char(r.inspected_on, "
            f"'YYYY-MM'), COALESCE(r.district_code, '') FROM {rows} r;")


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION inspections_note_months() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM inspection_months;
    DELETE FROM inspection_month_sums;
    DELETE FROM inspection_month_changes;
  ELSIF TG_OP = 'INSERT' THEN
    {_pg_months('new_rows')}
  ELSIF TG_OP = 'DELETE' THEN
    {_pg_months('old_rows')}
  ELSE
    {_pg_months('(SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows)')}
  END IF;
  RETURN NULL;
END $$"""

PG_TRIGGERS = {
    "inspections_months_ins": "AFTER INSERT ON inspections REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "inspections_months_upd": "AFTER UPDATE ON inspections REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                              "FOR EACH STATEMENT",
    "inspections_months_del": "AFTER DELETE ON inspections REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "inspections_months_trunc": "AFTER TRUNCATE ON inspections FOR EACH STATEMENT",
}


def _sqlite_months(row: str) -> str:
    return (f"INSERT OR IGNORE INTO inspection_month_changes (k, district_code) VALUES "
            f"(substr({row}.inspected_on, 1, 7), COALESCE({row}.district_code, ''));")


SQLITE_TRIGGERS = {
    "inspections_months_ins": ("AFTER INSERT", [_sqlite_months("NEW")]),
    "inspections_months_upd": ("AFTER UPDATE", [_sqlite_months("OLD"), _sqlite_months("NEW")]),
    "inspections_months_del": ("AFTER DELETE", [_sqlite_months("OLD")]),
}


def create_triggers() -> None:
    """The triggers that note the months each write to inspections touches (both dialects)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for name, when in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION inspections_note_months()")
        return
    for name, (when, body) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} ON inspections BEGIN {' '.join(body)} END")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "inspection_month_sums",
        sa.Column("k", sa.String(7), nullable=False), sa.Column("district_code", sa.String(12), nullable=False),
        sa.Column("code", sa.String(32), nullable=False), sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("ok_points", sa.Float(), nullable=False), sa.Column("all_points", sa.Float(), nullable=False),
    )
    op.create_index("ix_inspection_month_sums_district", "inspection_month_sums", ["district_code", "k"])
    op.create_index("ix_inspection_month_sums_k", "inspection_month_sums", ["k"])
    op.create_table("inspection_months", sa.Column("k", sa.String(7), primary_key=True),
                    sa.Column("district_code", sa.String(12), primary_key=True),
                    sa.Column("rules", sa.String(64), nullable=False),
                    sa.Column("computed_at", sa.DateTime(), nullable=False))
    key = [sa.Column("k", sa.String(7), nullable=False), sa.Column("district_code", sa.String(12), nullable=False)]
    if pg:  # many rows per month, inserted without waiting for another writer's row
        op.create_table("inspection_month_changes", *key)
        op.create_index("ix_inspection_month_changes_k", "inspection_month_changes", ["k", "district_code"])
    else:
        op.create_table("inspection_month_changes", *key, sa.PrimaryKeyConstraint("k", "district_code"))
    create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON inspections")
        op.execute("DROP FUNCTION IF EXISTS inspections_note_months()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("inspection_month_changes", "inspection_months", "inspection_month_sums"):
        op.drop_table(table)
