"""Lean indexes for two reads that walked wide ones (issue 17, 10M problems).

* 现超期 at a past moment t (`gis.metrics.sql.overdue_at`): a problem 超期 at t and closed after t was closed after
  its deadline (deadline < t < verified_at). So of the problems closed since t — at 10M problems and last month's
  moment about a million, each read from the table to test its deadline — only the closed-late ones are wanted,
  and in an index on (verified_at, deadline) both bounds are tested in the index. Partial indexes on both
  dialects, city-wide and led by the district, whose predicate is written as the query writes it (SQLite and
  PostgreSQL use a partial index only when the query's WHERE holds its predicate).
* How many problems a grid has (`gis.problems.ledger.ledger_counts`, the grid page's 共 N 件): counted from the
  covering index of the monthly figures, eleven columns wide; an index of ``grid_id`` alone (deduplicated on
  PostgreSQL) holds the same count in a twentieth of the pages.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

#: The closed-late predicate (gis.db.models.CLOSED_LATE).
CLOSED_LATE = "verified_at > deadline"
PARTIAL = {"ix_problems_closed_late": ["verified_at", "deadline"],
           "ix_problems_district_closed_late": ["district_code", "verified_at", "deadline"]}
PLAIN = {"ix_problems_grid": ["grid_id"]}


def upgrade() -> None:
    where = sa.text(CLOSED_LATE)
    for name, cols in PARTIAL.items():
        op.create_index(name, "problems", cols, postgresql_where=where, sqlite_where=where)
    for name, cols in PLAIN.items():
        op.create_index(name, "problems", cols)


def downgrade() -> None:
    for name in [*PARTIAL, *PLAIN]:
        op.drop_index(name, table_name="problems")
