"""移动巡查 at 390×844 in headless Chromium: a grid worker reports a problem with a photo carrying
EXIF GPS and finds it among the grid's open problems; an inspector records a point's inspection
and the grid's score moves. No English on the page, no request leaves the machine."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gis.db.models import Problem
from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import browser, chromium_available, screenshot, served_app, wait_for_streamlit, watch_requests
from tests.photo_files import jpeg_with_gps

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="no Chromium")]
PASSWORD = "Mobile-Browser-2026!"
PHONE = (390, 844)
ENV = {"GRIDMAP_NOW": "2026-11-25T10:00:00"}  # every point of the small city is then 10 days unvisited
ENGLISH = re.compile(r"Drag and drop|Browse files|per file|Limit|Upload|Take Photo")


def sign_in(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("heading", name="移动巡查").wait_for(timeout=60_000)
    wait_for_streamlit(page)


def no_english(page) -> None:
    """The uploader's English is hidden (display:none) or drawn at 0 px (its button says 选择照片)."""
    for text in ("Drag and drop file here", "Limit 10MB per file • JPG, JPEG, PNG, WEBP"):
        loc = page.get_by_text(text)
        assert all(not loc.nth(i).is_visible() for i in range(loc.count())), text
    for button in page.locator('[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"]').all():
        assert button.evaluate("b => getComputedStyle(b).fontSize") == "0px"
        assert button.evaluate("b => getComputedStyle(b, '::after').content") == '"选择照片"'
    shown = page.locator('[data-testid="stMain"]').evaluate(
        """m => [...m.querySelectorAll('*')].filter(e => e.children.length === 0 && e.offsetParent !== null
               && parseFloat(getComputedStyle(e).fontSize) > 0).map(e => e.innerText).join('\\n')""")
    assert not ENGLISH.search(shown), ENGLISH.search(shown)


def choose(page, label: str, option: str) -> None:
    """Pick `option` of select box `label`; a rerun landing while the list is open closes it: open it again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(5):
        wait_for_streamlit(page)
        page.get_by_label(label).click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"could not choose {option} in {label}")
    wait_for_streamlit(page)


def test_grid_worker_reports_with_exif_gps(city_rw, backend_name, tmp_path):
    auth.add_user(city_rw, Actor.system(), "wk01", "网格员", PASSWORD, grid_code="T-01")
    url = city_rw.url.render_as_string(hide_password=False)
    env = {**ENV, "GRIDMAP_UPLOAD_DIR": str(tmp_path)}
    with served_app(url, env) as base, browser(*PHONE) as page:
        visit = watch_requests(page)
        page.goto(base + "/mobile")
        wait_for_streamlit(page)
        sign_in(page, "wk01")
        # a failed report keeps what was filled in
        page.get_by_label("问题描述").fill("阳光小区东门垃圾桶满溢")
        page.get_by_role("button", name="上报", exact=True).click()
        page.get_by_text("请选择问题类型。").wait_for(timeout=30_000)
        assert page.get_by_label("问题描述").input_value() == "阳光小区东门垃圾桶满溢"
        page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(115.984, 36.446)}])
        page.get_by_text(re.compile(r"位置（照片自带定位）.*网格 T-01.*阳光小区.*古楼街道办事处")).wait_for(timeout=30_000)
        wait_for_streamlit(page)
        choose(page, "问题类型（整改时限）", "暴露垃圾（4 自然时）")
        no_english(page)
        screenshot(page, f"mobile_report_{backend_name}")
        page.get_by_role("button", name="上报", exact=True).click()
        done = page.get_by_text(re.compile(r"已上报 WT202611\d+（网格 T-01，待派遣）"))
        done.wait_for(timeout=30_000)
        code = re.search(r"WT202611\d+", done.inner_text()).group(0)
        wait_for_streamlit(page)
        expect(page.get_by_label("问题描述")).to_have_count(1)  # the old form goes once the rerun lands
        expect(page.get_by_label("问题描述")).to_have_value("")  # a fresh form for the next one
        page.get_by_role("tab", name="我的待办").click()
        page.get_by_text(re.compile(rf"{code} · 暴露垃圾 · 待派遣")).wait_for(timeout=30_000)
        page.locator(f".st-key-m_do_{code} button").get_by_text("派遣", exact=True).wait_for(timeout=30_000)
        no_english(page)  # the 整改照片 uploaders of this tab, empty
        screenshot(page, f"mobile_todo_{backend_name}")
        assert visit.external_requests == []
    with city_rw.connect() as conn:
        p = Problem.__table__
        row = conn.execute(select(p.c.status, p.c.source, p.c.lon, p.c.lat).where(p.c.code == code)).one()
    assert row[:2] == ("待派遣", "网格员巡查") and abs(row[2] - 115.984) < 1e-6 and abs(row[3] - 36.446) < 1e-6


def test_inspector_records_an_inspection_and_the_score_moves(city_rw, backend_name, tmp_path):
    auth.add_user(city_rw, Actor.system(), "insp01", "核查员", PASSWORD)
    url = city_rw.url.render_as_string(hide_password=False)
    env = {**ENV, "GRIDMAP_UPLOAD_DIR": str(tmp_path)}
    with served_app(url, env) as base, browser(*PHONE) as page:
        page.goto(base + "/mobile")
        wait_for_streamlit(page)
        sign_in(page, "insp01")
        page.get_by_role("tab", name="今日巡查").click()
        page.get_by_role("heading", name="测评录入").wait_for(timeout=30_000)
        choose(page, "点位", "DW-0002 双井街")
        std = page.locator('[data-testid="stRadio"]')
        std.filter(has_text="1.2.1").get_by_text("达标", exact=True).click()
        wait_for_streamlit(page)
        std.filter(has_text="9.1.1").get_by_text("不达标", exact=True).click()
        wait_for_streamlit(page)
        page.get_by_role("button", name="保存测评", exact=True).click()
        page.get_by_text(re.compile(r"不达标，请拍照留证")).wait_for(timeout=30_000)
        page.locator('input[type="file"]').last.set_input_files(
            files=[{"name": "烧烤.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(115.985, 36.443)}])
        wait_for_streamlit(page)
        no_english(page)
        page.get_by_role("button", name="保存测评", exact=True).click()
        saved = page.get_by_text(re.compile(r"已保存 DW-0002 的 2 项测评。网格 T-01 本月综合得分 [\d.]+ → [\d.]+"))
        saved.wait_for(timeout=30_000)
        before, after = re.findall(r"([\d.]+) → ([\d.]+)", saved.inner_text())[0]
        assert float(after) != float(before)
        screenshot(page, f"mobile_inspect_{backend_name}")
