"""网格规划 in headless Chromium: a planner signs in, draws a polygon with the mouse, sees the check report."""

from __future__ import annotations

import pytest

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import (
    MAP_IFRAME,
    browser,
    chromium_available,
    click_and_rerun,
    map_frame,
    open_app,
    screenshot,
    served_app,
    sign_in,
    wait_for_streamlit,
    watch_requests,
)
from tests.conftest import load_small_city

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

PASSWORD = "Plan-2026-check!"
# leaflet.draw's polygon tool, found through the map's listeners: how many vertices it holds, and
# whether it takes the next click (it ignores clicks for 50 ms after each vertex, longer under load).
READY_FOR_VERTEX = """n => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const tool = map && (map._events.mouseup || []).map(l => l.ctx).find(c => c && '_markers' in c && '_mouseMarker' in c);
  return !!tool && tool._markers.length === n && !tool._disableMarkers;
}"""


def _draw_square(page, attempts: int = 3) -> tuple[float, float]:
    """Four vertices of a square with leaflet.draw's polygon tool, each confirmed by the tool itself;
    returns the first vertex (clicking it again closes the polygon).

    On a loaded machine a click can be swallowed (the tool is still busy with the last vertex, or the
    map was redrawn under it): the vertex is clicked again, and after a second miss the drawing is
    cancelled (Escape) and started over — each step waits for a condition, never for a fixed time.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        frame = map_frame(page)
        frame.wait_for_selector(".leaflet-draw-draw-polygon")
        box = page.locator(MAP_IFRAME).bounding_box()  # measured once the map is drawn: its final place
        # the map fits the four grids (2 × 2 km); a square around the centre, across all four
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        d = min(box["width"], box["height"]) * 0.18
        corners = ((-d, -d), (d, -d), (d, d), (-d, d))
        frame.click(".leaflet-draw-draw-polygon")
        try:
            frame.wait_for_function(READY_FOR_VERTEX, arg=0, timeout=60_000)
            for n, (dx, dy) in enumerate(corners, start=1):
                for _ in range(2):
                    page.mouse.click(cx + dx, cy + dy)
                    try:
                        frame.wait_for_function(READY_FOR_VERTEX, arg=n, timeout=30_000)
                        break
                    except PlaywrightTimeout:
                        continue
                else:
                    raise PlaywrightTimeout(f"vertex {n} not taken")
            return cx - d, cy - d
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")  # leaflet.draw cancels the unfinished polygon
            wait_for_streamlit(page)


@pytest.fixture(scope="module")
def small_sqlite(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('planbrowser') / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "planner1", "规划员", password=PASSWORD)
    return url


def test_draw_a_polygon_with_the_mouse_and_see_the_check_report(small_sqlite):
    with served_app(small_sqlite) as base, browser(1500, 1100) as page:
        visit = watch_requests(page)
        open_app(page, f"{base}/planning")
        sign_in(page, "planner1", PASSWORD)
        page.get_by_role("heading", name="网格规划", exact=True).wait_for()
        wait_for_streamlit(page)
        first = _draw_square(page)
        # back on the first vertex closes the polygon; st_folium sends it and the page reruns
        click_and_rerun(page, lambda: page.mouse.click(*first))
        page.get_by_text("已新增网格 T-05", exact=False).wait_for()
        page.get_by_text("拓扑检查", exact=True).wait_for()
        wait_for_streamlit(page)
        frame = map_frame(page)
        frame.wait_for_function("() => document.querySelectorAll('.gm-label').length >= 5")
        screenshot(page, "planning_drawn")
        text = page.inner_text("body")
        page.get_by_text("拓扑检查", exact=True).scroll_into_view_if_needed()
        screenshot(page, "planning_report")
    assert "5 个网格" in text  # the check report of the candidate with the drawn grid
    assert "调整影响" in text and "T-05" in text
    assert visit.external_requests == []
