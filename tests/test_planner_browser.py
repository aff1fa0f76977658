"""网格规划 as a planner uses it, in headless Chromium at 1920×1080 (issue 16, items 11 and 14–17).

- 修改边界 → a grid → ✎: the grid shows vertex handles; one dragged and 保存 reaches the working copy.
- 修改边界 → a grid → a polygon drawn inside it: it becomes the grid's new boundary, the rest a gap that
  the check marks and the impact counts (the page says so beforehand).
- 上传边界文件 with T-01's corner moved: the overlaps, every grid gaining or losing area in 调整影响,
  “消除重叠” making the neighbours give way; then saved, published, and the version picker's labels.
- The Leaflet.draw toolbar speaks Chinese.
Every step waits for a condition (the app idle, a text, the draw tool's own state), never for a fixed time.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people import auth
from gis.people.permissions import Actor
from tests import smallcity as sc
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
from tests.conftest import load_small_city
from tests.test_planning_browser import _draw_square

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

PASSWORD = "Plan-2026-edit!"
ENGLISH_DRAW = re.compile(r"Draw a|Edit layers|No layers|Save changes|Cancel|Delete layers|Click ")

# The Leaflet map of the st_folium iframe, and the vertex handle of the edit tool nearest to (lat, lng):
# its centre in the iframe's coordinates.
HANDLE_NEAR = """([lat, lng]) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  let best = null;
  map.eachLayer(l => {
    if (l instanceof L.Marker && l._icon && l._icon.classList.contains('leaflet-editing-icon')) {
      const p = l.getLatLng(), d = Math.hypot(p.lat - lat, p.lng - lng);
      if (!best || d < best.d) { const r = l._icon.getBoundingClientRect(); best = {d, x: r.x + r.width / 2, y: r.y + r.height / 2}; }
    }
  });
  return best;
}"""
# The easternmost longitude of the polygons in the Draw plugin's group (the grid being edited).
EAST_EDGE = """() => Math.max(...window.drawnItems.getLayers().flatMap(l => l.getLatLngs().flat(2).map(p => p.lng)))"""


def _database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "planner1", "规划员", password=PASSWORD)
    return url


def _open_planner(page, base: str) -> None:
    open_app(page, f"{base}/planning")
    sign_in(page, "planner1", PASSWORD)
    page.get_by_role("heading", name="网格规划", exact=True).wait_for()
    wait_for_streamlit(page)


def _mode(page, name: str) -> None:
    click_and_rerun(page, page.get_by_text(name, exact=True))
    page.get_by_text(name, exact=True).wait_for()


def _map_text(page) -> str:
    frame = map_frame(page)
    return frame.evaluate("() => [...document.querySelectorAll('[title], .leaflet-draw-actions a')]"
                          ".map(e => (e.title || '') + ' ' + e.textContent).join('\\n')")


def test_edit_tool_shows_vertex_handles_and_a_dragged_vertex_reaches_the_draft(tmp_path):
    with served_app(_database(tmp_path)) as base, browser(1920, 1080) as page:
        visit = watch_requests(page)
        _open_planner(page, base)
        _mode(page, "修改边界")
        page.get_by_text("拖动网格边界上的白色方块（顶点），再点“保存”", exact=False).wait_for()
        frame = map_frame(page)
        frame.wait_for_selector(".leaflet-draw-edit-edit")
        # the toolbar speaks Chinese
        assert frame.get_attribute(".leaflet-draw-draw-polygon", "title") == "画多边形"
        assert frame.get_attribute(".leaflet-draw-edit-edit", "title") == "编辑边界顶点"
        frame.click(".leaflet-draw-edit-edit")
        frame.wait_for_function("() => document.querySelectorAll('.leaflet-editing-icon').length >= 4")
        frame.locator(".leaflet-draw-actions a").filter(has_text=re.compile("^保存$")).wait_for()
        toolbar = _map_text(page)
        assert "保存修改" in toolbar and "取消编辑，放弃所有修改" in toolbar
        assert not ENGLISH_DRAW.search(toolbar), toolbar
        # drag T-01's north-east corner (the city's centre) 80 px east
        origin = page.locator(MAP_IFRAME).bounding_box()
        handle = frame.evaluate(HANDLE_NEAR, [sc.MY, sc.MX])
        assert handle["d"] < 1e-6
        x, y = origin["x"] + handle["x"], origin["y"] + handle["y"]
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 40, y, steps=5)
        page.mouse.move(x + 80, y, steps=5)
        page.mouse.up()
        frame.wait_for_function(f"() => ({EAST_EDGE})() > {sc.MX + 0.0005}")
        moved_to = frame.evaluate(EAST_EDGE)
        screenshot(page, "planner_vertex_dragged")
        click_and_rerun(page, frame.locator(".leaflet-draw-actions a").filter(has_text=re.compile("^保存$")))
        page.get_by_text("已按拖动后的顶点修改网格 T-01 的边界", exact=False).wait_for()
        page.get_by_text("有未保存的修改", exact=False).wait_for()
        page.get_by_text("涉及网格 2 个（T-01、T-02）", exact=False).wait_for()
        wait_for_streamlit(page)
        text = page.inner_text("body")
    assert moved_to > sc.MX + 0.0005
    assert "工作副本与现行版本相同" not in text
    assert visit.external_requests == []


def test_a_polygon_drawn_inside_a_grid_becomes_its_boundary_and_the_rest_a_marked_gap(tmp_path):
    with served_app(_database(tmp_path)) as base, browser(1920, 1080) as page:
        _open_planner(page, base)
        _mode(page, "修改边界")
        # the page says beforehand what a drawing means here
        page.get_by_text("成为空隙，须划给相邻网格后才能发布", exact=False).wait_for()
        wait_for_streamlit(page)
        frame = map_frame(page)
        frame.wait_for_selector(".leaflet-draw-edit-edit")
        # the map is fitted to T-01 (1 km square): a square around the map's centre lies inside it
        first = _draw_square(page)
        click_and_rerun(page, lambda: page.mouse.click(*first))
        page.get_by_text("已用新画的多边形作为网格 T-01 的新边界", exact=False).wait_for()
        page.get_by_text("网格空隙", exact=False).first.wait_for()
        page.get_by_text("不再属于任何网格（空隙）", exact=False).wait_for()
        wait_for_streamlit(page)
        frame = map_frame(page)
        # the gap is shaded on the map and numbered; the map shows T-01's new (smaller) outline to edit
        frame.wait_for_function("() => document.querySelectorAll('.gm-issue').length >= 1")
        screenshot(page, "planner_drawn_inside")
        text = page.inner_text("body")
    said = re.search(r"已用新画的多边形作为网格 T-01 的新边界：面积 ([\d.,]+) → ([\d.,]+) 公顷", text)
    assert said and float(said.group(2).replace(",", "")) < float(said.group(1).replace(",", ""))
    assert "有错误，不能发布" in text
    assert "工作副本与现行版本相同" not in text


def _moved_corner_file(path) -> str:
    east, north = 150 / 89_560, 150 / 110_990  # T-01's north-east corner 150 m east and 150 m north
    t01 = Polygon([(sc.W, sc.S), (sc.MX, sc.S), (sc.MX + east, sc.MY + north), (sc.W, sc.MY)])
    gpd.GeoDataFrame({"code": ["T-01"]}, geometry=[t01], crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return str(path)


def _version_picker(page):
    return page.locator('[data-testid="stSelectbox"]').filter(has_text="选择版本").locator("input").first


def _choose_version(page, label: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(5):
        wait_for_streamlit(page)
        _version_picker(page).click()
        try:
            page.get_by_role("option", name=label, exact=True).click(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"could not choose {label}")
    wait_for_streamlit(page)


def test_upload_with_a_moved_vertex_impact_yield_publish_and_version_labels(tmp_path):
    from playwright.sync_api import expect

    upload = _moved_corner_file(tmp_path / "T-01.geojson")
    with served_app(_database(tmp_path)) as base, browser(1920, 1080) as page:
        _open_planner(page, base)
        _mode(page, "上传边界文件")
        click_and_rerun(page, page.get_by_text("相邻网格让出重叠部分", exact=True))  # unticked: see the overlaps first
        page.wait_for_selector('input[type="file"]', state="attached")
        click_and_rerun(page, lambda: page.locator('input[type="file"]').set_input_files(upload))
        click_and_rerun(page, page.get_by_role("button", name="应用文件", exact=True))
        page.get_by_text("已应用文件 T-01.geojson（1 个网格）", exact=False).wait_for()
        page.get_by_text("网格重叠 3 处", exact=False).wait_for()
        # every grid gaining or losing area is listed, not just the one in the file
        page.get_by_text("涉及网格 4 个（T-01、T-02、T-03、T-04）", exact=False).wait_for()
        wait_for_streamlit(page)
        tabs = {}
        for title in ("面积转移", "帮包领导与责任单位", "本月得分与问题数"):
            page.get_by_role("tab", name=title, exact=True).click()
            panel = page.get_by_role("tabpanel").filter(visible=True)
            panel.locator('[data-testid="stDataFrame"]').first.wait_for()
            panel.locator('[role="gridcell"]').first.wait_for(state="attached")
            tabs[title] = " ".join(panel.locator('[role="gridcell"]').all_text_contents())
        screenshot(page, "planner_upload_overlaps")
        click_and_rerun(page, page.get_by_role("button", name="消除重叠：相邻网格让出重叠部分", exact=True))
        page.get_by_text("相邻网格 T-02、T-03、T-04 已让出与 T-01 重叠的部分", exact=False).wait_for()
        page.get_by_text("检查通过：4 个网格，未发现问题。", exact=True).wait_for()
        wait_for_streamlit(page)
        # save, then publish: the version picker follows the statuses
        page.get_by_label("版本说明", exact=True).fill("T-01 东北角东移")
        click_and_rerun(page, page.get_by_role("button", name="保存草案", exact=True))
        page.get_by_text("已保存为草案 第2版", exact=False).wait_for()
        expect(_version_picker(page)).to_have_value("第2版（草案）")
        _choose_version(page, "第1版（现行）")
        expect(_version_picker(page)).to_have_value("第1版（现行）")
        click_and_rerun(page, page.get_by_role("button", name="发布", exact=True))
        page.get_by_text("第2版已发布", exact=False).wait_for()
        wait_for_streamlit(page)
        shown = _version_picker(page).input_value()
        _version_picker(page).click()
        page.get_by_role("option", name="第1版（已归档）", exact=True).wait_for()
        options = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
    assert "T-02" in tabs["面积转移"] and "T-01" in tabs["面积转移"]
    assert "T-03" in tabs["帮包领导与责任单位"] and "减少" in tabs["帮包领导与责任单位"]
    assert all(code in tabs["本月得分与问题数"] for code in ("T-01", "T-02", "T-03", "T-04"))
    assert shown in ("第2版（现行）", "第1版（已归档）")
    assert set(options) == {"第2版（现行）", "第1版（已归档）"}


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory) -> str:
    from datetime import date

    from gis.demo.build import build_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('plannerdemo') / 'demo.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    build_demo(engine, n_problems=5000, until=date(2026, 11, 20), out_dir=None)
    auth.add_user(engine, Actor.system(), "planner1", "规划员", password=PASSWORD)
    return url


def _dc01_east_vertex_moved(url: str, path) -> tuple[str, list[str]]:
    """DC-01 alone, its easternmost vertex moved 150 m east (as issue 16 did it); the grids sharing that vertex."""
    import numpy as np
    import shapely

    from gis.planning import versions

    grids = versions.working_copy(get_engine(url)).grids.set_index("code").geometry
    ring = np.array(grids["DC-01"].geoms[0].exterior.coords)
    i = int(np.argmax(ring[:-1, 0]))
    vertex = shapely.Point(ring[i])
    sharing = sorted(c for c, g in grids.items() if c != "DC-01" and g.distance(vertex) < 1e-7)
    ring[i, 0] += 150 / 89_560
    ring[-1] = ring[0]
    gpd.GeoDataFrame({"code": ["DC-01"]}, geometry=[Polygon(ring)], crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return str(path), sharing


def test_demo_city_dc01_with_a_vertex_moved_east(demo_sqlite, tmp_path):
    """Issue 16 item 16 on the demo city; the README's screenshot of the planner mid-edit (marks and impact)."""
    upload, sharing = _dc01_east_vertex_moved(demo_sqlite, tmp_path / "DC-01.geojson")
    assert len(sharing) >= 2
    involved = "、".join(sorted(["DC-01", *sharing]))
    with served_app(demo_sqlite) as base, browser(1920, 1080) as page:
        visit = watch_requests(page)
        _open_planner(page, base)
        _mode(page, "上传边界文件")
        click_and_rerun(page, page.get_by_text("相邻网格让出重叠部分", exact=True))
        page.wait_for_selector('input[type="file"]', state="attached")
        click_and_rerun(page, lambda: page.locator('input[type="file"]').set_input_files(upload))
        click_and_rerun(page, page.get_by_role("button", name="应用文件", exact=True))
        page.get_by_text("已应用文件 DC-01.geojson（1 个网格）", exact=False).wait_for()
        page.get_by_text(f"网格重叠 {len(sharing)} 处", exact=False).wait_for()
        page.get_by_text(f"涉及网格 {len(sharing) + 1} 个（{involved}）", exact=False).wait_for()
        wait_for_streamlit(page)
        frame = map_frame(page)
        frame.wait_for_function(f"() => document.querySelectorAll('.gm-issue').length === {len(sharing)}")
        page.get_by_role("tab", name="面积转移", exact=True).click()
        page.get_by_role("tabpanel").filter(visible=True).locator('[role="gridcell"]').first.wait_for(state="attached")
        wait_for_streamlit(page)
        # the README's picture: the lower map with its marks, the check and the impact below it
        table = page.get_by_role("tabpanel").filter(visible=True).locator('[data-testid="stDataFrame"]').first
        table.evaluate("e => e.scrollIntoView({block: 'end'})")
        page.wait_for_function("e => Math.abs(e.getBoundingClientRect().bottom - window.innerHeight) < 40",
                               arg=table.element_handle())
        page.mouse.move(5, 1075)  # no tooltip over the map
        screenshot(page, "planner_demo_midedit")
        click_and_rerun(page, page.get_by_role("button", name="消除重叠：相邻网格让出重叠部分", exact=True))
        page.get_by_text(f"相邻网格 {'、'.join(sharing)} 已让出与 DC-01 重叠的部分", exact=False).wait_for()
        page.get_by_text("检查通过：61 个网格，未发现问题。", exact=True).wait_for()
        wait_for_streamlit(page)
    assert visit.external_requests == []
