"""Database engines for both backends: SpatiaLite (embedded default) and PostGIS (production).

One code path serves both: callers get a SQLAlchemy engine and use GeoAlchemy2 models.
SpatiaLite needs two precautions measured on this stack (see README, "SpatiaLite"):
the geospatial wheels must be imported before mod_spatialite is loaded (or the system
PROJ/GDAL shadow them and the process crashes at exit), and pyenv's Python lacks
``enable_load_extension``, so pysqlite3 stands in for the stdlib driver when needed.

Concurrent writers on SpatiaLite. SQLite lets one writer at a time into a file. A transaction
that starts as a reader (``BEGIN DEFERRED``) and then writes fails at once with "database is
locked" when another writer got in first — waiting cannot help it, its snapshot is stale. So
the convention of this code base is made a rule of the engine:

- ``engine.begin()`` opens a **write transaction**: on SQLite it starts with ``BEGIN IMMEDIATE``,
  taking the write lock up front and waiting for it (busy timeout, `BUSY_TIMEOUT_S`); once it
  holds the lock nothing in it can fail for lack of it. On PostgreSQL it is a plain transaction
  (writers that count use atomic ``SET x = x + 1`` or ``SELECT … FOR UPDATE``).
- ``engine.connect()`` reads: ``BEGIN DEFERRED``, which in WAL mode never waits for writers.

A writer that still finds no lock after the busy timeout (e.g. behind a very large import)
gets `DatabaseBusy`, whose message is for users, never a traceback with SQL in it.

Reads from a replica (issue 17). With ``DATABASE_READ_URL`` set (a PostgreSQL streaming standby of
``DATABASE_URL``'s server), `with_read_engine(fn)` runs a read-only `fn(engine)` there: the wall's figures
and the Open311 API's GET routes. Writes always go to `get_engine()` (the primary). The replica is used
only while it answers: it is probed once (connect timeout `REPLICA_CONNECT_TIMEOUT_S`); when it does not
answer, or a read on it fails, reads go to the primary, one WARNING is logged, and the replica is tried
again after `REPLICA_RETRY_S`, so it comes back by itself. A replica is a little behind the primary
(milliseconds on one machine): fine for figures that refresh every minute, not for reading one's own write.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import geopandas  # noqa: F401  (load order: wheels' PROJ/GDAL before mod_spatialite)
import pyogrio  # noqa: F401
import pyproj  # noqa: F401
import shapely  # noqa: F401
from geoalchemy2.admin.dialects.sqlite import init_spatialite, load_spatialite_driver
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError

from gis.config import database_url, read_database_url, setting

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

BUSY_TIMEOUT_S = 60.0  # how long a SQLite writer waits for the write lock before giving up
REPLICA_CONNECT_TIMEOUT_S = 2  # a read replica that does not accept a connection in this time is down
REPLICA_RETRY_S = 30.0  # reads stay on the primary this long after the replica failed, then it is tried again
log = logging.getLogger(__name__)
_WRITE = "gridmap_write"  # execution option: this connection's transaction writes


class DatabaseBusy(RuntimeError):
    """The database stayed locked by another writer for longer than the busy timeout (message in Chinese)."""

    def __init__(self, message: str = "数据库正忙（其他用户正在写入大量数据），请稍后重试。本次操作未保存。"):
        super().__init__(message)


def _sqlite_module():
    if hasattr(sqlite3.connect(":memory:"), "enable_load_extension"):
        return sqlite3
    import pysqlite3.dbapi2 as pysqlite

    return pysqlite


def _on_sqlite_connect(dbapi_conn, _record) -> None:
    try:
        load_spatialite_driver(dbapi_conn)
    except Exception as exc:  # sqlite3.OperationalError from the driver module in use
        raise RuntimeError(
            "无法加载 SpatiaLite 扩展 (mod_spatialite)。请安装 Debian 软件包 "
            "libsqlite3-mod-spatialite，或运行 `make run`。"
        ) from exc
    init_spatialite(dbapi_conn, transaction=True, init_mode="WGS84")
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    # Bulk inserts touch eight indexes on problems: SQLite's default 8 MB page cache thrashes.
    cur.execute("PRAGMA cache_size = -262144")  # up to 256 MB, allocated as used
    cur.execute("PRAGMA temp_store = MEMORY")
    # Read through the OS page cache directly: a fresh process answers without first copying
    # the indexes it scans into its own cache.
    cur.execute("PRAGMA mmap_size = 2147483648")
    cur.close()


def _sqlite_begin(conn) -> None:
    # pysqlite's implicit transactions would let DDL and writes autocommit: take control,
    # except on connections asked to autocommit (VACUUM, checkpoints).
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    if not options.get(_WRITE):
        conn.exec_driver_sql("BEGIN")
        return
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits up to BUSY_TIMEOUT_S for the write lock
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise DatabaseBusy() from exc
        raise


class _SQLiteEngine(Engine):
    """A SQLite engine whose `begin()` opens a write transaction (BEGIN IMMEDIATE); see the module docstring."""

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the configured DATABASE_URL), created once per process."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, module=_sqlite_module(), connect_args={"timeout": BUSY_TIMEOUT_S})
        engine.__class__ = _SQLiteEngine  # same state, one method more specific: no other way in create_engine
        event.listen(engine, "connect", _on_sqlite_connect)

        @event.listens_for(engine, "connect")
        def _no_implicit_tx(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql"):
        # No JIT: the figures' statements are estimated expensive at 10M problems, and compiling them took
        # 0.6 s of a 1.8 s query, on every call (bench/bench_wall.py; README "Benchmarks").
        # One connection per script run at a time, and a process serves every session of its browsers: the
        # load test's 50 sessions in 2 processes exhausted SQLAlchemy's default 5 + 10 (a page waited 30 s, then
        # failed). GRIDMAP_DB_POOL per process: a third kept open, the rest opened on demand.
        size = int(setting("GRIDMAP_DB_POOL"))
        return create_engine(url, pool_pre_ping=True, pool_size=max(1, size // 3), max_overflow=size - max(1, size // 3),
                             pool_timeout=60, connect_args={"options": "-c jit=off"})
    raise ValueError(f"不支持的数据库地址 DATABASE_URL={url!r}：只支持 sqlite:/// (SpatiaLite) 与 postgresql+psycopg:// (PostGIS)")


def backend(engine: Engine) -> str:
    """'spatialite' or 'postgis'."""
    return "spatialite" if engine.dialect.name == "sqlite" else "postgis"


# --- reads from a replica (DATABASE_READ_URL) ------------------------------------------------------

def _shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _url_of(primary: Engine | str | None) -> str:
    if primary is None:
        return database_url()
    if isinstance(primary, Engine):
        return primary.url.render_as_string(hide_password=False)
    return primary


class _Replica:
    """One read replica: its engine and whether to use it (see the module docstring)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url, pool_pre_ping=True,
                                    connect_args={"connect_timeout": REPLICA_CONNECT_TIMEOUT_S})
        self.lock = threading.Lock()
        self.up: bool | None = None  # unknown until first probed
        self.retry_at = 0.0

    def usable(self) -> bool:
        with self.lock:
            if self.up or (self.up is False and time.monotonic() < self.retry_at):
                return bool(self.up)
            try:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except DBAPIError as exc:
                self._down(exc)
                return False
            if self.up is False:
                log.warning("只读副本已恢复，读取改回副本 %s。Read replica %s is back: reading from it again.",
                            _shown_url(self.url), _shown_url(self.url))
            self.up = True
            return True

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            self._down(exc)

    def _down(self, exc: BaseException) -> None:
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        why = lines[0][:200] if lines else type(exc).__name__
        if self.up is not False:
            log.warning("只读副本 %s 不可用（%s），读取改用主库，%d 秒后重试。Read replica %s unavailable (%s): "
                        "reading from the primary, retrying in %d s.", _shown_url(self.url), why, REPLICA_RETRY_S,
                        _shown_url(self.url), why, REPLICA_RETRY_S)
        self.up = False
        self.retry_at = time.monotonic() + REPLICA_RETRY_S
        self.engine.dispose()  # connections to a replica that went away are no use when it comes back


