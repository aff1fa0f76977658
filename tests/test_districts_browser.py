"""The city wall (市级大屏, issue 17) in headless Chromium: two districts side by side, the districts' map;
a click on a district's name opens its own wall; a district's leader gets only theirs.

Screenshots (gitignored): tests/screenshots/city_wall_1920.png, city_wall_390.png, city_wall_district_1920.png.
"""

from __future__ import annotations

from datetime import date

import pytest

from gis.db import migrate
from gis.db.engine import get_engine
from gis.demo.districts import select_districts
from gis.people import auth
from gis.people.permissions import LEADER, Actor
from tests.browser import (
    browser,
    chromium_available,
    map_frame,
    open_app,
    screenshot,
    served_app,
    sign_in,
    wait_for_streamlit,
    watch_requests,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

TOKEN = "city-wall-token-0123456789abcdef"
PASSWORD = "Leader-pass-2026"


@pytest.fixture(scope="module")
def two_sqlite(tmp_path_factory) -> str:
    from gis.demo.build import build_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('citywall') / 'demo.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    build_demo(engine, n_problems=3000, until=date(2026, 11, 20), out_dir=None, districts=select_districts("阳谷县"))
    auth.add_user(engine, Actor.system(), "yg_leader", LEADER, PASSWORD, district_code="371521")
    return url


def _trend_drawn(page) -> None:
    page.wait_for_function("""() => [...document.querySelectorAll(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg')]
        .some(c => c.tagName === 'CANVAS' ? c.width > 0 && c.height > 0 : c.querySelector('path, rect'))""")


def test_city_wall_shows_the_districts_and_opens_one(two_sqlite):
    with served_app(two_sqlite, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base, browser(1920, 1080) as page:
        visit = watch_requests(page)
        open_app(page, f"{base}/wall?kiosk={TOKEN}&as_of=2026-11-20")
        page.get_by_text("聊城市创城网格化管理 · 市级大屏", exact=True).wait_for()
        map_frame(page).wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length >= 2")
        _trend_drawn(page)
        wait_for_streamlit(page)
        screenshot(page, "city_wall_1920")
        text = page.inner_text("body")
        height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        page.get_by_role("link", name="阳谷县", exact=True).click()  # a link: the district's wall loads anew
        page.get_by_text("阳谷县创城网格化管理 · 领导大屏", exact=True).wait_for()
        frame = map_frame(page)
        frame.wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length >= 12")
        wait_for_streamlit(page)
        screenshot(page, "city_wall_district_1920")
        shapes = frame.eval_on_selector_all("path.leaflet-interactive", "els => els.length")
        kiosk_kept = all(f in page.url for f in (f"kiosk={TOKEN}", "district=371521", "as_of=2026-11-20"))
    for label in ("区县对比", "东昌府区", "阳谷县", "区县得分", "按期结案率", "近12个月按期结案率"):
        assert label in text, label
    assert height <= 1080  # one screen on the wall
    assert shapes == 12 and kiosk_kept
    assert visit.external_requests == []


def test_city_wall_on_a_phone_and_a_district_leader(two_sqlite):
    with served_app(two_sqlite, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base:
        with browser(390, 844) as page:
            open_app(page, f"{base}/wall?kiosk={TOKEN}&as_of=2026-11-20")
            page.get_by_text("区县对比", exact=False).first.wait_for()
            map_frame(page).wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length >= 2")
            wait_for_streamlit(page)
            screenshot(page, "city_wall_390")
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        with browser(1920, 1080) as page:
            open_app(page, f"{base}/wall?district=371502&as_of=2026-11-20")  # asks for 东昌府区's wall
            sign_in(page, "yg_leader", PASSWORD)
            page.get_by_text("阳谷县创城网格化管理 · 领导大屏", exact=True).wait_for()
            wait_for_streamlit(page)
            text = page.inner_text("body")
    assert overflow <= 1
    assert "东昌府区" not in text and "返回全市" not in text
