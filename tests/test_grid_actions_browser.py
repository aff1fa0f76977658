"""网格详情 in headless Chromium, as a grid manager and a verifier use it (issue 16, items 6, 8, 9):
the 网格长 lands on their own grid; after 派遣, 提交整改, 退回 and 核查通过 the outcome appears beside the
button pressed, on the screen the user was looking at; 下载台账 then 下载图层 at once both download,
five times out of five; a phone-width screenshot of the grid page (for the README: make docs-screenshots).
"""

from __future__ import annotations

import time

import pytest

from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import (
    WAIT_MS,
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
PASSWORD = "Grid-Actions-2026!"
NEAR_PX = 420  # the outcome is drawn within this distance of where the pressed button was (under half a screen)


def _users(engine) -> str:
    auth.add_user(engine, Actor.system(), "chief01", "网格长", PASSWORD, grid_code="T-01", display_name="周杰")
    auth.add_user(engine, Actor.system(), "check01", "核查员", PASSWORD, display_name="李核查")
    return engine.url.render_as_string(hide_password=False)


def _open_problem(page, base: str, code: str, username: str) -> None:
    open_app(page, f"{base}/grid?grid=T-01&problem={code}")
    sign_in(page, username, PASSWORD)  # the deep link survives sign-in
    page.get_by_role("heading", name=f"问题 {code}", exact=True).wait_for()
    wait_for_streamlit(page)


def _press(page, action: str, message: str, note: tuple[str, str] | None = None) -> None:
    """Scroll to the action's button, press it, and check where its outcome appears: in the same column,
    within NEAR_PX of the button (in the place of the pressed form, or of the forms gone with it), on the
    same screen: where the user is looking. The page's scrollTop is not compared: when a part above the
    button is redrawn taller (the map, on a busy machine), Chromium's scroll anchoring moves scrollTop to
    keep the view still, which the user does not see as a jump; what they see is checked instead."""
    button = page.get_by_role("button", name=action, exact=True)
    if note:
        page.get_by_label(note[0], exact=True).fill(note[1])
    button.scroll_into_view_if_needed()
    wait_for_streamlit(page)
    pressed = button.bounding_box()
    viewport = page.viewport_size["height"]
    assert pressed is not None and 0 <= pressed["y"] <= viewport
    click_and_rerun(page, button)
    shown = page.get_by_text(message, exact=True)
    shown.wait_for()
    wait_for_streamlit(page)
    after = shown.bounding_box()
    assert after is not None, message
    assert 0 <= after["y"] and after["y"] + after["height"] <= viewport, (after, viewport)  # on the same screen
    assert abs(after["x"] - pressed["x"]) <= 40, (action, pressed, after)  # the actions' column
    assert abs(after["y"] - pressed["y"]) <= NEAR_PX, (action, pressed, after)


def _sign_out(page) -> None:
    click_and_rerun(page, page.get_by_role("button", name="退出登录", exact=True))
    page.get_by_label("用户名", exact=True).wait_for()


def test_outcome_beside_the_button(city_rw, backend_name):
    url = _users(city_rw)
    with served_app(url) as base, browser(1920, 1080) as page:
        visit = watch_requests(page)
        _open_problem(page, base, "WT04", "chief01")
        _press(page, "派遣", "问题 WT04 已派遣。")
        _press(page, "提交整改", "问题 WT04 已提交整改。", note=("整改说明", "已清理烧烤摊点"))
        _sign_out(page)
        _open_problem(page, base, "WT04", "check01")
        _press(page, "退回", "问题 WT04 已退回。", note=("退回原因（返工）", "油污未清理"))
        _open_problem_again(page, "WT05")
        _press(page, "核查通过", "问题 WT05 已核查通过。")
        assert visit.external_requests == []


def _open_problem_again(page, code: str) -> None:
    """Open another problem of the grid the way a user does: its code in 打开问题 (a reload would sign out)."""
    box = page.get_by_label("打开问题", exact=True)
    box.fill(code)
    click_and_rerun(page, lambda: box.press("Enter"))
    page.get_by_role("heading", name=f"问题 {code}", exact=True).wait_for()
    wait_for_streamlit(page)


def _wait_for(predicate, what: str, timeout_ms: int = WAIT_MS, page=None) -> None:
    """Poll `predicate` (letting Playwright deliver its events) until it holds."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(50)  # a poll interval: Playwright's events arrive while it waits


def test_both_downloads_every_time(city_rw, backend_name):
    url = _users(city_rw)
    with served_app(url) as base, browser(1920, 1080) as page:
        open_app(page, f"{base}/grid")
        sign_in(page, "chief01", PASSWORD)
        page.get_by_role("heading", name="网格详情 · T-01", exact=True).wait_for()  # item 6: their own grid
        assert "grid=T-01" in page.url
        wait_for_streamlit(page)
        got = []
        page.on("download", lambda d: got.append(d))
        xlsx = page.get_by_role("button", name="下载台账（Excel）", exact=True)
        gpkg = page.get_by_role("button", name="下载图层（GeoPackage）", exact=True)
        for n in range(1, 6):
            xlsx.click()
            gpkg.click()  # soon after: the first download is still being made
            _wait_for(lambda: len(got) >= 2 * n, f"downloads of round {n}", page=page)
            wait_for_streamlit(page)
        assert len(got) == 10
        names = [d.suggested_filename for d in got]
        assert sorted(names) == sorted(["T-01_问题台账_20261121.xlsx", "T-01_图层_20261121.gpkg"] * 5), names
        for d in got:
            assert d.failure() is None and d.path().stat().st_size > 1000, d.suggested_filename


def test_grid_page_at_phone_width(city_rw, backend_name):
    """The README's phone-width grid page: a 网格长 signs in at 390×844 and lands on their grid."""
    url = _users(city_rw)
    with served_app(url) as base, browser(390, 844) as page:
        visit = watch_requests(page)
        open_app(page, f"{base}/grid")
        sign_in(page, "chief01", PASSWORD)
        page.get_by_role("heading", name="网格详情 · T-01", exact=True).wait_for()
        map_frame(page)
        wait_for_streamlit(page)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the phone"
        screenshot(page, f"grid_phone_390_{backend_name}")
        assert visit.external_requests == []
