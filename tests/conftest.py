"""Fixtures: the small city on each backend (SpatiaLite and PostGIS), a pinned clock, fresh caches;
the units of work of the two pytest-xdist workers.

Backends come from GRIDMAP_TEST_BACKENDS (default "spatialite,postgis"); the PostgreSQL server
from GRIDMAP_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432). Each run uses
its own database names, so parallel runs do not collide.
"""

from __future__ import annotations

import functools
import os
import sys
import uuid
from datetime import datetime

import gis.db.engine  # noqa: F401  (geospatial wheels before mod_spatialite; see gis.db.engine)
import psycopg
import pytest
import time_machine

from gis.db import migrate
from gis.db.engine import get_engine
from gis.io.city import clear_data, write_city
from gis.metrics import memo
from tests import smallcity
from streamlit.components.v2 import manifest_scanner

# Each AppTest scans every installed package for Streamlit components (~70 ms); none is installed or
# removed during a run, so the first scan serves them all.
manifest_scanner.scan_component_manifests = functools.lru_cache(maxsize=1)(manifest_scanner.scan_component_manifests)

BACKENDS = [b.strip() for b in os.environ.get("GRIDMAP_TEST_BACKENDS", "spatialite,postgis").split(",") if b.strip()]
PG_SERVER = os.environ.get("GRIDMAP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
RUN_ID = uuid.uuid4().hex[:8]  # per process: each pytest-xdist worker gets its own databases
# Every test runs at this moment (local time), the morning after the small city's last day
# (smallcity.UNTIL): "this month" is November 2026 whatever the real date. The clock ticks on.
CLOCK = datetime(2026, 11, 21, 9, 0)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds the full demo city (deselect with -m 'not slow')")
    config.addinivalue_line("markers", "browser: drives headless Chromium")
    config.addinivalue_line("markers", "cluster: starts nginx, app processes and a PostgreSQL replica (bench/cluster.py)")


# Units of work for pytest-xdist (pytest.ini: -n 2 --dist loadscope): the browser tests in two units of
# about equal length (one Chromium per worker at a time), the demo builds in another, each other module
# one unit (its module fixtures built once). The long units go first, the two browser units one to each
# worker.
BROWSER_GROUP, BROWSER_GROUP_2, DEMO_GROUP = "browser", "browser-2", "demo"
BROWSER_MODULES_2 = {"test_chinese_browser.py", "test_mobile_browser.py", "test_planner_browser.py"}
DEMO_MODULES = {"test_demo.py"}  # the full demo city and its determinism
# A browser test checks what a screen shows; the queries under it are the pages' own, checked on both
# backends by the AppTest and core tests. So each browser module runs on one backend: these on PostGIS,
# the others on SpatiaLite (or on the one backend GRIDMAP_TEST_BACKENDS names).
BROWSER_ON_POSTGIS = {"test_grid_actions_browser.py", "test_pages_browser.py", "test_wall_labels_browser.py"}


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


def _unit(nodeid: str) -> str:
    path, name = nodeid.split("::", 1)[0], _module(nodeid)
    if name.endswith("_browser.py"):
        return BROWSER_GROUP_2 if name in BROWSER_MODULES_2 else BROWSER_GROUP
    if name in DEMO_MODULES:
        return DEMO_GROUP
    return path


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's loadscope, with the units above (its own loadgroup marks do not work on pytest 9)."""
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return SuiteScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


def _browser_backend(module: str) -> str:
    wanted = "postgis" if module in BROWSER_ON_POSTGIS else "spatialite"
    return wanted if wanted in BACKENDS else BACKENDS[0]


def pytest_collection_modifyitems(config, items):
    """Each browser module on its one backend (BROWSER_ON_POSTGIS)."""
    keep, drop = [], []
    for item in items:
        module = _module(item.nodeid)
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("backend_name")
        off = module.endswith("_browser.py") and backend is not None and backend != _browser_backend(module)
        (drop if off else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)  # after every modifyitems hook, before pytest-xdist sends the list
def pytest_collection_finish(session):
    """The two longest units first (--no-loadscope-reorder keeps this order); stable within each rank."""
    order = {BROWSER_GROUP: 0, BROWSER_GROUP_2: 1, DEMO_GROUP: 2}
    session.items.sort(key=lambda item: order.get(_unit(item.nodeid), 3))


def _pg_admin():
    return psycopg.connect(PG_SERVER.replace("+psycopg", "") + "/postgres", autocommit=True)


def new_database_url(backend: str, tmp_path_factory, name: str) -> str:
    """A fresh, empty database on `backend`; removed at the end of the session (PostGIS)."""
    if backend == "spatialite":
        return f"sqlite:///{tmp_path_factory.mktemp(name) / 'gridmap.sqlite'}"
    dbname = f"gridmap_test_{name}_{RUN_ID}"
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    _created.append(dbname)
    _urls_made.append(f"{PG_SERVER}/{dbname}")
    return _urls_made[-1]


_created: list[str] = []
_urls_made: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    if not _created:
        return
    for engine in [get_engine(url) for url in _urls_made]:
        engine.dispose()
    with _pg_admin() as conn:
        for dbname in _created:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend_name(request) -> str:
    return request.param


# Databases made once per backend and process. pytest keeps one parameter of a session fixture alive
# at a time and rebuilds it when the next test wants the other backend: the dict makes that free.
_databases: dict[tuple[str, str], str] = {}


def _once(backend: str, name: str, make) -> str:
    if (backend, name) not in _databases:
        _databases[backend, name] = make()
    return _databases[backend, name]


@pytest.fixture(scope="session")
def empty_url(backend_name, tmp_path_factory) -> str:
    """A migrated, empty database (session-wide; tests that fill it must clear it)."""
    def make():
        url = new_database_url(backend_name, tmp_path_factory, "empty")
        migrate.upgrade(get_engine(url))
        return url
    return _once(backend_name, "empty", make)


def load_small_city(engine) -> None:
    with engine.begin() as conn:
        clear_data(conn)
        write_city(conn, smallcity.city(), smallcity.LAYER_START)


@pytest.fixture(scope="session")
def city_url(backend_name, tmp_path_factory) -> str:
    """The small city, read-only: tests must not write to it (use `city_rw`)."""
    def make():
        url = new_database_url(backend_name, tmp_path_factory, "city")
        engine = get_engine(url)
        migrate.upgrade(engine)
        load_small_city(engine)
        return url
    return _once(backend_name, "city", make)


@pytest.fixture(scope="session")
def city_engine(city_url):
    return get_engine(city_url)


@pytest.fixture
def city_rw(backend_name, tmp_path_factory):
    """The small city, freshly loaded for a test that writes."""
    def make():
        url = new_database_url(backend_name, tmp_path_factory, "rw")
        migrate.upgrade(get_engine(url))
        return url
    engine = get_engine(_once(backend_name, "rw", make))
    load_small_city(engine)
    return engine


@pytest.fixture(autouse=True)
def _demo_users_file(tmp_path_factory, monkeypatch):
    """`gis demo` writes demo passwords to GRIDMAP_DEMO_USERS_FILE: never over the developer's data/demo_users.txt."""
    monkeypatch.setenv("GRIDMAP_DEMO_USERS_FILE", str(tmp_path_factory.getbasetemp() / "demo_users.txt"))


@pytest.fixture(autouse=True)
def _district_file(tmp_path_factory, monkeypatch):
    """`gis init` writes the district to GRIDMAP_DISTRICT_FILE: never the developer's data/district.geojson.
    The file does not exist unless a test writes it, so tests run on the demo city's boundary."""
    monkeypatch.setenv("GRIDMAP_DISTRICT_FILE", str(tmp_path_factory.mktemp("district") / "district.geojson"))


@pytest.fixture(scope="module", autouse=True)
def _one_chromium_per_module():
    """The module's tests share one Chromium (tests/browser.py); stopped when the module ends."""
    yield
    if "tests.browser" in sys.modules:
        sys.modules["tests.browser"].close_shared()


@pytest.fixture(autouse=True)
def fixed_clock():
    """Pin `datetime.now()`, `date.today()` and `time.time()` to CLOCK (ticking): no test depends on today."""
    with time_machine.travel(CLOCK.astimezone(), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with no memoised month figures and no Streamlit cache from an earlier test."""
    memo.clear_memo()
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()
    yield
    memo.clear_memo()
