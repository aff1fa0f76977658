"""本月截至今日汇总 (issue 17): the month in progress read from its figures at the start of the day plus the
rows of the day (`gis.metrics.day_sums`).

``problem_day_sums`` holds a period's figures evaluated at the start of a day D, per (grid, unit, district,
category, source); ``problem_days`` the (month, district) pairs computed and for which period (its end m1 and D);
``problem_day_changes`` notes, per (month, district), the earliest moment a write to ``problems`` may have
changed a row's figures at (``changed_from``): a stored D is served only while no note reaches back to D.

What a write changes, per row (one definition, here; docs in `gis.metrics.day_sums`):
* a date column the figures read (``DATES``): from the earlier of its old and new value;
* 已结案 or not: from the closing moment of the side that is closed, ``COALESCE(verified_at, reported_at)``;
* a column the figures read without a date (grid, unit, district, category, source, deduction, rework count,
  satisfaction, 延期 or not, 立案 or not — ``NOT_REGISTERED`` statuses): from the row's earliest date;
* an insert or a delete: from the row's earliest date.
A write that only sets today's dates (a workflow step, a report of today) notes a moment after D: the stored
figures stay, and the day's rows are read live anyway.

On PostgreSQL once per statement from the transition tables (one row per month and district), on SQLite
once per row into a keyed table (the earliest moment kept). A later migration that rebuilds ``problems`` on
SQLite must call `create_triggers` again, as for 0018's. ``rectified_at`` gets the indexes the other dates have
(the day's rows are read by each date's range).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

#: Every date of a problem its figures read (gis.metrics.rows.ROW_COLUMNS).
DATES = ("reported_at", "deadline", "verified_at", "rectified_at", "registered_at", "deferred_at", "followed_up_at")
#: Columns read without a date: a change moves the row's figures from its first date on.
TIMELESS = ("grid_id", "unit_id", "district_code", "category", "source", "deduction", "rework_count", "satisfaction")
CLOSED = "已结案"  # gis.db.models.STATUS_CLOSED
NOT_REGISTERED = ("待立案", "不予立案")  # gis.problems.states.NOT_REGISTERED
SUMS = ("ded_raw", "reported", "registered", "open", "due", "closed", "on_time", "overdue", "rework", "extended",
        "handled", "hours", "hours_n", "deferred", "followed", "satisfied")
FLOATS = {"ded_raw", "hours"}
INDEXES = {"ix_problems_rectified": ["rectified_at"], "ix_problems_district_rectified": ["district_code", "rectified_at"]}
_NOT_REG = ", ".join(f"'{s}'" for s in NOT_REGISTERED)

# ---------------------------------------------------------------- PostgreSQL: per statement


def _pg_earliest(r: str) -> str:
    return f"LEAST({', '.join(f'{r}.{c}' for c in DATES)})"


def _closed_at(r: str) -> str:
    """The closing moment of `r` when it is closed (gis.problems.states.closed_at_sql), else NULL (both dialects)."""
    return f"CASE WHEN {r}.status = '{CLOSED}' THEN COALESCE({r}.verified_at, {r}.reported_at) END"


def _pg_changed_from(o: str, n: str) -> str:
    """The earliest moment the update of row `o` into `n` can change its figures at; NULL when it can't."""
    timeless = " OR ".join(f"{o}.{c} IS DISTINCT FROM {n}.{c}" for c in TIMELESS)
    timeless += (f" OR ({o}.original_deadline IS NULL) <> ({n}.original_deadline IS NULL)"
                 f" OR ({o}.status IN ({_NOT_REG})) IS DISTINCT FROM ({n}.status IN ({_NOT_REG}))")
    parts = [f"CASE WHEN {timeless} THEN LEAST({_pg_earliest(o)}, {_pg_earliest(n)}) END",
             f"CASE WHEN ({o}.status = '{CLOSED}') IS DISTINCT FROM ({n}.status = '{CLOSED}') THEN "
             f"LEAST({_closed_at(o)}, {_closed_at(n)}) END"]
    parts += [f"CASE WHEN {o}.{c} IS DISTINCT FROM {n}.{c} THEN LEAST({o}.{c}, {n}.{c}) END" for c in DATES]
    return f"LEAST({', '.join(parts)})"


def _pg_note(rows: str) -> str:
    """Insert the notes of `rows` (columns: district_code, cf and DATES) grouped by month and district."""
    values = ", ".join(f"(r.{c})" for c in DATES)
    return (f"INSERT INTO problem_day_changes (k, district_code, changed_from) SELECT to_char(v.x, 'YYYY-MM'), "
            f"COALESCE(r.district_code, ''), MIN(r.cf) FROM ({rows}) r CROSS JOIN LATERAL (VALUES {values}) v(x) "
            f"WHERE v.x IS NOT NULL AND r.cf IS NOT NULL GROUP BY 1, 2;")


def _pg_rows(table: str) -> str:
    return f"SELECT t.district_code, {_pg_earliest('t')} AS cf, {', '.join('t.' + c for c in DATES)} FROM {table} t"


