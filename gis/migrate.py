"""Schema migrations (Alembic) run from code: `upgrade(engine)` / `downgrade(engine, rev)`.

The CLI (`python -m gis db upgrade`) and the demo builder call these; there is no alembic.ini
to keep in sync.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from gis.db import backend

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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (default: the newest), in one transaction."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to `revision` (default: nothing left)."""
    _run(engine, command.downgrade, revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (developers only)."""
    cfg = _config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