_replicas: dict[str, _Replica] = {}
_replicas_lock = threading.Lock()


def _replica_for(primary: Engine | str | None) -> _Replica | None:
    """The replica of `primary` (default: DATABASE_URL): only DATABASE_URL has one, and only on PostgreSQL."""
    read_url, url = read_database_url(), _url_of(primary)
    if not read_url or not url.startswith("postgresql") or make_url(url) != make_url(database_url()) \
            or make_url(read_url) == make_url(url):
        return None
    with _replicas_lock:
        if read_url not in _replicas:
            _replicas[read_url] = _Replica(read_url)
        return _replicas[read_url]


def get_read_engine(primary: Engine | str | None = None) -> Engine:
    """Where to read now: the replica (DATABASE_READ_URL) of `primary` (default: DATABASE_URL) while it
    answers, else the primary itself. For reads only: use `with_read_engine`, which also falls back when
    the replica fails during the read."""
    replica = _replica_for(primary)
    if replica is not None and replica.usable():
        return replica.engine
    return primary if isinstance(primary, Engine) else get_engine(_url_of(primary))


def with_read_engine(fn: Callable[[Engine], object], primary: Engine | str | None = None):
    """`fn(engine)` on the read replica of `primary` (default: DATABASE_URL) when one is configured and
    answers; on the primary otherwise, or again there if it fails on the replica (a WARNING is logged and
    the replica rests `REPLICA_RETRY_S`). `fn` must only read."""
    replica = _replica_for(primary)
    fallback = primary if isinstance(primary, Engine) else get_engine(_url_of(primary))
    if replica is None or not replica.usable():
        return fn(fallback)
    try:
        return fn(replica.engine)
    except DBAPIError as exc:  # the replica went away, or cancelled the query (conflict with recovery)
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            replica.failed(exc)
            return fn(fallback)
        raise
