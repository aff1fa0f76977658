"""Public planning functions check the CRS of the frames they take before anything else (as geopandas'
sjoin does): a frame in metres (EPSG:4548) is reprojected, a frame without a CRS is refused in Chinese.
No database needed: the small city's frames (tests/smallcity.py) are used directly.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from gis.geo.crs import METRIC_CRS, WGS84, CRSError
from gis.planning import edits, topology
from tests import smallcity as sc


def _grids(**geoms) -> gpd.GeoDataFrame:
    layer = edits.candidate_from(sc.grids())
    for code, geom in geoms.items():
        layer.loc[layer["code"] == code.replace("_", "-"), "geometry"] = geom
    return layer


def test_candidate_from_reprojects_a_frame_in_metres():
    metric = sc.grids().to_crs(METRIC_CRS)
    assert metric.total_bounds[0] > 400_000  # eastings, not degrees
    layer = edits.candidate_from(metric)
    assert layer.crs.to_epsg() == 4326
    w, s, e, n = layer.total_bounds
    assert (w, s, e, n) == pytest.approx((sc.W, sc.S, sc.E, sc.N), abs=1e-7)
    assert list(layer["code"]) == list(sc.grids()["code"])


def test_candidate_from_refuses_a_frame_without_crs_or_code():
    bare = sc.grids().set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="没有坐标系"):
        edits.candidate_from(bare)
    with pytest.raises(edits.PlanningError, match="缺少网格编号"):
        edits.candidate_from(sc.grids().drop(columns="code"))


def test_check_grids_in_metres_finds_what_it_finds_in_degrees():
    context = topology.CheckContext.from_frames(district=None)
    overlapping = _grids(T_01=box(sc.W, sc.S, sc.MX + 0.001, sc.MY))
    in_degrees = topology.check_grids(overlapping, context)
    in_metres = topology.check_grids(overlapping.to_crs(METRIC_CRS), context)
    assert list(in_degrees.issues["kind"]) == ["overlap"]
    assert list(in_metres.issues["kind"]) == ["overlap"]
    assert in_metres.issues["area_m2"].iloc[0] == pytest.approx(in_degrees.issues["area_m2"].iloc[0], rel=1e-3)
    assert in_metres.issues["lon"].iloc[0] == pytest.approx(in_degrees.issues["lon"].iloc[0], abs=1e-6)


def test_check_grids_refuses_a_frame_without_crs():
    with pytest.raises(CRSError, match="候选网格图层没有坐标系"):
        topology.check_grids(sc.grids().set_crs(None, allow_override=True))


def test_check_context_reprojects_its_frames():
    city = sc.city()
    cut = _grids(T_01=box(sc.W, sc.S, 115.984, sc.MY), T_02=box(115.984, sc.S, sc.E, sc.MY))  # through 阳光小区
    wgs = topology.CheckContext.from_frames(sc.grids(), city["compounds"], city["villages"], district=None)
    metric = topology.CheckContext.from_frames(sc.grids().to_crs(METRIC_CRS), city["compounds"].to_crs(METRIC_CRS),
                                               city["villages"].to_crs(METRIC_CRS), district=None)
    assert metric.reference.crs.to_epsg() == 4326
    expected = topology.check_grids(cut, wgs).issues
    got = topology.check_grids(cut, metric).issues
    assert "compound_split" in set(expected["kind"])
    assert list(got["kind"]) == list(expected["kind"]) and list(got["other"]) == list(expected["other"])
    with pytest.raises(CRSError, match="小区图层没有坐标系"):
        topology.CheckContext.from_frames(compounds=city["compounds"].set_crs(None, allow_override=True))


@pytest.mark.parametrize("edit", [
    lambda layer: edits.replace_geometry(layer, "T-01", box(sc.W, sc.S, sc.MX, sc.MY)),
    lambda layer: edits.add_grid(layer, box(sc.W, sc.S - 0.002, sc.MX, sc.S)),
    lambda layer: edits.merge_grids(layer, "T-01", "T-02"),
])
def test_edits_refuse_a_working_copy_in_another_crs(edit):
    with pytest.raises(CRSError, match="应为 WGS84"):
        edit(edits.candidate_from(sc.grids()).to_crs(METRIC_CRS))
    assert edit(edits.candidate_from(sc.grids())).crs.to_string() == WGS84
