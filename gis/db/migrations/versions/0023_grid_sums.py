"""The stored sums rolled up by grid (issue 17): a grid's, a district's or the city's figures read from a few rows.

``problem_month_sums`` and ``problem_day_sums`` hold their sums per (grid, unit, district, category, source), which
a page filtering by category or unit needs. The score of every grid, its 12-month trend and the city's trend need
neither, yet summed the fine rows again at every read: at 1M problems 150,000 rows for eleven months of one
district (200 of the 500 ms of one grid's trend), several times more at 10M. ``problem_month_grid_sums`` and
``problem_day_grid_sums`` hold the same sums per (grid, district, source — 问题扣分 is weighed by its source when
read), written in the same transaction as the fine rows by `gis.metrics.month_sums` and `gis.metrics.day_sums`
(a month or a day is served only once both are written, so no trigger is needed), and read when no category or
unit is asked for. Derived data, like the tables they roll up: filled here from what is stored.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

SUMS = ("ded_raw", "reported", "registered", "open", "due", "closed", "on_time", "overdue", "rework", "extended",
        "handled", "hours", "hours_n", "deferred", "followed", "satisfied")
FLOATS = {"ded_raw", "hours"}
#: rolled-up table: (the table it rolls up, its key columns besides grid and district)
TABLES = {"problem_month_grid_sums": ("problem_month_sums", ("k",)),
          "problem_day_grid_sums": ("problem_day_sums", ("k", "day"))}


def upgrade() -> None:
    for name, (fine, key) in TABLES.items():
        cols = [sa.Column("k", sa.String(7), nullable=False)]
        if "day" in key:
            cols.append(sa.Column("day", sa.DateTime(), nullable=False))
        op.create_table(name, *cols, sa.Column("grid_id", sa.Integer()), sa.Column("district_code", sa.String(12)),
                        sa.Column("source", sa.String(8)),
                        *[sa.Column(c, sa.Float() if c in FLOATS else sa.BigInteger(), nullable=False) for c in SUMS])
        op.create_index(f"ix_{name}_district", name, ["district_code", *key])
        op.create_index(f"ix_{name}_k", name, list(key))
        group = ", ".join([*key, "grid_id", "district_code", "source"])
        op.execute(f"INSERT INTO {name} ({group}, {', '.join(SUMS)}) SELECT {group}, "
                   f"{', '.join(f'SUM({c})' for c in SUMS)} FROM {fine} GROUP BY {group}")


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
