"""Alembic environment: runs migrations on the engine from gis.db.engine (SpatiaLite or PostGIS)."""

from alembic import context
from geoalchemy2 import alembic_helpers

from gis.db.engine import get_engine
from gis.db.models import Base

config = context.config


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    # Only our own tables: SpatiaLite and PostGIS keep metadata tables of their own.
    if type_ == "table" and reflected and name not in Base.metadata.tables:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with get_engine(config.get_main_option("sqlalchemy.url") or None).connect() as conn:
        _run(conn)
        conn.commit()
