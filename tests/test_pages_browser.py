"""Every page in headless Chromium, as an administrator would open them from the sidebar:
each renders without an error box, and no request ever leaves 127.0.0.1 (closed intranet)."""

from __future__ import annotations

import re

import pytest

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

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="no Chromium")]
PASSWORD = "Pages-Browser-2026!"
# Sidebar title → the page's own heading, shown once it has rendered.
PAGES = {"总览": "创城网格地图 · 东昌府区", "网格详情": "网格详情", "领导大屏": "东昌府区创城网格化管理 · 领导大屏",
         "网格规划": "网格规划", "系统管理": "系统管理", "数据管理": "数据管理", "指标说明": "指标说明",
         "三色牌": "三色牌", "曝光台": "曝光台", "督查通报": "督查通报",
         "移动巡查": "移动巡查"}


def test_every_page_renders_offline(city_rw, backend_name):
    auth.add_user(city_rw, Actor.system(), "admin01", "管理员", PASSWORD)
    url = city_rw.url.render_as_string(hide_password=False)
    with served_app(url) as base, browser(1600, 1000) as page:
        visit = watch_requests(page)
        open_app(page, base + "/")
        sign_in(page, "admin01", PASSWORD)
        page.get_by_role("button", name="退出登录", exact=True).wait_for()
        nav = page.locator('[data-testid="stSidebarNav"]')
        for title, heading in PAGES.items():
            click_and_rerun(page, nav.get_by_text(title, exact=True))
            page.get_by_role("heading", name=re.compile("^" + re.escape(heading) + "$")).wait_for()
            wait_for_streamlit(page)
            if page.locator(MAP_IFRAME).count():
                map_frame(page)  # its scripts and styles loaded, the map drawn
            assert page.locator('[data-testid="stException"]').count() == 0, f"{title}: an exception is shown"
            screenshot(page, f"page_{title}_{backend_name}")
        assert visit.external_requests == [], visit.external_requests
        assert not [u for u in visit.failed_requests if "/_stcore/" not in u], visit.failed_requests
