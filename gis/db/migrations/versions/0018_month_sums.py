"""月度汇总 (issue 17): problem figures of whole months kept in the database (`gis.metrics.month_sums`).

``problem_month_sums`` holds each whole month's figures per (grid, unit, district, category, source);
``problem_months`` the (month, district) pairs computed; ``problem_month_changes`` the (month, district)
pairs a write to ``problems`` touched since (district '' for a problem in none). Each district is summed
on its own, so a district's page reads and writes its own rows only (docs/scale.md). Triggers on ``problems`` fill the last one — on PostgreSQL once per statement from its
transition tables (a COPY of 100,000 rows adds a few rows, and writers never wait for each other on it),
on SQLite once per row into a keyed table (one writer at a time there). These tables are derived data:
not in the models, not moved by ``gis move`` (the target computes its own), emptied with the problems.

A later migration that rebuilds ``problems`` on SQLite (``batch_alter_table``) drops these triggers and must
create them again (`create_triggers`); tests/test_month_sums.py fails if they are missing.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

DATES = ("reported_at", "deadline", "verified_at", "registered_at", "deferred_at", "followed_up_at")
SUMS = ("ded_raw", "reported", "registered", "open", "due", "closed", "on_time", "overdue", "rework", "extended",
        "handled", "hours", "hours_n", "deferred", "followed", "satisfied")
FLOATS = {"ded_raw", "hours"}


def _pg_months(rows: str) -> str:
    values = ", ".join(f"(r.{c})" for c in DATES)
    return (f"INSERT INTO problem_month_changes (k, district_code) SELECT DISTINCT to_char(v.x, 'YYYY-MM'), "
            f"COALESCE(r.district_code, '') FROM {rows} r CROSS JOIN LATERAL (VALUES {values}) v(x) WHERE v.x IS NOT NULL;")


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION problems_note_months() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM problem_months;
    DELETE FROM problem_month_sums;
    DELETE FROM problem_month_changes;
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
    "problems_months_ins": "AFTER INSERT ON problems REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "problems_months_upd": "AFTER UPDATE ON problems REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                           "FOR EACH STATEMENT",
    "problems_months_del": "AFTER DELETE ON problems REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "problems_months_trunc": "AFTER TRUNCATE ON problems FOR EACH STATEMENT",
}


def _sqlite_months(row: str) -> str:
    values = " UNION ALL ".join(f"SELECT {row}.{c} AS x" for c in DATES)
    return (f"INSERT OR IGNORE INTO problem_month_changes (k, district_code) SELECT substr(x, 1, 7), "
            f"COALESCE({row}.district_code, '') FROM ({values}) WHERE x IS NOT NULL;")


SQLITE_TRIGGERS = {
    "problems_months_ins": ("AFTER INSERT", [_sqlite_months("NEW")]),
    "problems_months_upd": ("AFTER UPDATE", [_sqlite_months("OLD"), _sqlite_months("NEW")]),
    "problems_months_del": ("AFTER DELETE", [_sqlite_months("OLD")]),
}


def create_triggers() -> None:
    """The triggers that note the months each write to problems touches (both dialects)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for name, when in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION problems_note_months()")
        return
    for name, (when, body) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} ON problems BEGIN {' '.join(body)} END")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "problem_month_sums",
        sa.Column("k", sa.String(7), nullable=False),
        sa.Column("grid_id", sa.Integer()), sa.Column("unit_id", sa.Integer()),
        sa.Column("district_code", sa.String(12)), sa.Column("category", sa.String(20)),
        sa.Column("source", sa.String(8)),
        *[sa.Column(c, sa.Float() if c in FLOATS else sa.BigInteger(), nullable=False) for c in SUMS],
    )
    op.create_index("ix_problem_month_sums_k", "problem_month_sums", ["k"])
    op.create_index("ix_problem_month_sums_district", "problem_month_sums", ["district_code", "k"])
    op.create_table("problem_months", sa.Column("k", sa.String(7), primary_key=True),
                    sa.Column("district_code", sa.String(12), primary_key=True),
                    sa.Column("computed_at", sa.DateTime(), nullable=False))
    key = [sa.Column("k", sa.String(7), nullable=False), sa.Column("district_code", sa.String(12), nullable=False)]
    if pg:  # many rows per month, inserted without waiting for another writer's row
        op.create_table("problem_month_changes", *key)
        op.create_index("ix_problem_month_changes_k", "problem_month_changes", ["k", "district_code"])
    else:
        op.create_table("problem_month_changes", *key, sa.PrimaryKeyConstraint("k", "district_code"))
    create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON problems")
        op.execute("DROP FUNCTION IF EXISTS problems_note_months()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("problem_month_changes", "problem_months", "problem_month_sums"):
        op.drop_table(table)