def _pg_updated(side: str) -> str:
    return (f"SELECT {side}.district_code, {_pg_changed_from('o', 'n')} AS cf, {', '.join(f'{side}.{c}' for c in DATES)} "
            f"FROM old_rows o JOIN new_rows n ON n.id = o.id")


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION problems_note_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM problem_days;
    DELETE FROM problem_day_sums;
    DELETE FROM problem_day_changes;
  ELSIF TG_OP = 'INSERT' THEN
    {_pg_note(_pg_rows('new_rows'))}
  ELSIF TG_OP = 'DELETE' THEN
    {_pg_note(_pg_rows('old_rows'))}
  ELSE
    {_pg_note(_pg_updated('o') + ' UNION ALL ' + _pg_updated('n'))}
  END IF;
  RETURN NULL;
END $$"""

PG_TRIGGERS = {
    "problems_days_ins": "AFTER INSERT ON problems REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "problems_days_upd": "AFTER UPDATE ON problems REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                         "FOR EACH STATEMENT",
    "problems_days_del": "AFTER DELETE ON problems REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "problems_days_trunc": "AFTER TRUNCATE ON problems FOR EACH STATEMENT",
}

# ---------------------------------------------------------------- SQLite: per row
# Dates are ISO text there; min() of several values is NULL when one is: missing dates sort last instead.
_NONE = "'9999'"


def _lite_least(values: list[str]) -> str:
    return f"NULLIF(min({', '.join(f'COALESCE({v}, {_NONE})' for v in values)}), {_NONE})"


def _lite_changed_from() -> str:
    timeless = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TIMELESS)
    timeless += (" OR (OLD.original_deadline IS NULL) <> (NEW.original_deadline IS NULL)"
                 f" OR (OLD.status IN ({_NOT_REG})) IS NOT (NEW.status IN ({_NOT_REG}))")
    earliest = _lite_least([f"{r}.{c}" for r in ("OLD", "NEW") for c in DATES])
    parts = [f"CASE WHEN {timeless} THEN {earliest} END",
             f"CASE WHEN (OLD.status = '{CLOSED}') IS NOT (NEW.status = '{CLOSED}') THEN "
             f"{_lite_least([_closed_at('OLD'), _closed_at('NEW')])} END"]
    parts += [f"CASE WHEN OLD.{c} IS NOT NEW.{c} THEN {_lite_least([f'OLD.{c}', f'NEW.{c}'])} END" for c in DATES]
    return _lite_least(parts)


def _lite_note(rows: list[str], cf: str) -> str:
    dates = " UNION ALL ".join(f"SELECT {r}.{c} AS x, COALESCE({r}.district_code, '') AS d" for r in rows for c in DATES)
    return (f"INSERT INTO problem_day_changes (k, district_code, changed_from) SELECT DISTINCT substr(x, 1, 7), d, "
            f"{cf} FROM ({dates}) WHERE x IS NOT NULL AND {cf} IS NOT NULL "
            f"ON CONFLICT (k, district_code) DO UPDATE SET changed_from = min(changed_from, excluded.changed_from);")


SQLITE_TRIGGERS = {
    "problems_days_ins": ("AFTER INSERT", [_lite_note(["NEW"], _lite_least([f"NEW.{c}" for c in DATES]))]),
    "problems_days_upd": ("AFTER UPDATE", [_lite_note(["OLD", "NEW"], _lite_changed_from())]),
    "problems_days_del": ("AFTER DELETE", [_lite_note(["OLD"], _lite_least([f"OLD.{c}" for c in DATES]))]),
}


def create_triggers() -> None:
    """The triggers that note how far back each write to problems reaches (both dialects)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for name, when in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION problems_note_days()")
        return
    for name, (when, body) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} ON problems BEGIN {' '.join(body)} END")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for name, cols in INDEXES.items():
        op.create_index(name, "problems", cols)
    op.create_table(
        "problem_day_sums",
        sa.Column("k", sa.String(7), nullable=False), sa.Column("day", sa.DateTime(), nullable=False),
        sa.Column("grid_id", sa.Integer()), sa.Column("unit_id", sa.Integer()),
        sa.Column("district_code", sa.String(12)), sa.Column("category", sa.String(20)),
        sa.Column("source", sa.String(8)),
        *[sa.Column(c, sa.Float() if c in FLOATS else sa.BigInteger(), nullable=False) for c in SUMS],
    )
    op.create_index("ix_problem_day_sums_district", "problem_day_sums", ["district_code", "k", "day"])
    op.create_table("problem_days", sa.Column("k", sa.String(7), primary_key=True),
                    sa.Column("district_code", sa.String(12), primary_key=True),
                    sa.Column("m1", sa.DateTime(), nullable=False), sa.Column("day", sa.DateTime(), nullable=False),
                    sa.Column("computed_at", sa.DateTime(), nullable=False))
    key = [sa.Column("k", sa.String(7), nullable=False), sa.Column("district_code", sa.String(12), nullable=False),
           sa.Column("changed_from", sa.DateTime(), nullable=False)]
    if pg:  # many writers at once: each inserts its own notes, none waits for another's row
        op.create_table("problem_day_changes", *key)
        op.create_index("ix_problem_day_changes_k", "problem_day_changes", ["k", "district_code", "changed_from"])
    else:
        op.create_table("problem_day_changes", *key, sa.PrimaryKeyConstraint("k", "district_code"))
    create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON problems")
        op.execute("DROP FUNCTION IF EXISTS problems_note_days()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("problem_day_changes", "problem_days", "problem_day_sums"):
        op.drop_table(table)
    for name in INDEXES:
        op.drop_index(name, table_name="problems")
