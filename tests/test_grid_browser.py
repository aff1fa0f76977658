"""网格详情 in headless Chromium: click a grid polygon on the map and land on that grid's page."""

from __future__ import annotations

import re

import pytest

from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import browser, chromium_available, map_frame, screenshot, served_app, wait_for_streamlit, watch_requests

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="no Chromium")]
PASSWORD = "Grid-Browser-2026!"


def sign_in(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_click_grid_polygon_opens_its_page(city_rw, backend_name):
    auth.add_user(city_rw, Actor.system(), "chief01", "网格长", PASSWORD, grid_code="T-01")
    url = city_rw.url.render_as_string(hide_password=False)
    with served_app(url) as base, browser(1400, 1000) as page:
        visit = watch_requests(page)
        page.goto(base + "/grid")
        wait_for_streamlit(page)
        sign_in(page, "chief01")  # the deep link survives sign-in
        page.get_by_role("heading", name="网格详情").wait_for(timeout=60_000)
        frame = map_frame(page)
        polygons = frame.locator("path.leaflet-interactive")
        assert polygons.count() == 4
        box = polygons.nth(0).bounding_box()
        # off-centre, so the click hits the polygon and not its code label
        polygons.nth(0).click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.25})
        heading = page.get_by_role("heading", name=re.compile(r"网格详情 · T-0\d"))
        heading.wait_for(timeout=60_000)
        code = heading.inner_text().split("·")[-1].strip()
        wait_for_streamlit(page)
        assert f"grid={code}" in page.url
        page.get_by_text("责任公示").wait_for(timeout=30_000)
        map_frame(page)  # the grid's own map is drawn
        screenshot(page, f"grid_page_{backend_name}")
        assert visit.external_requests == []
