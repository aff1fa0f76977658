"""The local deployment of bench/cluster.py (issue 17): nginx in front of two dashboard processes and the
Open311 API, the wall and the API's GET routes reading a PostgreSQL streaming replica, writes on the primary.

One cluster for the module, on a small PostGIS demo city (61 grids). Checked through nginx: the wall in
Chromium (kiosk token, its 61 grids drawn), one browser session staying on one app process (its
requests and its websocket), new sessions spread over both, the API answering and a write through it
landing on the primary and then on the replica; the replica stopped, the wall still drawn without an
error and the fallback in the app's log; the replica started again. Every wait is for a condition,
bounded. Skipped without nginx, PostgreSQL's server programs, Chromium or the PostGIS backend.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest

from bench.cluster import Cluster, ClusterError, _libpq, _newest_bindir, free_port
from gis.db.engine import get_engine
from tests.browser import SERVER_NOW, WAIT_MS, browser, chromium_available, map_frame, open_app, wait_for_streamlit
from tests.conftest import BACKENDS

def _postgres_programs() -> bool:
    try:
        return (_newest_bindir() / "pg_basebackup").is_file()
    except ClusterError:
        return False


pytestmark = [
    pytest.mark.cluster, pytest.mark.browser,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (Debian package nginx; make test installs it)"),
    pytest.mark.skipif(not _postgres_programs(), reason="needs PostgreSQL's server programs with PostGIS "
                                                        "(Debian packages postgresql-15, postgresql-15-postgis-3)"),
    pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium"),
    pytest.mark.skipif("postgis" not in BACKENDS, reason="the replica is a PostgreSQL standby"),
]

TOKEN = "cluster-wall-token-0123456789abcdef"
WAIT_S = WAIT_MS / 1000
FALLBACK = "只读副本"  # the start of gis.db.engine's WARNING when reads fall back to the primary


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A primary of its own (initdb on a free port, no fsync) with a small demo city, its replica, two app
    processes, the API and nginx. The shared server on 5432 is not touched: a base backup of it would copy
    every database of every test run on the machine."""
    from gis.people import apikeys
    from gis.people.permissions import Actor

    env = {"GRIDMAP_KIOSK_TOKENS": TOKEN, "GRIDMAP_NOW": SERVER_NOW,
           "GRIDMAP_UPLOAD_DIR": str(tmp_path_factory.mktemp("cluster_uploads")),
           "GRIDMAP_DEMO_USERS_FILE": str(tmp_path_factory.mktemp("cluster_users") / "demo_users.txt")}
    c = Cluster("postgresql+psycopg://postgres@127.0.0.1/gridmap_cluster", dir=tmp_path_factory.mktemp("cluster"),
                apps=2, port=free_port(), app_ports=[free_port(), free_port()], api_port=free_port(),
                replica_port=free_port(), own_primary_port=free_port(), fast_primary=True,
                demo_args=["--problems", "3000", "--until", "2026-11-20", "--no-files"], env=env)
    with c:
        engine = get_engine(c.database_url)
        key = apikeys.create(engine, Actor.system("测试"), "12345热线")
        yield c, key, engine
        engine.dispose()
    assert not any(_running(info["pid"]) for info in c.state.get("processes", {}).values())
    assert "replica" not in c.state and "own_primary" not in c.state  # stopped and removed


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _get(url: str, headers: dict | None = None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers), resp.read()


