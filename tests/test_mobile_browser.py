"""移动巡查 at 390×844 in headless Chromium: a grid worker reports a problem with a photo carrying
EXIF GPS (相册 of pages/field_capture.py), finds it among the grid's open problems and the wall's
heat map (1920×1080, kiosk) counts it; 我的位置 from the browser's geolocation, denied then granted;
an inspector records a point's inspection and the grid's score moves. No English on the page, no
request leaves the machine. The screenshots (tests/screenshots/, gitignored) are the README's
(`make docs-screenshots`)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gis.db.models import Problem, ProblemEvent
from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import (
    WAIT_MS,
    _IDLE,
    _RUN_COUNTER,
    browser,
    chromium_available,
    click_and_rerun,
    map_frame,
    screenshot,
    served_app,
    wait_for_streamlit,
    watch_requests,
)
from tests.photo_files import jpeg_with_gps

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="no Chromium")]
PASSWORD = "Mobile-Browser-2026!"
PHONE = (390, 844)
ENV = {"GRIDMAP_NOW": "2026-11-25T10:00:00"}  # every point of the small city is then 10 days unvisited
ENGLISH = re.compile(r"Drag and drop|Browse files|per file|Limit|Upload|Take Photo")
CAPTURE = 'iframe[title$="field_capture"]'  # pages/field_capture.py: 我的位置 / 拍照 / 相册
# The small map shows one shape of each stroke colour given (and no other): the point, the accuracy circle, the grid.
ON_MAP = """colors => { const drawn = [...document.querySelectorAll('path.leaflet-interactive')].map(p => p.getAttribute('stroke'));
  return drawn.length === colors.length && colors.every(c => drawn.filter(d => d === c).length === 1); }"""
KIOSK_TOKEN = "mobile-wall-token-0123456789abcdef"


def sign_in(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("heading", name="移动巡查").wait_for(timeout=WAIT_MS)
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


def capture_frame(page):
    """The 我的位置 / 拍照 / 相册 component's frame, once its buttons are drawn."""
    frame = page.wait_for_selector(CAPTURE).content_frame()
    frame.get_by_role("button", name="我的位置", exact=True).wait_for()
    return frame


def no_english_in(frame, *allowed: str) -> None:
    """The component's visible text has no English word (a file name the user chose, units and format names aside)."""
    text = frame.locator("body").inner_text()
    for word in allowed:
        text = text.replace(word, "")
    assert not set(re.findall(r"[A-Za-z]{2,}", text)) - {"MB", "JPEG", "PNG", "https"}, text


def open_wall(page, base: str):
    """The wall at 1920×1080 in kiosk mode, heat view, in a second browser window; returns (page, count reader)."""
    context = page.context.browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.add_init_script(_RUN_COUNTER)
    context.set_default_timeout(WAIT_MS)
    wall = context.new_page()
    wall.goto(f"{base}/wall?kiosk={KIOSK_TOKEN}&view=heat")
    wall.wait_for_function(_IDLE, polling=100)
    note = wall.get_by_text(re.compile(r"^未结案问题 [\d,]+ 件"))
    note.wait_for()
    return wall, lambda: int(re.search(r"未结案问题 ([\d,]+) 件", note.inner_text()).group(1).replace(",", ""))


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


