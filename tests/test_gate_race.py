"""Issue 11 §1: signed-out visitors racing a freshly started server never get past the sign-in gate.

Right after a start Streamlit is in its old multipage mode (the folder is called pages/) and runs
a requested page file directly; before the fix 12 of 16 racing websocket clients got the wall's
leader phone numbers, 红榜, the admin and data pages, or an ImportError. Each page now calls
`pages.gate.require()` first. Here many clients (websocket, and Chromium pages) open every page
0–2 s after the server answers its health check, over several restarts.
"""

from __future__ import annotations

import threading
import time

import pytest

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import WAIT_MS, browser, chromium_available, served_app, wait_for_streamlit
from tests.conftest import load_small_city
from tests.gate_wsclient import visit

SIGN_IN = "创城网格地图 · 登录"
# Text that only a page past the gate shows: leader/unit phone numbers (wall tooltips, grid page),
# the wall's 红榜, the overview's KPI, the planning/admin/data titles, and any error detail.
SECRETS = ("1390635", "0635-821", "红榜", "问题总数", "网格规划", "系统管理", "数据管理",
           "ImportError", "Traceback", "Error", "/work/", "site-packages")
PAGES = ["wall", "", "wall", "grid", "planning", "cards", "data", "admin", "wall", "grid"]


@pytest.fixture(scope="module")
def small_sqlite(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('gaterace') / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "leader", "领导", "leader-password")
    return url


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_small_city_wall_does_show_the_secrets_we_look_for(small_sqlite):
    """The markers are real: a signed-in leader's wall carries them (so their absence below means something)."""
    from gis.geo.queries import grid_leaders

    leaders = grid_leaders(get_engine(small_sqlite))
    assert leaders.astype(str).apply(lambda c: c.str.contains("1390635")).any().any()


@pytest.mark.parametrize("restart", range(3))
def test_racing_websocket_clients_after_a_restart_see_only_the_sign_in_form(small_sqlite, restart):
    with served_app(small_sqlite) as base:
        visits, failures = [], []

        def client(i: int) -> None:
            time.sleep(i * 2.0 / len(PAGES))  # 0–2 s after the server came up
            try:
                visits.append(visit(base, PAGES[i], timeout=90))
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(PAGES))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not failures
    assert len(visits) == len(PAGES)
    for v in visits:
        assert SIGN_IN in v.text, f"/{v.page} never showed the sign-in form"
        assert not _leaks(v.text), f"/{v.page} leaked {_leaks(v.text)}"
        assert not v.page_not_found


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")
@pytest.mark.parametrize("restart", range(2))
def test_racing_chromium_tabs_after_a_restart_see_only_the_sign_in_form(small_sqlite, restart):
    paths = ["wall", "", "wall", "grid", "planning", "wall"]
    with served_app(small_sqlite) as base, browser(1400, 900) as first:
        tabs = [first] + [first.context.new_page() for _ in paths[1:]]
        start = time.monotonic()
        for i, (tab, path) in enumerate(zip(tabs, paths)):
            while time.monotonic() - start < i * 2.0 / len(paths):  # stagger 0–2 s without a fixed sleep
                first.wait_for_timeout(50)
            tab.goto(f"{base}/{path}", wait_until="commit")
        for tab, path in zip(tabs, paths):
            tab.get_by_text(SIGN_IN, exact=True).wait_for(timeout=WAIT_MS)
            # the form itself, once the run that draws it (after the gate's rerun, on a busy machine) is over
            tab.get_by_label("用户名", exact=True).wait_for(timeout=WAIT_MS)
            wait_for_streamlit(tab, timeout_ms=WAIT_MS)
            body = tab.inner_text("body")
            assert not _leaks(body), f"/{path} leaked {_leaks(body)}"
            assert tab.locator("iframe").count() == 0, f"/{path} drew a map or chart"
            assert tab.get_by_label("用户名", exact=True).count() == 1
