"""Migration 0022 (issue 17): the closed-late and grid indexes exist as the models say, go down cleanly, and the
reads they are for use them where the plan is fixed by the query alone (SQLite has no statistics)."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, inspect, text

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Base
from gis.metrics.sql import Sql, overdue_at
from tests.conftest import new_database_url

NEW = {"ix_problems_closed_late", "ix_problems_district_closed_late", "ix_problems_grid"}


def _indexes(engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("problems")}


def test_migration_0022_matches_the_models_and_goes_down(backend_name, tmp_path_factory):
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "lean22"))
    migrate.upgrade(engine)
    assert NEW <= _indexes(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if "ix_problems" in str(d)] == []
    migrate.downgrade(engine, "0021")
    assert not NEW & _indexes(engine)
    migrate.upgrade(engine)
    assert NEW <= _indexes(engine)


def test_overdue_at_a_past_moment_reads_the_closed_late_index(tmp_path_factory):
    engine = get_engine(new_database_url("spatialite", tmp_path_factory, "lean22plan"))
    migrate.upgrade(engine)
    for district in ("371502", None):
        q = Sql(engine)
        t = q.bind("t", datetime(2026, 10, 20), DateTime)
        sql = f"SELECT COUNT(*) FROM ({overdue_at(q, t, 'p.id', q.problem_filters('p', district=district))}) o"
        with engine.connect() as conn:
            plan = [r[-1] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql).bindparams(*q.binds), q.params)]
        late = "ix_problems_district_closed_late" if district else "ix_problems_closed_late"
        assert any(f"USING INDEX {late} " in step for step in plan), plan
