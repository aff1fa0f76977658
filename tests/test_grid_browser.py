"""网格详情 in headless Chromium: click a grid polygon on the map and land on that grid's page."""

from __future__ import annotations

import re

import pytest

from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import (
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

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="no Chromium")]
PASSWORD = "Grid-Browser-2026!"


def test_click_grid_polygon_opens_its_page(city_rw, backend_name):
    # a 核查员 starts on the whole-city picker (a 网格长 lands on their own grid: test_grid_actions_browser.py)
    auth.add_user(city_rw, Actor.system(), "check01", "核查员", PASSWORD)
    url = city_rw.url.render_as_string(hide_password=False)
    with served_app(url) as base, browser(1400, 1000) as page:
        visit = watch_requests(page)
        open_app(page, base + "/grid")
        sign_in(page, "check01", PASSWORD)  # the deep link survives sign-in
        page.get_by_role("heading", name="网格详情", exact=True).wait_for()
        wait_for_streamlit(page)
        frame = map_frame(page)
        polygons = frame.locator("path.leaflet-interactive")
        assert polygons.count() == 4
        box = polygons.nth(0).bounding_box()
        # off-centre, so the click hits the polygon and not its code label
        click_and_rerun(page, polygons.nth(0), position={"x": box["width"] * 0.25, "y": box["height"] * 0.25})
        heading = page.get_by_role("heading", name=re.compile(r"^网格详情 · T-0\d$"))
        heading.wait_for()
        wait_for_streamlit(page)
        code = heading.inner_text().split("·")[-1].strip()
        assert f"grid={code}" in page.url
        page.get_by_text("责任公示", exact=True).first.wait_for()
        map_frame(page)  # the grid's own map is drawn
        wait_for_streamlit(page)
        screenshot(page, f"grid_page_{backend_name}")
        assert visit.external_requests == []
