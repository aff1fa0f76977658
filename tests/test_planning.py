"""Edit operations and versions of the grid layer, on both backends (small city)."""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box
from sqlalchemy import select

from gis.people import audit

from gis.planning import edits

from gis.planning import versions
from gis.db.models import Grid, GridLayer, InspectionPoint, Problem
from gis.people.permissions import Actor, PermissionDenied
from gis.problems.writes import insert_problems
from tests import smallcity as sc

PLANNER_A = Actor("plan_a", "规划员")
PLANNER_B = Actor("plan_b", "规划员")
LEADER = Actor("leader", "领导")


def area_m2(geoms) -> float:
    return float(gpd.GeoSeries(list(geoms), crs="EPSG:4326").to_crs("EPSG:4548").area.sum())


# ------------------------------------------------------------------ split and merge

def test_split_and_merge_preserve_the_total_area():
    layer = edits.candidate_from(sc.grids())
    total = area_m2(layer.geometry)
    split = edits.split_grid(layer, "T-01", LineString([(115.984, 36.4395), (115.986, 36.4505)]))
    assert list(split["code"]) == ["T-01", "T-02", "T-03", "T-04", "T-05"]
    pieces = split.set_index("code").geometry
    assert area_m2([pieces["T-01"], pieces["T-05"]]) == pytest.approx(area_m2([layer.geometry.iloc[0]]), rel=1e-5)
    assert shapely.union_all(split.geometry.to_numpy()).area == pytest.approx(
        shapely.union_all(layer.geometry.to_numpy()).area, rel=1e-12)  # nothing lost, nothing overlapping
    # exact in the stored CRS; in EPSG:4548 to a few m² (a vertex added on a straight WGS84 edge bends it there)
    assert shapely.area(split.geometry.to_numpy()).sum() == pytest.approx(shapely.area(layer.geometry.to_numpy()).sum(), rel=1e-12)
    assert area_m2(split.geometry) == pytest.approx(total, rel=1e-5)
    assert pieces["T-01"].intersection(pieces["T-05"]).area == 0  # the pieces only share the cut
    merged = edits.merge_grids(split, "T-01", "T-05")
    assert list(merged["code"]) == ["T-01", "T-02", "T-03", "T-04"]
    assert area_m2(merged.geometry) == pytest.approx(total, rel=1e-6)
    assert merged.geometry.iloc[0].equals(layer.geometry.iloc[0])
    merged = edits.merge_grids(layer, "T-01", "T-02")
    assert area_m2(merged.geometry) == pytest.approx(total, rel=1e-6) and len(merged) == 3


def test_split_needs_a_line_across_and_merge_needs_a_shared_edge():
    layer = edits.candidate_from(sc.grids())
    with pytest.raises(edits.PlanningError, match="没有完整穿过"):
        edits.split_grid(layer, "T-01", LineString([(115.984, 36.442), (115.985, 36.446)]))
    with pytest.raises(edits.PlanningError, match="不相邻"):
        edits.merge_grids(layer, "T-01", "T-04")  # they touch at one corner only


def test_next_code():
    assert edits.next_code(["DC-01", "DC-61", "DC-09"]) == "DC-62"
    assert edits.next_code(["T-01", "T-04"]) == "T-05"


# ------------------------------------------------------------------ versions

def _wider_t01(wc: versions.WorkingCopy, east: float = sc.MX + 0.001) -> gpd.GeoDataFrame:
    return edits.replace_geometry(wc.grids, "T-01", box(sc.W, sc.S, east, sc.MY))


def test_draft_publish_history_and_attribution(city_rw):
    engine = city_rw
    with engine.connect() as conn:
        before = dict(conn.execute(select(Problem.code, Problem.grid_id)).all())
        old_ids = dict(conn.execute(select(Grid.code, Grid.id)).all())
    wc = versions.working_copy(engine)
    draft_id = versions.save_draft(engine, PLANNER_A, _wider_t01(wc), wc.layer_id, wc.revisions, "T-01 向东扩展")
    history = versions.history(engine)
    assert list(history["status"]) == ["草案", "已发布"] and list(history["grids"]) == [4, 4]
    assert history["title"].iloc[0] == "T-01 向东扩展" and history["parent"].iloc[0] == 1
    draft = versions.layer_grids(engine, draft_id).set_index("code")
    assert draft.at["T-01", "revision"] == 2 and draft.at["T-02", "revision"] == 2 and draft.at["T-03", "revision"] == 1
    assert draft.at["T-01", "area_m2"] == pytest.approx(area_m2([box(sc.W, sc.S, sc.MX + 0.001, sc.MY)]), rel=1e-6)

    at = datetime(2026, 11, 21, 8, 0)
    versions.publish(engine, PLANNER_A, draft_id, at=at)
    history = versions.history(engine).set_index("number")
    assert history.at[1, "status"] == "已归档" and history.at[1, "valid_to"] == at
    assert history.at[2, "status"] == "已发布" and history.at[2, "valid_from"] == at
    assert pd.isna(history.at[2, "valid_to"])
    with engine.connect() as conn:
        # old problems stay with the old grid rows
        assert dict(conn.execute(select(Problem.code, Problem.grid_id)).all()) == before
        new_ids = dict(conn.execute(select(Grid.code, Grid.id).where(Grid.layer_id == draft_id)).all())
        # inspection points now point at the new layer's rows (DW-0004 is in 许营村, T-02)
        point_grid = dict(conn.execute(select(InspectionPoint.code, InspectionPoint.grid_id)).all())
    assert point_grid["DW-0004"] == new_ids["T-02"] and set(point_grid.values()) <= set(new_ids.values())
    assert set(before.values()) <= set(old_ids.values())
    # a problem reported after publishing, in the strip T-01 took from T-02, goes to the new T-01
    new_problem = sc.problems().iloc[[0]].assign(code="WT99", lon=sc.MX + 0.0005, lat=36.445,
                                                 reported_at=at + timedelta(hours=2))
    # … and one reported the day before at the same place goes to the old T-02
    old_problem = new_problem.assign(code="WT98", reported_at=at - timedelta(days=1))
    with engine.begin() as conn:
        insert_problems(conn, pd.concat([new_problem, old_problem]))
    with engine.connect() as conn:
        got = dict(conn.execute(select(Problem.code, Problem.grid_id).where(Problem.code.in_(["WT98", "WT99"]))).all())
    assert got == {"WT99": new_ids["T-01"], "WT98": old_ids["T-02"]}
    actions = set(audit.entries(engine, action_prefix="grid.")["action"])
    assert {"grid.draft", "grid.publish"} <= actions


