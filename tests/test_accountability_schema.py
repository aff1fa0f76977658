"""Migration 0012 (issue 14) creates exactly the tables of the models, and goes down to 0009 cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Base
from tests.conftest import new_database_url

TABLES = {"cards", "card_actions", "exposures", "interviews"}


def test_migration_0012_matches_the_models(backend_name, tmp_path_factory):
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "acc_mig"))
    migrate.upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)

    def ours(d) -> bool:
        d = d[0] if isinstance(d, list) else d
        for part in d[1:]:
            name = getattr(part, "name", None) or getattr(getattr(part, "table", None), "name", None)
            if name in TABLES or getattr(getattr(part, "table", None), "name", None) in TABLES:
                return True
            if isinstance(part, str) and part in TABLES:
                return True
        return False

    assert [d for d in diffs if ours(d)] == []
    migrate.downgrade(engine, "0009")
    assert not TABLES & set(inspect(engine).get_table_names())
