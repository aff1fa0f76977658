"""The planner's rules (issue 16, items 14–17): editing a grid's vertices, a shape drawn inside a grid,
a boundary file with a moved vertex (its overlaps, their impact, the neighbours giving way), the
version picker's labels and the Chinese Leaflet.draw toolbar. Small city, both backends."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from streamlit_folium import generate_leaflet_string

from gis.geo.crs import areas_m2
from gis.planning import edits, impact, topology, versions
from gis.planning.session import RESHAPE, NewGrid, WorkingSession
from layers.basemap import make_map
from layers.planning import draw_tools, editable_grid
from tests import smallcity as sc

EAST_150_M = 150 / 89_560  # degrees of longitude at 36.45° N
NORTH_150_M = 150 / 110_990


def _moved_t01() -> Polygon:
    """T-01 with its north-east corner (the centre of the city, shared by all four grids) moved
    150 m east and 150 m north: it now overlaps T-02, T-03 and T-04."""
    return Polygon([(sc.W, sc.S), (sc.MX, sc.S), (sc.MX + EAST_150_M, sc.MY + NORTH_150_M), (sc.W, sc.MY)])


def _file(*rows) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs="EPSG:4326")


def _session(layer) -> WorkingSession:
    return WorkingSession(url="", base=1, number=1, layer_revision=1, revisions={}, grids=layer)


def _feature(geom, code=None) -> dict:
    return {"type": "Feature", "properties": {"code": code} if code else {}, "geometry": mapping(geom)}


# ------------------------------------------------------------------ item 16: a boundary file with a moved vertex

def test_uploaded_vertex_overlaps_are_found_and_every_grid_involved_is_in_the_impact(city_engine):
    context = topology.load_context(city_engine)
    layer = edits.candidate_from(context.reference)
    candidate = edits.apply_file(layer, _file(("T-01", _moved_t01())))
    report = topology.check_grids(candidate, context)
    overlaps = report.issues[report.issues["kind"] == "overlap"]
    assert len(overlaps) == 3 and report.has_errors
    imp = impact.impact(city_engine, candidate, context, impact.month_scores(city_engine))
    assert imp.affected == ["T-01"]  # only T-01 changed …
    assert imp.involved == ["T-01", "T-02", "T-03", "T-04"]  # … but it takes area from all three neighbours
    assert "涉及网格 4 个（T-01、T-02、T-03、T-04）" in imp.summary()
    moved = imp.moved_area.set_index("from_grid")
    assert set(moved.index) == {"T-02", "T-03", "T-04"} and set(moved["to_grid"]) == {"T-01"}
    overlap_m2 = dict(zip(overlaps["other"], overlaps["area_m2"]))  # the check's overlap areas, per neighbour
    for code in ("T-02", "T-03", "T-04"):
        assert moved.at[code, "area_m2"] == pytest.approx(overlap_m2[code], rel=1e-3)
    assert set(imp.scores["code"]) == {"T-01", "T-02", "T-03", "T-04"}
    assert {"T-02", "T-03", "T-04"} <= set(imp.responsibles["grid"])  # their leaders and units are named
    assert all(len(table) for _title, table, _caption in imp.tables()[:1] + imp.tables()[3:])


def test_neighbours_give_up_the_overlap_of_an_uploaded_boundary(city_engine):
    context = topology.load_context(city_engine)
    layer = edits.candidate_from(context.reference)
    file = _file(("T-01", _moved_t01()))
    candidate = edits.apply_file(layer, file, neighbours_yield=True)
    report = topology.check_grids(candidate, context)
    assert not report.has_errors, report.issues
    new = candidate.set_index("code").geometry
    assert new["T-01"].equals(MultiPolygon([_moved_t01()]))  # the file's boundary is kept exactly
    old = layer.set_index("code").geometry
    for code in ("T-02", "T-03", "T-04"):
        lost = areas_m2([old[code]])[0] - areas_m2([new[code]])[0]
        assert lost == pytest.approx(areas_m2([old[code].intersection(_moved_t01())])[0], rel=1e-3) and lost > 100
    assert shapely.union_all(candidate.geometry.to_numpy()).area == pytest.approx(
        shapely.union_all(layer.geometry.to_numpy()).area, rel=1e-9)  # nothing lost, nothing added
    # the same from the working copy: apply the file without yielding, then press 消除重叠
    ws = _session(layer)
    data = file.to_json().encode()
    said = ws.apply_file(data, "t01.geojson", "wgs84", False, neighbours_yield=False)
    assert said == "已应用文件 t01.geojson（1 个网格）。"
    assert topology.check_grids(ws.grids, context).has_errors
    said = ws.yield_overlaps(context.reference)
    assert said == "相邻网格 T-02、T-03、T-04 已让出与 T-01 重叠的部分。"
    assert not topology.check_grids(ws.grids, context).has_errors
    with pytest.raises(edits.PlanningError, match="没有重叠"):
        ws.yield_overlaps(context.reference)
    ws = _session(layer)
    said = ws.apply_file(data, "t01.geojson", "wgs84", False, neighbours_yield=True)
    assert "相邻网格 T-02、T-03、T-04 让出了与文件中网格重叠的部分" in said
    assert not topology.check_grids(ws.grids, context).has_errors


def test_an_uploaded_boundary_covering_a_neighbour_is_refused():
    layer = edits.candidate_from(sc.grids())
    with pytest.raises(edits.PlanningError, match="完全覆盖了网格 T-02"):
        edits.apply_file(layer, _file(("T-01", box(sc.W, sc.S, sc.E, sc.MY))), neighbours_yield=True)


# ------------------------------------------------------------------ items 14 and 15: 修改边界 on the map

def test_dragged_vertex_reaches_the_working_copy_and_an_unmoved_one_does_nothing():
    layer = edits.candidate_from(sc.grids())
    ws = _session(layer)
    same = {"all_drawings": [_feature(layer.geometry.iloc[0].geoms[0], "T-01")], "last_active_drawing": None}
    assert ws.apply_drawing(RESHAPE, same, "T-01", NewGrid(), 5.0, True) is None  # saved without moving a vertex
    assert not ws.dirty
    dragged = Polygon([(sc.W, sc.S), (sc.MX, sc.S), (sc.MX + 0.001, sc.MY), (sc.W, sc.MY)])
    answer = {"all_drawings": [_feature(dragged, "T-01")], "last_active_drawing": None}
    said = ws.apply_drawing(RESHAPE, answer, "T-01", NewGrid(), 5.0, True)
    assert said == "已按拖动后的顶点修改网格 T-01 的边界。"
    now = ws.grids.set_index("code").geometry["T-01"]
    assert areas_m2([now.symmetric_difference(dragged)])[0] < 1.0  # the dragged outline (snapped onto T-04's corner)
    assert ws.apply_drawing(RESHAPE, answer, "T-01", NewGrid(), 5.0, True) is None  # the map repeats its answer


def test_a_shape_drawn_inside_a_grid_becomes_its_boundary_and_the_rest_a_gap(city_engine):
    """修改边界 → T-01 → draw a square inside it: the square is T-01's new boundary (the page says so);
    the rest of its old area is a gap the check reports and the impact counts — never "已修改" with no effect."""
    context = topology.load_context(city_engine)
    layer = edits.candidate_from(context.reference)
    ws = _session(layer)
    inside = box(115.982, 36.442, 115.988, 36.448)
    # what st_folium sends after the polygon is closed: the drawing, and T-01's own (unmoved) outline
    answer = {"last_active_drawing": _feature(inside),
              "all_drawings": [_feature(layer.geometry.iloc[0].geoms[0], "T-01"), _feature(inside)]}
    said = ws.apply_drawing(RESHAPE, answer, "T-01", NewGrid(), 5.0, True)
    assert said.startswith("已用新画的多边形作为网格 T-01 的新边界：面积 ")
    assert "公顷不再属于任何网格，成为空隙" in said
    assert ws.grids.set_index("code").geometry["T-01"].equals(MultiPolygon([inside]))
    report = topology.check_grids(ws.grids, context)
    assert report.has_errors and "gap" in set(report.issues["kind"])
    imp = impact.impact(city_engine, ws.grids, context, impact.month_scores(city_engine))
    gap = imp.moved_area[imp.moved_area["to_grid"] == impact.NO_GRID]
    expected = areas_m2([layer.geometry.iloc[0]])[0] - areas_m2([inside])[0]
    assert gap["from_grid"].tolist() == ["T-01"] and gap["area_m2"].iloc[0] == pytest.approx(expected, rel=1e-3)
    assert "公顷不再属于任何网格（空隙）" in imp.summary()
    # the next rerun repeats the same answer (and the old outline): nothing is applied twice or undone
    assert ws.apply_drawing(RESHAPE, answer, "T-01", NewGrid(), 5.0, True) is None
    assert ws.apply_drawing(RESHAPE, answer, "T-02", NewGrid(), 5.0, True) is None  # another grid chosen since
    assert len(ws.undo_stack) == 1


def test_a_shape_drawn_across_a_grid_takes_area_from_its_neighbours():
    layer = edits.candidate_from(sc.grids())
    ws = _session(layer)
    wider = box(sc.W, sc.S, sc.MX + 0.002, sc.MY)
    said = ws.apply_drawing(RESHAPE, {"last_active_drawing": _feature(wider), "all_drawings": [_feature(wider)]},
                            "T-01", NewGrid(), 5.0, True)
    assert "；相邻网格让出 T-02 " in said and "空隙" not in said
    assert ws.grids.set_index("code").geometry["T-02"].bounds[0] == pytest.approx(sc.MX + 0.002)


# ------------------------------------------------------------------ item 17 and the toolbar's language

def test_version_labels_follow_the_status():
    history = pd.DataFrame({"number": [3, 2, 1], "status": [versions.DRAFT, versions.PUBLISHED, versions.ARCHIVED]})
    labels = versions.version_labels(history)
    assert labels == {3: "第3版（草案）", 2: "第2版（现行）", 1: "第1版（已归档）"}
    before = versions.version_labels(pd.DataFrame({"number": [2, 1], "status": [versions.DRAFT, versions.PUBLISHED]}))
    assert versions.labels_key(before) != versions.labels_key(versions.version_labels(
        pd.DataFrame({"number": [2, 1], "status": [versions.PUBLISHED, versions.ARCHIVED]})))


def test_version_history_table_has_one_type_per_column_and_a_dash_for_nothing():
    """The 版本记录 table: 基于 is empty for the first version, 失效 for the current one. A column of
    numbers or times with "—" in it failed Streamlit's Arrow conversion (a traceback in the server log)."""
    import pyarrow as pa

    t = pd.Timestamp
    history = pd.DataFrame({
        "id": [7, 5], "number": [2, 1], "status": [versions.PUBLISHED, versions.ARCHIVED], "title": ["调整", "初版"],
        "note": [None, None], "parent": [1, None], "created_by": ["规划员", "管理员"],
        "created_at": [t("2026-11-02 10:00"), t("2026-01-01 08:00")],
        "published_at": [t("2026-11-03 09:30"), t("2026-01-01 08:00")],
        "valid_from": [t("2026-11-03 09:30"), t("2026-01-01 08:00")], "valid_to": [None, t("2026-11-03 09:30")],
        "revision": [3, 1], "grids": [61, 61]})
    table = versions.history_table(history)
    assert list(table["基于"]) == ["1", "—"]
    assert list(table["失效"]) == ["—", "2026-11-03 09:30"]
    assert list(table["备注"]) == ["—", "—"]
    assert table["网格数"].tolist() == [61, 61] and table["发布时间"].dtype.kind == "M"
    pa.Table.from_pandas(table)  # raised ArrowInvalid on "—" beside numbers


def test_draw_toolbar_speaks_chinese_and_the_edited_grid_is_made_of_editable_polygons():
    m = make_map((36.45, 115.99), zoom=13)
    group = editable_grid(sc.grids().iloc[[0]])
    group.add_to(m)
    draw_tools("polygon", group).add_to(m)
    m.get_root().render()
    html = generate_leaflet_string(m)  # what st_folium sends to the browser: the map elements' scripts only
    locale = json.loads(html.split("L.drawLocal = ", 1)[1].split(";\n", 1)[0].rstrip(";"))
    assert locale["draw"]["toolbar"]["buttons"]["polygon"] == "画多边形"
    assert locale["edit"]["toolbar"]["actions"]["save"]["text"] == "保存"
    assert locale["edit"]["toolbar"]["buttons"]["removeDisabled"] == "没有可删除的图形"
    assert html.index("L.drawLocal = ") < html.index("new L.Control.Draw(")  # set before the toolbar is built
    # every polygon is added to the Draw plugin's group on its own (an L.GeoJSON group gets no vertex handles)
    assert re.search(r"\.eachLayer\(function \(layer\) \{ feature_group_\w+\.addLayer\(layer\); \}\)", html)
    assert '"code": "T-01"' in html
