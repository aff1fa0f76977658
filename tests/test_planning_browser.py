"""网格规划 in headless Chromium: a planner signs in, draws a polygon with the mouse, sees the check report."""

from __future__ import annotations

import time

import pytest

from gis.people import auth

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people.permissions import Actor
from tests.browser import browser, chromium_available, map_frame, screenshot, served_app, wait_for_streamlit, \
    watch_requests
from tests.conftest import load_small_city

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

PASSWORD = "Plan-2026-check!"


@pytest.fixture(scope="module")
def small_sqlite(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('planbrowser') / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "planner1", "规划员", password=PASSWORD)
    return url


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/planning")
    wait_for_streamlit(page)
    page.get_by_label("用户名").fill("planner1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("text=网格规划", timeout=60_000)
    wait_for_streamlit(page)


def test_draw_a_polygon_with_the_mouse_and_see_the_check_report(small_sqlite):
    with served_app(small_sqlite) as base:
        with browser(1500, 1100) as page:
            visit = watch_requests(page)
            _sign_in(page, base)
            frame = map_frame(page)
            frame.wait_for_selector(".leaflet-draw-draw-polygon", timeout=30_000)
            box = page.locator('iframe[title="streamlit_folium.st_folium"]').bounding_box()
            # the map fits the four grids (2 × 2 km); draw a square around the centre, across all four
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            d = min(box["width"], box["height"]) * 0.18
            frame.click(".leaflet-draw-draw-polygon")
            for dx, dy in ((-d, -d), (d, -d), (d, d), (-d, d)):
                page.mouse.click(cx + dx, cy + dy)
                time.sleep(0.3)
            page.mouse.click(cx - d, cy - d)  # back on the first vertex closes the polygon
            page.wait_for_selector("text=已新增网格 T-05", timeout=60_000)
            wait_for_streamlit(page)
            page.wait_for_selector("text=拓扑检查", timeout=30_000)
            frame = map_frame(page)
            frame.wait_for_function("() => document.querySelectorAll('.gm-label').length >= 5", timeout=30_000)
            time.sleep(1.0)
            screenshot(page, "planning_drawn")
            text = page.inner_text("body")
            page.get_by_text("拓扑检查", exact=True).scroll_into_view_if_needed()
            time.sleep(0.5)
            screenshot(page, "planning_report")
    assert "5 个网格" in text  # the check report of the candidate with the drawn grid
    assert "调整影响" in text and "T-05" in text
    assert visit.external_requests == []
