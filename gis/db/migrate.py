"""Schema migrations (Alembic) run from code: `upgrade(engine)` / `downgrade(engine, rev)`.

The CLI (`python -m gis db upgrade`) and the demo builder call these; there is no alembic.ini
to keep in sync.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from gis.db.engine import backend

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def _run(engine: Engine, fn, *args) -> None:
    with engine.begin() as conn:
        if backend(engine) == "postgis":
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        cfg = _config(engine)
        cfg.attributes["connection"] = conn
        fn(cfg, *args)


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to `revision` (default: every newest head), in one transaction."""
    _run(engine, command.upgrade, revision)
    if backend(engine) == "spatialite":
        _drop_timestamp_triggers(engine)


def _drop_timestamp_triggers(engine: Engine) -> None:
    """Drop SpatiaLite's tmi/tmu/tmd triggers: per-row updates of geometry_columns_time.

    They only record when a table last changed, and cost a third of a bulk insert's time.
    The geometry type and SRID checks (ggi/ggu triggers) stay.
    """
    with engine.begin() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                  "(name LIKE 'tmi\\_%' ESCAPE '\\' OR name LIKE 'tmu\\_%' ESCAPE '\\' "
                                  "OR name LIKE 'tmd\\_%' ESCAPE '\\')")).scalars().all()
        for name in names:
            conn.execute(text(f'DROP TRIGGER IF EXISTS "{name}"'))


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to `revision` (default: nothing left)."""
    _run(engine, command.downgrade, revision)


def current(engine: Engine) -> str | None:
    """The revision(s) the database is at ("a,b" when branches are applied), or None when empty."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        revs = sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return ",".join(revs) or None


def heads() -> str:
    """The newest revision(s) in the code, in the same form as `current`."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ",".join(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (developers only)."""
    cfg = _config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