def _until(what: str, check, timeout: float = WAIT_S):
    """Poll `check()` until it returns something true (bounded)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.25)  # poll interval
    return result


def _on_replica(c: Cluster, sql: str, *args):
    with psycopg.connect(_libpq(c.replica_url), autocommit=True) as conn:
        return conn.execute(sql, args).fetchone()[0]


def _open_wall(c: Cluster, page, as_of: str) -> set[str]:
    """The kiosk wall through nginx until its 61 grids are drawn; the app processes that answered."""
    upstreams: set[str] = set()
    page.on("response", lambda r: upstreams.add(r.headers.get("x-upstream", "?")) if r.url.startswith(c.base_url) else None)
    open_app(page, f"{c.base_url}/wall?kiosk={TOKEN}&as_of={as_of}")
    frame = map_frame(page)
    frame.wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length >= 61")
    wait_for_streamlit(page)
    return upstreams


def _no_error_on(page) -> None:
    text = page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "参考编号" not in text and "出错" not in text
    for label in ("领导大屏", "结案率", "红榜"):
        assert label in text


def test_wall_through_nginx_sticks_to_one_app_process_and_reads_the_replica(cluster):
    c, _, _ = cluster
    app_addresses = {f"127.0.0.1:{p}" for p in c.app_ports}
    with browser(1920, 1080) as page:
        upstreams = _open_wall(c, page, "2026-11-20")
        _no_error_on(page)
        [route] = [k["value"] for k in page.context.cookies() if k["name"] == "gm_route"]
    assert len(upstreams) == 1 and upstreams <= app_addresses, upstreams  # every HTTP request: one process
    [mine] = upstreams
    # the websocket (/_stcore/stream) too: nginx logs it, with its upstream, once the browser closed it
    lines = _until("the websocket in nginx's log", lambda: [
        line for line in c.access_log.read_text(encoding="utf-8").splitlines()
        if "/_stcore/stream" in line and f"route={route}" in line])
    assert all(f"upstream={mine} " in line for line in lines), lines
    assert any('" 101 ' in line for line in lines), lines
    # the wall's figures came from the replica: the app holds connections to it
    assert _on_replica(c, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND backend_type = 'client backend' AND pid <> pg_backend_pid()") > 0
    # new sessions (no cookie) are spread over both processes; a session's cookie keeps it on one
    seen = {_get(f"{c.base_url}/_stcore/health")[1]["X-Upstream"] for _ in range(30)}
    assert seen == app_addresses, seen
    same = {_get(f"{c.base_url}/_stcore/health", {"Cookie": f"gm_route={route}"})[1]["X-Upstream"] for _ in range(10)}
    assert same == {mine}


def test_api_through_nginx_writes_the_primary_and_the_replica_follows(cluster):
    c, key, engine = cluster
    status, headers, body = _get(f"{c.base_url}/api/services.json")
    assert status == 200 and headers["X-Upstream"] == f"127.0.0.1:{c.api_port}" and b"service_code" in body
    data = urllib.parse.urlencode({"api_key": key, "service_code": "暴露垃圾", "lat": "36.445", "long": "115.985",
                                   "description": "小区门口垃圾堆放三天"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{c.base_url}/api/requests.json", data=data), timeout=30) as r:
        assert r.status == 201
        code = json.loads(r.read())[0]["service_request_id"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM problems WHERE code = %(c)s", {"c": code}).scalar() == 1
    _until("the new request on the replica",
           lambda: _on_replica(c, "SELECT count(*) FROM problems WHERE code = %s", code) == 1, timeout=60)
    assert _on_replica(c, "SELECT pg_is_in_recovery()") is True
    status, _, body = _get(f"{c.base_url}/api/requests/{code}.json")
    assert status == 200 and code.encode() in body


def test_replica_stopped_the_wall_still_renders_then_it_comes_back(cluster):
    c, _, _ = cluster
    c.stop_replica()
    try:
        with browser(1920, 1080) as page:
            # another day than the first test's: the wall's cached figures miss and are read again
            upstreams = _open_wall(c, page, "2026-11-19")
            _no_error_on(page)
        [served_by] = upstreams
        log = c.app_log(int(served_by.rsplit(":", 1)[1]))
        line = _until("the fallback in the app's log", lambda: next(
            (ln for ln in log.read_text(encoding="utf-8").splitlines() if FALLBACK in ln), None))
        assert "Read replica" in line and str(c.replica_port) in line
        assert "Traceback" not in log.read_text(encoding="utf-8")
        # the API's GET routes fall back too
        status, _, _ = _get(f"{c.base_url}/api/requests.json?status=open")
        assert status == 200
        _until("the fallback in the API's log",
               lambda: FALLBACK in (c.dir / "api.log").read_text(encoding="utf-8"))
    finally:
        c.start_replica()  # waits until it streams from the primary again
    assert c.replica_streaming()
    assert re.search(r"started streaming WAL", c.replica_server().log.read_text())
