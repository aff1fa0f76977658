"""Every page in headless Chromium, as an administrator would open them from the sidebar:
each renders without an error box, and no request ever leaves 127.0.0.1 (closed intranet)."""

from __future__ import annotations

import pytest

from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import browser, chromium_available, screenshot, served_app, wait_for_streamlit, watch_requests

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="no Chromium")]
PASSWORD = "Pages-Browser-2026!"
# Sidebar title → something each page shows once it has rendered.
PAGES = {"总览": "创城网格地图", "网格详情": "网格详情", "领导大屏": "领导大屏", "网格规划": "网格规划",
         "系统管理": "系统管理", "数据管理": "数据管理", "移动巡查": "移动巡查"}


def test_every_page_renders_offline(city_rw, backend_name):
    auth.add_user(city_rw, Actor.system(), "admin01", "管理员", PASSWORD)
    url = city_rw.url.render_as_string(hide_password=False)
    with served_app(url) as base, browser(1600, 1000) as page:
        visit = watch_requests(page)
        page.goto(base + "/")
        wait_for_streamlit(page)
        page.get_by_label("用户名").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # the first run after a start reruns once (pages/ui.py guard)
        page.get_by_label("用户名").fill("admin01")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_text("退出登录").wait_for(timeout=60_000)
        for title, marker in PAGES.items():
            page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
            page.get_by_text(marker).first.wait_for(timeout=90_000)
            wait_for_streamlit(page)
            page.wait_for_timeout(1500)
            assert page.locator('[data-testid="stException"]').count() == 0, f"{title}: an exception is shown"
            screenshot(page, f"page_{marker}_{backend_name}")
        assert visit.external_requests == [], visit.external_requests
        assert not [u for u in visit.failed_requests if "/_stcore/" not in u], visit.failed_requests
