"""Move a SpatiaLite database to an empty PostGIS database (`python -m gis move --to URL`).

The source is read in one read transaction (one snapshot, even if the app keeps writing) and
streamed table by table, `CHUNK_ROWS` rows at a time, into PostgreSQL with COPY (text format:
SQLite's stored text of dates and times is what COPY parses; geometries become hex EWKB with SRID
4326, booleans t/f). Tables go parents first (`Base.metadata.sorted_tables`); ids are copied as
they are and every id sequence is set to the largest id afterwards.

The target's schema comes from the project's own migrations (`gis.db.migrate.upgrade`, committed
on its own: an empty schema); the copy is then one transaction on the target. Inside it the plain
indexes and the foreign keys are dropped before the COPY and created again from their own
definitions (`pg_get_indexdef`, `pg_get_constraintdef`) after it, as pg_restore does: building an
index once is faster than keeping it up to date row by row. Any failure rolls all of it back
(the empty schema stays) and names the table. Before the commit every table's row count on the
target is compared with the source's in the same snapshot; a difference rolls back too. ANALYZE
runs after the commit.

Measured on the 1,000,000-problem demo (2 cores; README "SpatiaLite 与 PostGIS"): PostgreSQL alone
took 31 s to COPY the problems with their 12 indexes and foreign key in place, 9 s without them (+ 6 s
to build every index and key of every table afterwards). On the Python side the rows are formatted
column by column and the cyclic garbage collector is paused (it cost a quarter of the time); psycopg's
queued writer sends one chunk while the next is formatted. The whole move: 21 s, 523 MB peak.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from geoalchemy2 import Geometry
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Boolean, Connection, Engine, Float, Integer, Table, inspect, make_url, text
from sqlalchemy.engine import URL

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import SRID, Base

CHUNK_ROWS = 50_000  # rows read from SQLite and sent to COPY at a time (bounded memory)


class MoveRefused(Exception):
    """The move cannot start (source, target or schema revision); nothing was written. Message in Chinese."""


class MoveFailed(Exception):
    """The copy failed or the counts differ; the target was rolled back. Message in Chinese."""

    def __init__(self, message: str, report: MoveReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class TableCount:
    table: str
    source: int
    target: int | None = None
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        return self.source == self.target


@dataclass
class MoveReport:
    source: str  # URLs as shown to people: no password
    target: str
    revision: str
    tables: list[TableCount] = field(default_factory=list)
    seconds: float = 0.0
    analyze_seconds: float = 0.0
    analyze_error: str | None = None  # ANALYZE failed after the commit (the data is there)

    @property
    def ok(self) -> bool:
        return all(t.equal for t in self.tables)


def shown(url: str | URL) -> str:
    """A database URL as printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show what was given
        return str(url)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [s.strip() for s in str(orig).strip().splitlines() if s.strip()]
    return lines[0] if lines else type(orig).__name__


# --- checks before anything is written ------------------------------------------------------

def _source_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception:
        raise MoveRefused(f"源数据库地址“{url}”无法识别：应为 sqlite:///路径/文件.sqlite（SpatiaLite）。") from None
    if parsed.get_backend_name() != "sqlite":
        raise MoveRefused(f"源数据库 {shown(url)} 不是 SpatiaLite：gis move 只把 SpatiaLite 数据库迁移到 PostGIS。")
    path = parsed.database or ""
    if not path or path == ":memory:" or path.startswith("file:"):
        raise MoveRefused(f"源数据库 {shown(url)} 不是数据库文件：请给出 sqlite:///路径/文件.sqlite。")
    if not Path(path).is_file():  # connecting would create an empty file
        raise MoveRefused(f"源数据库文件不存在：{path}")
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar()
    except Exception as exc:
        raise MoveRefused(f"无法读取源数据库 {path}（不是 SQLite / SpatiaLite 数据库？）：{_first_line(exc)}") from None
    return engine


def _source_revision(engine: Engine, url: str) -> str:
    try:
        current = migrate.current(engine)
    except Exception as exc:
        raise MoveRefused(f"无法读取源数据库 {shown(url)} 的结构版本：{_first_line(exc)}") from None
    head = migrate.heads()
    if current is None:
        raise MoveRefused(f"源数据库 {shown(url)} 没有本系统的表结构（无 alembic_version），不是 gridmap 数据库。")
    if current != head:
        raise MoveRefused(f"源数据库 {shown(url)} 的结构版本为 {current}，不是最新版本 {head}："
                          f"请先运行 python -m gis --database {shown(url)} db upgrade，再迁移。")
    return current


def _target_engine(url: str) -> tuple[Engine, str]:
    try:
        parsed = make_url(url)
    except Exception:
        raise MoveRefused(f"目标数据库地址“{url}”无法识别：应为 postgresql+psycopg://用户@主机:端口/库名。") from None
    if parsed.get_backend_name() != "postgresql":
        raise MoveRefused(f"目标数据库 {shown(url)} 不是 PostgreSQL：应为 postgresql+psycopg://用户@主机:端口/库名。")
    if not parsed.database:
        raise MoveRefused(f"目标数据库地址 {shown(url)} 没有库名：应为 postgresql+psycopg://用户@主机:端口/库名。")
    if parsed.drivername == "postgresql":  # the plain scheme means psycopg2 to SQLAlchemy; this project uses psycopg 3
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    try:
        engine = get_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        why = _first_line(exc)
        hint = "（请先建立空库，例如 createdb 库名）" if "does not exist" in why else ""
        raise MoveRefused(f"无法连接目标数据库 {shown(url)}：{why}{hint}") from None
    return engine, url


