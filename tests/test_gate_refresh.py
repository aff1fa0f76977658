"""Issue 11 §2: the wall's timed refresh re-checks the session (Chromium against a served app).

The wall's body is an ``st.fragment(run_every=…)``: its refreshes skip app.py and so the gate.
Before the fix a leader disabled by an administrator kept receiving ~133 phone numbers per refresh,
and a session past its idle limit was still served. Now `pages.gate.recheck()` runs first in every
refresh: a disabled user, an idle session or a revoked kiosk token gets the sign-in form, no data.
"""

from __future__ import annotations

import pytest

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people import auth, kiosk
from gis.people.permissions import Actor
from tests.browser import WAIT_MS, browser, chromium_available, served_app, wait_for_streamlit
from tests.conftest import load_small_city

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

REFRESH = {"GRIDMAP_WALL_REFRESH": "5"}
WALL_DATA = ("红榜", "1390635")


@pytest.fixture
def site(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "leader", "领导", "leader-password")
    return url


def _open_wall_signed_in(page, base: str) -> None:
    page.goto(f"{base}/wall")
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill("leader-password")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("红榜 · 前十").first.wait_for(timeout=WAIT_MS)
    wait_for_streamlit(page, timeout_ms=WAIT_MS)


def _assert_signed_out(page, message: str) -> None:
    page.get_by_text(message).first.wait_for(timeout=WAIT_MS)  # no click: only the timed refresh can do this
    wait_for_streamlit(page, timeout_ms=WAIT_MS)
    page.get_by_label("用户名").wait_for(timeout=WAIT_MS)
    body = page.inner_text("body")
    assert not [d for d in WALL_DATA if d in body]
    assert page.locator('iframe[title="streamlit_folium.st_folium"]').count() == 0


def test_a_disabled_leader_loses_the_wall_at_the_next_refresh(site):
    with served_app(site, env=REFRESH) as base, browser(1600, 1000) as page:
        _open_wall_signed_in(page, base)
        auth.set_disabled(get_engine(site), Actor.system(), "leader", True)
        _assert_signed_out(page, "账户已停用，请联系管理员。")


def test_an_idle_session_ends_at_a_refresh_even_with_the_wall_open(site):
    with served_app(site, env={**REFRESH, "GRIDMAP_SESSION_IDLE_MINUTES": "0.25"}) as base, \
            browser(1600, 1000) as page:
        _open_wall_signed_in(page, base)
        _assert_signed_out(page, "超过 0.25 分钟未操作，已自动退出，请重新登录。")


def test_a_revoked_kiosk_token_ends_the_wall_at_the_next_refresh(site):
    engine = get_engine(site)
    token = kiosk.create(engine, Actor.system(), "测试大屏")
    with served_app(site, env=REFRESH) as base, browser(1920, 1080) as page:
        page.goto(f"{base}/wall?kiosk={token}")
        page.get_by_text("红榜 · 前十").first.wait_for(timeout=WAIT_MS)
        kiosk.revoke(engine, Actor.system(), "测试大屏")
        _assert_signed_out(page, "大屏令牌无效或已撤销，请登录。")
