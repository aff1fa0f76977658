"""District everywhere (issue 17, docs/scale.md §2): a ``district_code`` on the rest of the large tables —
problem events, card actions, exposures, 约谈 / 问责 and the audit log — so that every large table can be
distributed on it (Citus) and a district's rows of each are read by it. Existing rows take their parent's,
as the writers do (`gis.db.models`): an event or an exposure its problem's, a card action its card's, a
约谈 / 问责 its recorder's district (a city-level recorder's: its first card's, first problem's, its unit's),
an audit entry its target's when that is one district's data, else its actor's (none: city-level).

The backfill is set-based: UPDATE … FROM on PostgreSQL (a hash join over millions of events), the same
match as a correlated subquery on SQLite.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# table → its index led by the district (gis.db.models): with the time where a district's rows are read by period
# (its audit log, 曝光台, 约谈 / 问责; its events, co-located with its problems)
INDEXES = {
    "problem_events": ("ix_problem_events_district_at", ["district_code", "at"]),
    "card_actions": ("ix_card_actions_district_code", ["district_code"]),
    "exposures": ("ix_exposures_district_at", ["district_code", "decided_at"]),
    "interviews": ("ix_interviews_district_held", ["district_code", "held_on"]),
    "audit_log": ("ix_audit_log_district_at", ["district_code", "at"]),
}

# audit entries whose target is one district's data: target_kind → (parent table, its key column)
AUDIT_TARGETS = {"problem": ("problems", "code"), "card": ("cards", "code"), "point": ("points", "code"),
                 "user": ("users", "username")}


def upgrade() -> None:
    for table, (name, columns) in INDEXES.items():
        op.add_column(table, sa.Column("district_code", sa.String(length=12), nullable=True))
        op.create_index(name, table, columns)
    _backfill()


def _fill(table: str, parent: str, match: str, where: str = "") -> None:
    """Set ``district_code`` of `table`'s rows (alias x) still without one to their `parent`'s (alias y)
    row matching `match` (a unique key): UPDATE … FROM on PostgreSQL, a correlated subquery on SQLite."""
    extra = f" AND {where}" if where else ""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"UPDATE {table} AS x SET district_code = y.district_code FROM {parent} AS y "
                   f"WHERE {match} AND x.district_code IS NULL AND y.district_code IS NOT NULL{extra}")
    else:
        op.execute(f"UPDATE {table} AS x SET district_code = (SELECT y.district_code FROM {parent} AS y "
                   f"WHERE {match}) WHERE x.district_code IS NULL{extra}")


def _first(column: str) -> str:
    """The first code of a comma-separated list column of x (`gis.accountability.interviews` joins with ',')."""
    if op.get_bind().dialect.name == "postgresql":
        return f"split_part(x.{column}, ',', 1)"
    return f"substr(x.{column}, 1, instr(x.{column} || ',', ',') - 1)"


def _backfill() -> None:
    from gis.config import setting

    _fill("problem_events", "problems", "y.id = x.problem_id")
    _fill("exposures", "problems", "y.id = x.problem_id")
    _fill("card_actions", "cards", "y.id = x.card_id")
    # 约谈 / 问责: the recorder's district; else the first card's, the first problem's; else the unit's (the
    # district of the first grid it answers for, gis.geo.districts.district_of_target); else the first district
    _fill("interviews", "users", "y.username = x.recorded_by")
    _fill("interviews", "cards", f"y.code = {_first('card_codes')}", "x.card_codes IS NOT NULL")
    _fill("interviews", "problems", f"y.code = {_first('problem_codes')}", "x.problem_codes IS NOT NULL")
    op.execute("UPDATE interviews AS x SET district_code = (SELECT g.district_code FROM assignments a "
               "JOIN grids g ON g.code = a.target_code WHERE a.target_kind = 'grid' AND a.unit_id = x.unit_id "
               "ORDER BY g.layer_id DESC, a.id LIMIT 1) WHERE x.district_code IS NULL")
    op.get_bind().execute(sa.text("UPDATE interviews SET district_code = COALESCE((SELECT code FROM districts "
                                  "ORDER BY id LIMIT 1), :home) WHERE district_code IS NULL"),
                          {"home": setting("GRIDMAP_DISTRICT_CODE")})
    # audit entries: the target's district where it is one district's data, else the actor's
    for kind, (parent, key) in AUDIT_TARGETS.items():
        _fill("audit_log", parent, f"y.{key} = x.target_code", f"x.target_kind = '{kind}'")
    op.execute("UPDATE audit_log AS x SET district_code = (SELECT g.district_code FROM grids g "
               "WHERE g.code = x.target_code ORDER BY g.layer_id DESC LIMIT 1) "
               "WHERE x.district_code IS NULL AND x.target_kind = 'grid'")
    op.execute("UPDATE audit_log SET district_code = target_code WHERE district_code IS NULL "
               "AND target_kind = 'district' AND target_code IN (SELECT code FROM districts)")
    op.execute("UPDATE audit_log AS x SET district_code = (SELECT i.district_code FROM interviews i "
               "JOIN units u ON u.id = i.unit_id WHERE u.code = x.target_code AND i.recorded_by = x.actor "
               "AND i.recorded_at = x.at ORDER BY i.id LIMIT 1) "
               "WHERE x.district_code IS NULL AND x.action LIKE 'interview.%'")
    _fill("audit_log", "users", "y.username = x.actor")


def downgrade() -> None:
    for table, (name, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
        op.drop_column(table, "district_code")