def _tables_with_rows(engine: Engine) -> list[str]:
    existing = set(inspect(engine).get_table_names())
    found = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in existing and conn.execute(text(f'SELECT 1 FROM "{table.name}" LIMIT 1')).first():
                found.append(table.name)
    return found


def _prepare_target(engine: Engine, url: str, revision: str) -> None:
    try:
        full = _tables_with_rows(engine)
    except Exception as exc:
        raise MoveRefused(f"无法检查目标数据库 {shown(url)}：{_first_line(exc)}") from None
    if full:
        raise MoveRefused(f"目标数据库 {shown(url)} 已有数据（{'、'.join(full)}）：只能迁移到空数据库，"
                          "未做任何更改。")
    try:
        migrate.upgrade(engine)
        current = migrate.current(engine)
    except Exception as exc:
        raise MoveRefused(f"无法在目标数据库 {shown(url)} 建立表结构：{_first_line(exc)}") from None
    if current != revision:
        raise MoveRefused(f"目标数据库 {shown(url)} 的结构版本为 {current}，与源数据库的 {revision} 不同：未复制数据。")


# --- the copy ------------------------------------------------------------------------------

NULL = "\\N"  # COPY's NULL
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SRID_HEX = SRID.to_bytes(4, "little").hex().upper()  # E6100000


def _text(values: tuple) -> list[str]:
    """Text, integers, dates and times (SQLite holds them as ISO text, which COPY parses) as COPY fields."""
    out = [NULL if v is None else v if type(v) is str else str(v) for v in values]
    joined = "\0".join(out)  # one scan for what COPY escapes: usually nothing but the NULLs' backslashes
    if joined.count("\\") == values.count(None) and not any(ch in joined for ch in "\t\n\r"):
        return out
    return [NULL if v is None else (v if type(v) is str else str(v)).translate(_ESCAPES) for v in values]


def _float(values: tuple) -> list[str]:  # repr: the shortest text of the exact double (inf, nan as PG reads them)
    return [NULL if v is None else repr(float(v)) for v in values]


def _boolean(values: tuple) -> list[str]:  # SQLite holds 0 / 1
    return [NULL if v is None else v.translate(_ESCAPES) if type(v) is str else "t" if v else "f" for v in values]


def _ewkb(wkb_hex: str) -> str:
    """Little-endian 2D WKB (hex) → hex EWKB with SRID 4326, the bytes unchanged otherwise; else via shapely."""
    if wkb_hex.startswith("01") and wkb_hex[4:10] == "000000" and "01" <= wkb_hex[2:4] <= "07":
        return wkb_hex[:8] + "20" + _SRID_HEX + wkb_hex[10:]
    geom = shapely.set_srid(shapely.from_wkb(wkb_hex), SRID)
    return shapely.to_wkb(geom, hex=True, include_srid=True, output_dimension=shapely.get_coordinate_dimension(geom))


def _geometry(values: tuple) -> list[str]:  # read as hex(AsBinary(geom))
    return [NULL if v is None else _ewkb(v) for v in values]


def _converter(column) -> Callable[[tuple], list[str]]:
    kind = column.type
    if isinstance(kind, Geometry):
        return _geometry
    if isinstance(kind, Boolean):
        return _boolean
    if isinstance(kind, Float):
        return _float
    return _text


def _select_sql(table: Table) -> str:
    cols = [f'hex(AsBinary("{c.name}"))' if isinstance(c.type, Geometry) else f'"{c.name}"' for c in table.columns]
    order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    return f'SELECT {", ".join(cols)} FROM "{table.name}"' + (f" ORDER BY {order}" if order else "")


def copy_text(table: Table, rows: list[tuple]) -> str:
    """Rows of `table` as read by `_select_sql`, as one block of PostgreSQL's COPY text format."""
    columns = [convert(values) for convert, values in zip(map(_converter, table.columns), zip(*rows))]
    return "\n".join(map("\t".join, zip(*columns))) + "\n"


def _copy_table(sconn, tconn, table: Table) -> int:
    """Stream `table` from the SQLite connection into the PostgreSQL one; the number of rows sent."""
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    src = sconn.connection.driver_connection.cursor()
    sent = 0
    try:
        src.execute(_select_sql(table))
        # psycopg's queued writer: a thread sends while this one formats the next chunk (its queue holds at
        # most 1024 blocks of 128 KB, so memory stays bounded when the server is the slower side)
        with tconn.connection.driver_connection.cursor() as cur, \
                cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN', writer=QueuedLibpqWriter(cur)) as copy:
            while rows := src.fetchmany(CHUNK_ROWS):
                copy.write(copy_text(table, rows))
                sent += len(rows)
                del rows
    finally:
        src.close()
    return sent