def test_second_planner_editing_the_same_grid_gets_a_conflict(city_rw):
    engine = city_rw
    wc_a = versions.working_copy(engine)
    wc_b = versions.working_copy(engine)  # both loaded version 1
    versions.save_draft(engine, PLANNER_A, _wider_t01(wc_a), wc_a.layer_id, wc_a.revisions, "A")
    with pytest.raises(versions.ConflictError) as err:
        versions.save_draft(engine, PLANNER_B, _wider_t01(wc_b, sc.MX + 0.002), wc_b.layer_id, wc_b.revisions, "B")
    message = str(err.value)
    assert "网格 T-01" in message and "第2版草案" in message and "plan_a" in message and "没有保存" in message
    history = versions.history(engine)
    assert len(history) == 2  # nothing written for B
    with engine.connect() as conn:
        revisions = dict(conn.execute(select(Grid.code, Grid.revision).where(Grid.layer_id == wc_a.layer_id)).all())
    assert revisions == {"T-01": 2, "T-02": 2, "T-03": 1, "T-04": 1}  # bumped once, by A

    # B may edit another grid of version 1 (T-03 ↔ T-04 boundary, untouched by A) …
    moved = edits.replace_geometry(wc_b.grids, "T-03", box(sc.W, sc.MY, sc.MX + 0.001, sc.N))
    b_draft = versions.save_draft(engine, PLANNER_B, moved, wc_b.layer_id, wc_b.revisions, "B2")
    # … but once A's draft is published, B's draft (from version 1) may not overwrite it
    a_draft = int(versions.history(engine).query("title == 'A'")["id"].iloc[0])
    versions.publish(engine, PLANNER_A, a_draft)
    with pytest.raises(versions.ConflictError, match="发布冲突.*现行版本已是第2版"):
        versions.publish(engine, PLANNER_B, b_draft)
    assert versions.history(engine).set_index("id").at[b_draft, "status"] == "草案"


def test_only_planners_write(city_rw):
    wc = versions.working_copy(city_rw)
    with pytest.raises(PermissionDenied, match="编辑网格边界"):
        versions.save_draft(city_rw, LEADER, _wider_t01(wc), wc.layer_id, wc.revisions)
    draft = versions.save_draft(city_rw, PLANNER_A, _wider_t01(wc), wc.layer_id, wc.revisions)
    with pytest.raises(PermissionDenied, match="发布网格版本"):
        versions.publish(city_rw, LEADER, draft)
    with pytest.raises(ValueError, match="没有任何改动"):
        versions.save_draft(city_rw, PLANNER_A, wc.grids, wc.layer_id, wc.revisions)


def test_restore_an_earlier_version(city_rw):
    engine = city_rw
    wc = versions.working_copy(engine)
    versions.publish(engine, PLANNER_A, versions.save_draft(engine, PLANNER_A, _wider_t01(wc), wc.layer_id,
                                                              wc.revisions, "v2"))
    restored = versions.restore(engine, PLANNER_A, wc.layer_id)
    history = versions.history(engine).set_index("id")
    assert history.at[restored, "status"] == "草案" and history.at[restored, "title"] == "恢复第1版"
    assert history.at[restored, "parent"] == 2
    old = versions.layer_grids(engine, wc.layer_id).set_index("code").geometry
    new = versions.layer_grids(engine, restored).set_index("code").geometry
    assert all(old[c].equals(new[c]) for c in old.index)
    versions.publish(engine, PLANNER_A, restored)
    with engine.connect() as conn:
        rows = conn.execute(select(GridLayer.number, GridLayer.status).order_by(GridLayer.number)).all()
    assert [tuple(r) for r in rows] == [(1, "已归档"), (2, "已归档"), (3, "已发布")]
