"""Reads from a replica (DATABASE_READ_URL, issue 17): routing, fallback to the primary, coming back.

The "replica" here is a TCP relay to the test PostgreSQL server that the test stops and starts (the
real streaming replica is tests/test_cluster.py's): while it runs, reads go through it; stopped, reads
fall back to the primary with one WARNING, and after `REPLICA_RETRY_S` the replica is used again.
PostGIS only: a replica is a PostgreSQL standby.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time

import httpx
import pytest
from sqlalchemy import make_url, text

from gis import config
from gis.db import engine as engines
from gis.db.engine import get_engine, get_read_engine, with_read_engine
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)
from tests.browser import _free_port
from tests.conftest import BACKENDS, PG_SERVER, load_small_city, new_database_url

pytestmark = pytest.mark.skipif("postgis" not in BACKENDS, reason="a read replica is a PostgreSQL server")
LOGGER = "gis.db.engine"


class Relay:
    """127.0.0.1:<port> → the test PostgreSQL server, until stopped (connections cut); can start again."""

    def __init__(self):
        url = make_url(PG_SERVER)
        self.target = (url.host or "127.0.0.1", url.port or 5432)
        self.port = _free_port()
        self.server = None
        self.sockets: list[socket.socket] = []

    def url(self, database_url: str) -> str:
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def start(self) -> None:
        relay = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                upstream = socket.create_connection(relay.target, timeout=10)
                relay.sockets += [self.request, upstream]
                back = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
                back.start()
                _pipe(self.request, upstream)
                back.join(10)

        self.server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.sockets.clear()


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def relay():
    r = Relay()
    r.start()
    yield r
    if r.server is not None:
        try:
            r.stop()
        except Exception:  # noqa: BLE001  (already stopped by the test)
            pass


@pytest.fixture(scope="module")
def pg_city(tmp_path_factory):
    """The small city on PostGIS (the API test adds a request to it)."""
    url = new_database_url("postgis", tmp_path_factory, "replica")
    from gis.db import migrate

    migrate.upgrade(get_engine(url))
    load_small_city(get_engine(url))
    return url


def _server_port(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT inet_server_port()")).scalar()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def test_setting_is_checked_and_never_shows_a_password(monkeypatch):
    monkeypatch.setenv("DATABASE_READ_URL", "mysql://u:secret@db/x")
    problems = config.validate_settings()
    assert len(problems) == 1 and "DATABASE_READ_URL" in problems[0] and "不受支持" in problems[0]
    assert "secret" not in problems[0]
    monkeypatch.setenv("DATABASE_READ_URL", "postgresql+psycopg://u:secret@replica/x")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///data/x.sqlite")
    problems = config.validate_settings()
    assert len(problems) == 1 and problems[0].startswith("DATABASE_READ_URL") and "PostgreSQL" in problems[0]
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:secret@primary/x")
    assert config.validate_settings() == []
    monkeypatch.setenv("DATABASE_READ_URL", "")
    assert config.read_database_url() is None and config.validate_settings() == []


def test_no_replica_reads_the_primary(pg_city, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", pg_city)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    assert get_read_engine() is get_engine(pg_city)
    assert with_read_engine(lambda e: e) is get_engine(pg_city)


def test_reads_use_the_replica_fall_back_and_come_back(pg_city, relay, monkeypatch, caplog):
    monkeypatch.setenv("DATABASE_URL", pg_city)
    monkeypatch.setenv("DATABASE_READ_URL", relay.url(pg_city))
    caplog.set_level(logging.WARNING, LOGGER)
    primary = get_engine(pg_city)
    count = "SELECT COUNT(*) FROM grids"

    def grids(engine):
        with engine.connect() as conn:
            return _server_port(engine), conn.execute(text(count)).scalar()

    on_replica = with_read_engine(grids)
    with primary.connect() as conn:
        assert on_replica == (relay.target[1], conn.execute(text(count)).scalar())  # the same server, via the relay
    assert get_read_engine().url.port == relay.port and get_read_engine(primary).url.port == relay.port
    # another database than DATABASE_URL's never reads DATABASE_URL's replica
    other = make_url(pg_city).set(database="other").render_as_string(hide_password=False)
    assert get_read_engine(other) is get_engine(other)
    assert _warnings(caplog) == []

    # the replica stops: the read in flight and the next ones go to the primary, one warning
    monkeypatch.setattr(engines, "REPLICA_RETRY_S", 0.5)
    relay.stop()
    assert with_read_engine(grids) == (on_replica[0], on_replica[1])
    assert with_read_engine(grids)[1] == on_replica[1]
    assert get_read_engine() is primary
    [warning] = _warnings(caplog)
    assert "只读副本" in warning and "Read replica" in warning and "primary" in warning
    assert str(relay.port) in warning
    # still down at the retry: still the primary, no second warning
    time.sleep(0.6)  # past REPLICA_RETRY_S (0.5 s here): the next read probes the replica again
    assert get_read_engine() is primary
    assert len(_warnings(caplog)) == 1

    # back: after the retry interval, reads use it again by themselves
    relay.start()
    deadline = time.monotonic() + 10
    while get_read_engine() is primary:
        assert time.monotonic() < deadline, "the replica was not used again"
        time.sleep(0.1)  # poll: the next probe is due REPLICA_RETRY_S after the last
    assert get_read_engine().url.port == relay.port
    assert "已恢复" in _warnings(caplog)[-1]


def test_the_wall_renders_with_the_replica_down(pg_city, monkeypatch, captured_maps, caplog):
    down = make_url(pg_city).set(host="127.0.0.1", port=_free_port()).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_READ_URL", down)
    caplog.set_level(logging.WARNING, LOGGER)
    at = run_app(pg_city, monkeypatch, page="pages/wall.py")
    assert not at.exception
    assert "红榜" in "\n".join(m.value for m in at.markdown)
    assert any("只读副本" in w and str(make_url(down).port) in w for w in _warnings(caplog))


def test_api_reads_the_replica_and_finds_a_new_request_on_the_primary(pg_city, tmp_path_factory):
    """The 'replica' is another database holding the small city without the new request: a replica behind."""
    from gis.db import migrate
    from gis.people import apikeys
    from gis.people.permissions import Actor
    from tests.test_api import served_api

    behind = new_database_url("postgis", tmp_path_factory, "behind")
    migrate.upgrade(get_engine(behind))
    load_small_city(get_engine(behind))
    primary = get_engine(pg_city)
    key = apikeys.create(primary, Actor.system("测试"), "12345热线-副本")
    env = {"DATABASE_URL": pg_city, "DATABASE_READ_URL": behind}
    with served_api(primary, tmp_path_factory.mktemp("photos"), env) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        r = client.post("/requests.json", data={"api_key": key, "service_code": "暴露垃圾", "lat": "36.445",
                                                "long": "115.985", "description": "小区门口垃圾堆放三天"})
        assert r.status_code == 201, r.text
        code = r.json()[0]["service_request_id"]
        listed = client.get("/requests.json", params={"service_request_id": code}).json()
        assert listed == []  # the list reads the replica, which does not have it yet
        [one] = client.get(f"/requests/{code}.json").json()  # one request: asked again of the primary
        assert one["service_request_id"] == code
        assert client.get("/requests/WT-NOPE.json").status_code == 404
        assert client.get("/services.json").status_code == 200
