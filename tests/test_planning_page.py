"""网格规划 through AppTest: a drawn polygon fed in as st_folium's answer is applied, checked, previewed, saved."""

from __future__ import annotations

from sqlalchemy import select

from gis.db.models import GridLayer
from gis.people.permissions import Actor
from tests import smallcity as sc
from tests.apptools import captured_maps, html_has, run_app  # noqa: F401  (fixture)

PLANNER = Actor("planner1", "规划员")
PAGE = "pages/planning.py"


def _said(elements, text: str) -> bool:
    """`text` in one of the elements (st.success & co. hold Markdown with user text backslash-escaped)."""
    return any(text in e.value.replace("\\", "") for e in elements)


def _feature(coords, props=None) -> dict:
    return {"type": "Feature", "properties": props or {}, "geometry": {"type": "Polygon", "coordinates": [coords]}}


def _ring(w, s, e, n):
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


def test_read_only_without_planner_role(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE)
    assert not at.exception
    assert at.title[0].value == "网格规划"
    assert any("只读" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "planning_save"]
    key, html = captured_maps[-1]
    assert key == "planning_map"
    assert "L.Control.Draw" not in html  # no drawing tools for a read-only user
    assert "检查通过" in at.success[0].value


def test_drawn_polygon_outside_district_is_checked_and_marked(city_rw, monkeypatch, captured_maps):
    """A polygon drawn across the T-02/T-04 corner and far to the east: snapped, the neighbours give way,
    and the part beyond the district boundary is reported with its location and marked on the map."""
    url = str(city_rw.url.render_as_string(hide_password=False))
    drawn = _feature(_ring(115.995, 36.445, 116.40, 36.455))  # 116.40 E is well outside 东昌府区
    captured_maps.returns["planning_map"] = {"last_active_drawing": drawn, "all_drawings": [drawn]}
    at = run_app(url, monkeypatch, page=PAGE, actor=PLANNER)
    assert not at.exception, at.exception
    assert _said(at.success, "已新增网格 T-05")
    table = at.dataframe[0].value
    assert "超出区界" in set(table["问题"])
    row = table[table["问题"] == "超出区界"].iloc[0]
    assert row["网格"] == "T-05" and row["经度"] > 116.0  # the location is out east
    # the new grid took its share from T-02 and T-04: no overlap reported
    assert "网格重叠" not in set(table["问题"])
    key, html = captured_maps[-1]
    assert html_has(html, "超出区界") and "L.Control.Draw" in html
    # the impact preview names the grids that lose area
    assert _said(at.markdown, "涉及网格 3 个（T-02、T-04、T-05）")
    moved = at.dataframe[1].value
    assert set(moved["新网格"]) == {"T-05"}
    # taken from T-02 and T-04; the part out east was no grid's before
    assert set(moved["原网格"]) == {"T-02", "T-04", "（无网格）"}


def _signed_in(url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", url)
    from streamlit.testing.v1 import AppTest

    from tests.apptools import navigation_mode_only

    navigation_mode_only(monkeypatch)  # as the server: app.py's gate runs every page (see pages.gate.require)
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.session_state["actor"] = PLANNER
    at.run()
    at.switch_page(PAGE).run()
    return at


def test_drawn_inside_others_without_yielding_is_refused(city_rw, monkeypatch, captured_maps):
    at = _signed_in(str(city_rw.url.render_as_string(hide_password=False)), monkeypatch)
    at.checkbox(key="planning_yield").uncheck().run()
    drawn = _feature(_ring(115.985, 36.445, 115.995, 36.455))  # the centre, across all four grids
    captured_maps.returns["planning_map"] = {"last_active_drawing": drawn, "all_drawings": [drawn]}
    at.run()
    assert not at.exception, at.exception
    assert _said(at.error, "完全落在其他网格内")
    assert len(at.session_state["planning"].grids) == 4


def test_draw_save_draft_and_publish_from_the_page(city_rw, monkeypatch, captured_maps):
    at = _signed_in(str(city_rw.url.render_as_string(hide_password=False)), monkeypatch)
    drawn = _feature(_ring(115.985, 36.445, 115.995, 36.455))
    captured_maps.returns["planning_map"] = {"last_active_drawing": drawn, "all_drawings": [drawn]}
    at.run()
    assert _said(at.success, "已新增网格 T-05")
    assert at.button(key="planning_publish").disabled is True  # unsaved changes: publish is off
    at.text_input(key="planning_title").input("新增中心网格").run()
    at.button(key="planning_save").click().run()
    assert not at.exception, at.exception
    assert _said(at.success, "已保存为草案 第2版")
    with city_rw.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(GridLayer.number, GridLayer.status, GridLayer.title)).all()]
    assert (2, "草案", "新增中心网格") in rows
    at.button(key="planning_publish").click().run()
    assert not at.exception, at.exception
    assert _said(at.success, "第2版已发布")
    with city_rw.connect() as conn:
        status = dict(conn.execute(select(GridLayer.number, GridLayer.status)).all())
    assert status == {1: "已归档", 2: "已发布"}
    history = at.dataframe[-1].value
    assert list(history["版本"]) == [2, 1]


def test_edited_vertices_of_a_chosen_grid(city_rw, monkeypatch, captured_maps):
    """修改边界: T-01's east edge dragged 100 m into T-02 comes back in all_drawings with its code."""
    at = _signed_in(str(city_rw.url.render_as_string(hide_password=False)), monkeypatch)
    at.radio(key="planning_mode").set_value("修改边界").run()
    at.selectbox(key="planning_grid").set_value("T-01").run()
    key, html = captured_maps[-1]
    assert "L.Control.Draw" in html and html_has(html, "T-01")
    edited = _feature(_ring(sc.W, sc.S, sc.MX + 0.001, sc.MY), {"code": "T-01"})
    captured_maps.returns["planning_map"] = {"all_drawings": [edited], "last_active_drawing": None}
    at.run()
    assert not at.exception, at.exception
    assert _said(at.success, "已按拖动后的顶点修改网格 T-01 的边界")
    grids = at.session_state["planning"].grids.set_index("code")
    assert grids.geometry["T-01"].bounds[2] > sc.MX
    assert grids.geometry["T-02"].bounds[0] > sc.MX  # T-02 gave way


def test_save_by_a_planner_disabled_meanwhile_saves_nothing(city_rw, monkeypatch, captured_maps):
    """保存草案 is a callback, run before app.py's gate: it asks the gate's questions itself."""
    from gis.people import auth

    auth.add_user(city_rw, Actor.system(), "planner1", "规划员", "planner1-password")
    at = _signed_in(str(city_rw.url.render_as_string(hide_password=False)), monkeypatch)
    at.session_state["auth_source"] = "password"
    drawn = _feature(_ring(115.985, 36.445, 115.995, 36.455))
    captured_maps.returns["planning_map"] = {"last_active_drawing": drawn, "all_drawings": [drawn]}
    at.run()
    assert _said(at.success, "已新增网格 T-05")
    auth.set_disabled(city_rw, Actor.system(), "planner1", True)
    at.button(key="planning_save").click().run()
    assert not at.exception, at.exception
    with city_rw.connect() as conn:
        assert conn.execute(select(GridLayer.number)).scalars().all() == [1]
    assert any("账户已停用" in w.value for w in at.warning)  # the gate signed the session out
