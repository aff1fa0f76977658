"""Sign-in in headless Chromium against a freshly started server (the small city, SpatiaLite).

The first request after a server start is the one Streamlit would run in its old multipage
mode (a folder called pages/): it must still land on the sign-in form, not on the page asked for.
"""

from __future__ import annotations

import time

import pytest

from gis.people import auth

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people.permissions import Actor
from tests.browser import browser, chromium_available, screenshot, served_app, wait_for_streamlit, watch_requests
from tests.conftest import load_small_city

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

TOKEN = "auth-browser-token-0123456789abcdef"


@pytest.fixture(scope="module")
def small_sqlite(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('authbrowser') / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "leader", "领导", "leader-password")
    auth.add_user(engine, Actor.system(), "admin", "管理员", "admin-password")
    return url


def _settle(page, seconds: float = 2.0) -> None:
    wait_for_streamlit(page)
    time.sleep(seconds)
    wait_for_streamlit(page)


def _sign_in(page, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    _settle(page)


def test_first_request_lands_on_sign_in_then_roles_decide_the_pages(small_sqlite):
    with served_app(small_sqlite, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base, browser(1400, 900) as page:
        visit = watch_requests(page)
        page.goto(f"{base}/overview")  # the very first request of this server
        page.wait_for_selector("text=创城网格地图 · 登录", timeout=60_000)
        _settle(page)
        body = page.inner_text("body")
        assert "问题总数" not in body and not page.query_selector('iframe[title="streamlit_folium.st_folium"]')
        assert "gate" not in body and "ui" not in body.split()  # no old-style page list in the sidebar
        _sign_in(page, "leader", "wrong-password")
        assert "用户名或密码错误" in page.inner_text("body")
        _sign_in(page, "leader", "leader-password")
        page.wait_for_selector("text=问题总数", timeout=60_000)
        sidebar = page.inner_text('[data-testid="stSidebar"]')
        assert "leader（领导）" in sidebar and "退出登录" in sidebar and "系统管理" not in sidebar
        screenshot(page, "auth_leader_signed_in")
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_selector("text=创城网格地图 · 登录", timeout=30_000)

        _sign_in(page, "admin", "admin-password")
        page.wait_for_selector('[data-testid="stSidebar"] >> text=系统管理', timeout=60_000)
        page.get_by_text("系统管理").first.click()
        page.wait_for_selector("text=审计日志", timeout=60_000)
        _settle(page)
        screenshot(page, "auth_admin_page")
        assert visit.external_requests == []


def test_kiosk_url_shows_only_the_wall(small_sqlite):
    with served_app(small_sqlite, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base, browser(1400, 900) as page:
        page.goto(f"{base}/admin?kiosk={TOKEN}")
        page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=60_000)
        _settle(page)
        body = page.inner_text("body")
        assert "系统管理" not in body and "退出登录" not in body and "登录" not in body.split()
        assert not page.query_selector('[data-testid="stSidebarNav"]')
        page.goto(f"{base}/?kiosk=not-a-valid-token-at-all")
        page.wait_for_selector("text=创城网格地图 · 登录", timeout=60_000)
        # the refusal is rendered just after the title: wait for it rather than read the page at once
        page.get_by_text("令牌无效").first.wait_for(timeout=30_000)
        assert not page.query_selector('[data-testid="stSidebarNav"]')