def _deferred_ddl(tconn, names: list[str]) -> tuple[list[str], list[str]]:
    """Drop the plain indexes and foreign keys of `names`; return (drop, create) statements run/to run."""
    fkeys = tconn.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = ANY(:names)"), {"names": names}).all()
    indexes = tconn.execute(text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = current_schema() AND t.relname = ANY(:names) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"), {"names": names}).all()
    drop = [f'ALTER TABLE {t} DROP CONSTRAINT "{name}"' for t, name, _ in fkeys]
    drop += [f"DROP INDEX {name}" for name, _ in indexes]
    create = [definition for _, definition in indexes]
    create += [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {definition}' for t, name, definition in fkeys]
    return drop, create


def _reset_sequences(tconn, tables: list[Table]) -> None:
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        col = pk[0].name
        tconn.execute(text(
            f'SELECT setval(seq, coalesce(m, 1), m IS NOT NULL) FROM '
            f'(SELECT pg_get_serial_sequence(:t, :c) AS seq, (SELECT max("{col}") FROM "{table.name}") AS m) s '
            f'WHERE seq IS NOT NULL'), {"t": table.name, "c": col})


@contextmanager
def _sequential(engine: Engine) -> Iterator[Connection]:
    """A read connection to the SQLite source that reads the file without memory-mapping it.

    The engine maps up to 2 GB of the file for fast random reads (gis.db.engine); a move reads every
    page once, and the mapped pages (and a big page cache) would count against this process's memory for
    nothing."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        mmap, cache = (raw.execute(f"PRAGMA {p}").fetchone()[0] for p in ("mmap_size", "cache_size"))
        raw.execute("PRAGMA mmap_size = 0")
        raw.execute("PRAGMA cache_size = -16384")  # 16 MB: each page is read once
        try:
            yield conn
        finally:
            conn.rollback()
            raw.execute(f"PRAGMA mmap_size = {int(mmap)}")
            raw.execute(f"PRAGMA cache_size = {int(cache)}")


def move(target_url: str, source_url: str, progress: Callable[[str], None] | None = None) -> MoveReport:
    """Copy every table of the SpatiaLite database `source_url` into the empty PostgreSQL `target_url`.

    Raises MoveRefused when the move cannot start (nothing written), MoveFailed when the copy failed
    or the counts differ (the target rolled back to an empty schema). Returns the per-table counts.
    """
    say = progress or (lambda _line: None)
    started = time.perf_counter()
    source = _source_engine(source_url)
    revision = _source_revision(source, source_url)
    target, target_url = _target_engine(target_url)
    _prepare_target(target, target_url, revision)
    report = MoveReport(shown(source_url), shown(target_url), revision)
    tables = list(Base.metadata.sorted_tables)  # parents first
    stage = "准备复制时"
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of short-lived tuples: the cyclic collector would run thousands of times for nothing
    try:
        with _sequential(source) as sconn, target.begin() as tconn:
            # one snapshot of the source: counts and rows read in the same read transaction
            for table in tables:
                n = sconn.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
                report.tables.append(TableCount(table.name, n))
            tconn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            drop, create = _deferred_ddl(tconn, [t.name for t in tables])
            for statement in drop:
                tconn.exec_driver_sql(statement)
            for table, count in zip(tables, report.tables):
                stage = f"复制表 {table.name} 时"
                t0 = time.perf_counter()
                _copy_table(sconn, tconn, table)
                count.seconds = time.perf_counter() - t0
                if count.source:
                    say(f"  {table.name}：{count.source:,} 行，{count.seconds:.1f} s")
            stage = "重建索引与外键时"
            t0 = time.perf_counter()
            for statement in create:
                tconn.exec_driver_sql(statement)
            say(f"  重建索引与外键：{len(create)} 项，{time.perf_counter() - t0:.1f} s")
            stage = "重置序列时"
            _reset_sequences(tconn, tables)
            stage = "核对行数时"
            for table, count in zip(tables, report.tables):
                count.target = tconn.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
            if not report.ok:
                raise _CountsDiffer()
    except _CountsDiffer:
        report.seconds = time.perf_counter() - started
        bad = "、".join(f"{t.table}（源 {t.source:,}，目标 {t.target:,}）" for t in report.tables if not t.equal)
        raise MoveFailed(f"行数不一致：{bad}。目标数据库已回滚（只留空表结构）。", report) from None
    except Exception as exc:
        raise MoveFailed(f"{stage}失败：{_first_line(exc)}。目标数据库已回滚（只留空表结构），"
                         "源数据库未改动。") from exc
    finally:
        if gc_was_on:
            gc.enable()
    t0 = time.perf_counter()
    try:  # the data is committed: a failure here only leaves the planner's statistics to autovacuum
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE " + ", ".join(f'"{t.name}"' for t in tables)))
    except Exception as exc:
        report.analyze_error = _first_line(exc)
    report.analyze_seconds = time.perf_counter() - t0
    report.seconds = time.perf_counter() - started
    return report


class _CountsDiffer(Exception):
    pass
