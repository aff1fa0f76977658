"""Sign-in in headless Chromium against a freshly started server (the small city, SpatiaLite).

The first request after a server start is the one Streamlit would run in its old multipage
mode (a folder called pages/): it must still land on the sign-in form, not on the page asked for.
"""

from __future__ import annotations

import pytest

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import (
    browser,
    chromium_available,
    click_and_rerun,
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

TOKEN = "auth-browser-token-0123456789abcdef"
LOGIN_TITLE = "创城网格地图 · 登录"


@pytest.fixture(scope="module")
def small_sqlite(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('authbrowser') / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "leader", "领导", "leader-password")
    auth.add_user(engine, Actor.system(), "admin", "管理员", "admin-password")
    return url


def _on_login_page(page) -> None:
    page.get_by_role("heading", name=LOGIN_TITLE, exact=True).wait_for()
    wait_for_streamlit(page)


def test_first_request_lands_on_sign_in_then_roles_decide_the_pages(small_sqlite):
    with served_app(small_sqlite, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base, browser(1400, 900) as page:
        visit = watch_requests(page)
        open_app(page, f"{base}/")  # the very first request of this server
        _on_login_page(page)
        body = page.inner_text("body")
        assert "问题总数" not in body and not page.query_selector('iframe[title="streamlit_folium.st_folium"]')
        assert "gate" not in body and "ui" not in body.split()  # no old-style page list in the sidebar

        sign_in(page, "leader", "wrong-password")
        page.get_by_text("用户名或密码错误", exact=False).wait_for()
        _on_login_page(page)

        sign_in(page, "leader", "leader-password")
        page.get_by_text("问题总数", exact=True).first.wait_for()
        wait_for_streamlit(page)
        sidebar = page.inner_text('[data-testid="stSidebar"]')
        assert "leader（领导）" in sidebar and "退出登录" in sidebar and "系统管理" not in sidebar
        screenshot(page, "auth_leader_signed_in")
        click_and_rerun(page, page.get_by_role("button", name="退出登录", exact=True))
        _on_login_page(page)
        assert page.get_by_role("button", name="退出登录", exact=True).count() == 0  # nothing stale left

        sign_in(page, "admin", "admin-password")
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text("系统管理", exact=True).wait_for()
        click_and_rerun(page, nav.get_by_text("系统管理", exact=True))
        page.get_by_role("tab", name="审计日志", exact=True).wait_for()
        wait_for_streamlit(page)
        screenshot(page, "auth_admin_page")
        assert visit.external_requests == []


def test_kiosk_url_shows_only_the_wall(small_sqlite):
    with served_app(small_sqlite, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base, browser(1400, 900) as page:
        open_app(page, f"{base}/admin?kiosk={TOKEN}")
        page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]')
        wait_for_streamlit(page)
        body = page.inner_text("body")
        assert "系统管理" not in body and "退出登录" not in body and "登录" not in body.split()
        assert not page.query_selector('[data-testid="stSidebarNav"]')
        open_app(page, f"{base}/?kiosk=not-a-valid-token-at-all")
        _on_login_page(page)
        page.get_by_text("令牌无效", exact=False).first.wait_for()
        assert not page.query_selector('[data-testid="stSidebarNav"]')