def test_grid_worker_reports_with_exif_gps_and_the_wall_counts_it(city_rw, backend_name, tmp_path):
    auth.add_user(city_rw, Actor.system(), "wk01", "网格员", PASSWORD, grid_code="T-01")
    url = city_rw.url.render_as_string(hide_password=False)
    env = {**ENV, "GRIDMAP_UPLOAD_DIR": str(tmp_path), "GRIDMAP_KIOSK_TOKENS": KIOSK_TOKEN, "GRIDMAP_WALL_REFRESH": "5"}
    with served_app(url, env) as base, browser(*PHONE) as page:
        visit = watch_requests(page)
        wall, wall_count = open_wall(page, base)  # the command centre's screen, open before the report
        before = wall_count()
        page.goto(base + "/mobile")
        wait_for_streamlit(page)
        sign_in(page, "wk01")
        # the capture component sends its first value once drawn: the rerun it starts is over before we type
        capture_frame(page)
        wait_for_streamlit(page)
        # a failed report keeps what was filled in
        page.get_by_label("问题描述").fill("阳光小区东门垃圾桶满溢")
        click_and_rerun(page, page.get_by_role("button", name="上报", exact=True))
        page.get_by_text("请选择问题类型。").wait_for(timeout=WAIT_MS)
        assert page.get_by_label("问题描述").input_value() == "阳光小区东门垃圾桶满溢"
        frame = capture_frame(page)
        no_english_in(frame)
        assert frame.locator("#camera").get_attribute("capture") == "environment"  # 拍照 opens the camera
        frame.locator("#gallery").set_input_files(
            files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(115.984, 36.446)}])
        frame.get_by_text(re.compile(r"已选照片“现场\.jpg”")).wait_for()
        page.get_by_text(re.compile(r"位置（照片自带定位）.*网格 T-01.*阳光小区.*古楼街道办事处")).wait_for()
        page.get_by_text("现场照片：现场.jpg", exact=True).wait_for()  # the photo as it will be stored
        wait_for_streamlit(page)
        map_frame(page).wait_for_function(ON_MAP, arg=["#d32f2f", "#1e293b"])  # the point, in grid T-01's outline
        choose(page, "问题类型（整改时限）", "暴露垃圾（4 自然时）")
        no_english(page)
        no_english_in(frame, "现场.jpg")
        screenshot(page, f"mobile_report_{backend_name}")
        page.get_by_role("button", name="上报", exact=True).click()
        done = page.get_by_text(re.compile(r"已上报 WT202611\d+（网格 T-01，待派遣）"))
        done.wait_for(timeout=WAIT_MS)
        code = re.search(r"WT202611\d+", done.inner_text()).group(0)
        wait_for_streamlit(page)
        expect(page.get_by_label("问题描述")).to_have_count(1)  # the old form goes once the rerun lands
        expect(page.get_by_label("问题描述")).to_have_value("")  # a fresh form for the next one
        expect(capture_frame(page).locator("#photo-msg")).to_have_text("")  # and fresh buttons
        page.get_by_role("tab", name="我的待办").click()
        page.get_by_text(re.compile(rf"{code} · 暴露垃圾 · 待派遣")).wait_for(timeout=WAIT_MS)
        page.locator(f".st-key-m_do_{code} button").get_by_text("派遣", exact=True).wait_for(timeout=WAIT_MS)
        no_english(page)  # the 整改照片 uploaders of this tab, empty
        screenshot(page, f"mobile_todo_{backend_name}")
        # the wall refreshes itself (GRIDMAP_WALL_REFRESH=5 s): its heat map counts one more open problem
        wall.wait_for_function("n => [...document.querySelectorAll('.gm-note')].some("
                               "e => e.innerText.startsWith(`未结案问题 ${n} 件`))", arg=f"{before + 1:,}", polling=200)
        assert wall_count() == before + 1
        screenshot(wall, f"mobile_wall_heat_{backend_name}")
        assert visit.external_requests == []
    with city_rw.connect() as conn:
        p = Problem.__table__
        row = conn.execute(select(p.c.status, p.c.source, p.c.lon, p.c.lat).where(p.c.code == code)).one()
        shots = conn.execute(select(ProblemEvent.photo_path).join(Problem, Problem.id == ProblemEvent.problem_id)
                             .where(Problem.code == code, ProblemEvent.photo_path.is_not(None))).scalars().all()
    assert row[:2] == ("待派遣", "网格员巡查") and abs(row[2] - 115.984) < 1e-6 and abs(row[3] - 36.446) < 1e-6
    assert len(shots) == 1 and (tmp_path / shots[0]).is_file()  # the photo came through the component, stored


def test_my_location_denied_then_granted_and_photos_refused(city_rw, backend_name, tmp_path):
    auth.add_user(city_rw, Actor.system(), "wk02", "网格员", PASSWORD, grid_code="T-01")
    url = city_rw.url.render_as_string(hide_password=False)
    with served_app(url, {**ENV, "GRIDMAP_UPLOAD_DIR": str(tmp_path)}) as base, browser(*PHONE) as page:
        visit = watch_requests(page)
        page.goto(base + "/mobile")
        wait_for_streamlit(page)
        sign_in(page, "wk02")
        frame = capture_frame(page)
        page.get_by_label("问题描述").fill("双井街路面垃圾")
        # photos refused on the phone (too large, not an image) and on the server (not decodable), in Chinese
        gallery = frame.locator("#gallery")
        gallery.set_input_files(files=[{"name": "大.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (11 << 20)}])
        frame.get_by_text("照片“大.jpg”有 11.0 MB，超过上限 10.0 MB：请重新拍摄或选择较小的照片。", exact=True).wait_for()
        gallery.set_input_files(files=[{"name": "说明.txt", "mimeType": "text/plain", "buffer": "巡查记录".encode()}])
        frame.get_by_text("“说明.txt”不是图片：请拍照或选择 JPEG / PNG 照片。", exact=True).wait_for()
        no_english_in(frame, "大.jpg", "说明.txt")
        gallery.set_input_files(files=[{"name": "坏.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"}])
        page.get_by_text("照片“坏.jpg”不是 JPEG 或 PNG 图片，无法识别。", exact=True).wait_for()
        wait_for_streamlit(page)
        assert page.get_by_label("问题描述").input_value() == "双井街路面垃圾"  # the form keeps what was filled in
        frame.get_by_role("button", name="移除照片", exact=True).click()
        expect(page.get_by_text("照片“坏.jpg”不是 JPEG 或 PNG 图片，无法识别。", exact=True)).to_have_count(0)
        expect(frame.get_by_role("button", name="移除照片", exact=True)).to_be_hidden()
        locate = frame.get_by_role("button", name="我的位置", exact=True)
        locate.click()  # no permission given: the browser refuses
        frame.get_by_text(re.compile(r"^未获得定位权限：请在浏览器或手机设置中允许本网站使用位置信息")).wait_for()
        no_english_in(frame)
        page.get_by_text("位置：点“我的位置”定位，或用带定位的照片，或在地图上点选、填写经纬度。", exact=True).wait_for()
        page.context.grant_permissions(["geolocation"], origin=base)
        page.context.set_geolocation({"longitude": 115.9855, "latitude": 36.4431, "accuracy": 15})
        locate.click()
        frame.get_by_text("已定位（精度约 15 米），位置见下方地图。", exact=True).wait_for()
        shown = page.get_by_text(re.compile(r"^位置（我的位置）：115\.985500, 36\.443100 · 网格 T-01 .* · 小区 — "
                                            r"· 街巷 双井街 · 城中村 — · 责任单位 古楼街道办事处$"))
        shown.wait_for()
        wait_for_streamlit(page)
        # on the map: the point, the circle of the phone's accuracy, the outline of grid T-01
        map_frame(page).wait_for_function(ON_MAP, arg=["#d32f2f", "#1976d2", "#1e293b"])
        no_english(page)
        no_english_in(frame)
        screenshot(page, f"mobile_locate_{backend_name}")
        # a tap on the map overrides the fix; a new fix overrides the tap (and the old tap does not come back)
        click_and_rerun(page, map_frame(page).locator(".leaflet-container"), position={"x": 300, "y": 60})
        page.get_by_text(re.compile(r"位置（地图点选）")).wait_for()
        click_and_rerun(page, locate)
        shown.wait_for()
        wait_for_streamlit(page)
        map_frame(page).wait_for_function(ON_MAP, arg=["#d32f2f", "#1976d2", "#1e293b"])
        choose(page, "问题类型（整改时限）", "暴露垃圾（4 自然时）")
        assert page.get_by_label("问题描述").input_value() == "双井街路面垃圾"
        page.get_by_role("button", name="上报", exact=True).click()
        done = page.get_by_text(re.compile(r"已上报 WT202611\d+（网格 T-01，待派遣）"))
        done.wait_for()
        code = re.search(r"WT202611\d+", done.inner_text()).group(0)
        assert visit.external_requests == []
    with city_rw.connect() as conn:
        p = Problem.__table__
        row = conn.execute(select(p.c.lon, p.c.lat).where(p.c.code == code)).one()
    assert abs(row[0] - 115.9855) < 1e-6 and abs(row[1] - 36.4431) < 1e-6


def test_inspector_records_an_inspection_and_the_score_moves(city_rw, backend_name, tmp_path):
    auth.add_user(city_rw, Actor.system(), "insp01", "核查员", PASSWORD)
    url = city_rw.url.render_as_string(hide_password=False)
    env = {**ENV, "GRIDMAP_UPLOAD_DIR": str(tmp_path)}
    with served_app(url, env) as base, browser(*PHONE) as page:
        page.goto(base + "/mobile")
        wait_for_streamlit(page)
        sign_in(page, "insp01")
        page.get_by_role("tab", name="今日巡查").click()
        page.get_by_role("heading", name="测评录入").wait_for(timeout=WAIT_MS)
        choose(page, "点位", "DW-0002 双井街")
        std = page.locator('[data-testid="stRadio"]')
        std.filter(has_text="1.2.1").get_by_text("达标", exact=True).click()
        wait_for_streamlit(page)
        std.filter(has_text="9.1.1").get_by_text("不达标", exact=True).click()
        wait_for_streamlit(page)
        page.get_by_role("button", name="保存测评", exact=True).click()
        page.get_by_text(re.compile(r"不达标，请拍照留证")).wait_for(timeout=WAIT_MS)
        page.locator('input[type="file"]').last.set_input_files(
            files=[{"name": "烧烤.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(115.985, 36.443)}])
        page.get_by_text("烧烤.jpg", exact=True).wait_for()  # the upload is over (a save before it has no photo)
        wait_for_streamlit(page)
        no_english(page)
        click_and_rerun(page, page.get_by_role("button", name="保存测评", exact=True))
        saved = page.get_by_text(re.compile(r"已保存 DW-0002 的 2 项测评。网格 T-01 本月综合得分 [\d.]+ → [\d.]+"))
        saved.wait_for(timeout=WAIT_MS)
        before, after = re.findall(r"([\d.]+) → ([\d.]+)", saved.inner_text())[0]
        assert float(after) != float(before)
        screenshot(page, f"mobile_inspect_{backend_name}")
