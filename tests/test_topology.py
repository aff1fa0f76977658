"""Topology checks and snapping on hand-made cases around the small city (no database needed).

Expected areas are computed independently with geopandas' to_crs(EPSG:4548) of the shapes
drawn here, not with gis.planning.topology's own helpers.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from gis.planning import edits

from gis.planning import topology
from tests import smallcity as sc

W, E, S, N, MX, MY = sc.W, sc.E, sc.S, sc.N, sc.MX, sc.MY
M_PER_DEG_LON = 111_320 * 0.80409  # cos(36.45°): metres per degree of longitude here (approx.)


def area_m2(geom) -> float:
    return float(gpd.GeoSeries([geom], crs="EPSG:4326").to_crs("EPSG:4548").area.iloc[0])


def layer(**geoms) -> gpd.GeoDataFrame:
    """The small city's four grids, some replaced by `geoms` (code with '_' for '-'; None drops a grid)."""
    gdf = edits.candidate_from(sc.grids())
    for key, geom in geoms.items():
        code = key.replace("_", "-")
        if geom is None:
            gdf = gdf[gdf["code"] != code]
        elif code in set(gdf["code"]):
            gdf.loc[gdf["code"] == code, "geometry"] = gpd.GeoSeries([geom], index=gdf.index[gdf["code"] == code])
        else:
            gdf = edits.candidate_from(gpd.GeoDataFrame(
                list(gdf.drop(columns="geometry").to_dict("records")) + [{"code": code, "name": code, "subdistrict": ""}],
                geometry=list(gdf.geometry) + [geom], crs="EPSG:4326"))
    return gdf.reset_index(drop=True)


@pytest.fixture(scope="module")
def context():
    city = sc.city()
    return topology.CheckContext.from_frames(edits.candidate_from(sc.grids()), city["compounds"], city["villages"])


def kinds(report) -> list[str]:
    return list(report.issues["kind"])


def test_the_small_city_is_clean(context):
    report = topology.check_grids(layer(), context)
    assert report.issues.empty and not report.has_errors
    assert "检查通过" in report.summary()


def test_bow_tie_is_invalid_and_located_at_the_crossing(context):
    bow = Polygon([(W, S), (MX, MY), (MX, S), (W, MY), (W, S)])  # edges cross at the centre of T-01
    report = topology.check_grids(layer(T_01=bow), context)
    invalid = report.issues[report.issues["kind"] == "invalid"]
    assert len(invalid) == 1 and invalid["grids"].iloc[0] == "T-01"
    assert invalid["lon"].iloc[0] == pytest.approx((W + MX) / 2, abs=1e-9)
    assert invalid["lat"].iloc[0] == pytest.approx((S + MY) / 2, abs=1e-9)
    assert "自相交" in invalid["message"].iloc[0]
    assert report.has_errors


def test_overlap_says_which_grids_how_much_and_where(context):
    wider = box(MX - 0.001, S, E, MY)  # T-02 reaches 0.001° (≈ 90 m) into T-01
    report = topology.check_grids(layer(T_02=wider), context)
    overlaps = report.issues[report.issues["kind"] == "overlap"]
    assert len(overlaps) == 1
    row = overlaps.iloc[0]
    assert row["grids"] == "T-01、T-02"
    assert row["area_m2"] == pytest.approx(area_m2(box(MX - 0.001, S, MX, MY)), rel=1e-6)
    assert MX - 0.001 < row["lon"] < MX and S < row["lat"] < MY
    assert report.has_errors


def test_sliver_gap_is_reported_but_coordinate_noise_is_not(context):
    half_metre = 0.5 / M_PER_DEG_LON
    report = topology.check_grids(layer(T_01=box(W, S, MX - half_metre, MY)), context)
    gaps = report.issues[report.issues["kind"] == "gap"]
    assert len(gaps) == 1
    assert gaps["area_m2"].iloc[0] == pytest.approx(area_m2(box(MX - half_metre, S, MX, MY)), rel=1e-6)
    assert set(gaps["grids"].iloc[0].split("、")) >= {"T-01", "T-02"}
    # 1 mm wide: more than 1 m² over 1.1 km, but nowhere wider than 5 cm → noise
    millimetre = 0.001 / M_PER_DEG_LON
    assert area_m2(box(MX - millimetre, S, MX, MY)) > 1.0
    assert "gap" not in kinds(topology.check_grids(layer(T_01=box(W, S, MX - millimetre, MY)), context))


def test_hole_is_a_gap_unless_an_island_grid_fills_it(context):
    hole = box(115.981, 36.441, 115.982, 36.442)
    holed = Polygon(box(W, S, MX, MY).exterior.coords, [hole.exterior.coords])
    report = topology.check_grids(layer(T_01=holed), context)
    gaps = report.issues[report.issues["kind"] == "gap"]
    assert len(gaps) == 1 and gaps["area_m2"].iloc[0] == pytest.approx(area_m2(hole), rel=1e-6)
    assert gaps["grids"].iloc[0] == "T-01"
    assert topology.check_grids(layer(T_01=holed, T_05=hole), context).issues.empty


def test_multipart_grid_is_a_warning(context):
    piece = box(W, S - 0.002, W + 0.001, S - 0.001)  # a separate piece south of T-01
    report = topology.check_grids(layer(T_01=MultiPolygon([box(W, S, MX, MY), piece])), context)
    assert kinds(report) == ["multipart"]
    assert report.issues["area_m2"].iloc[0] == pytest.approx(area_m2(piece), rel=1e-6)
    assert not report.has_errors


def test_grid_outside_the_district(context):
    far = box(116.40, 36.44, 116.41, 36.45)  # 35 km east: beyond 东昌府区
    report = topology.check_grids(layer(T_05=far), context)
    outside = report.issues[report.issues["kind"] == "outside"]
    assert len(outside) == 1 and outside["grids"].iloc[0] == "T-05"
    assert outside["area_m2"].iloc[0] == pytest.approx(area_m2(far), rel=1e-6)
    assert 116.40 < outside["lon"].iloc[0] < 116.41
    assert not report.has_errors  # a warning, not an error


def test_compound_cut_by_more_than_5_percent(context):
    # the T-01/T-02 boundary moved west to 115.985: 阳光小区 (115.982–115.986) is cut 75 % / 25 %
    report = topology.check_grids(layer(T_01=box(W, S, 115.985, MY), T_02=box(115.985, S, E, MY)), context)
    cut = report.issues[report.issues["kind"] == "compound_split"]
    assert len(cut) == 1 and "阳光小区" in cut["other"].iloc[0]
    compound = box(115.982, 36.444, 115.986, 36.448)
    expected = area_m2(box(115.985, 36.444, 115.986, 36.448))
    assert cut["area_m2"].iloc[0] == pytest.approx(expected, rel=1e-3)
    assert expected / area_m2(compound) == pytest.approx(0.25, abs=0.01)
    assert "village_split" not in kinds(report)
    # 2 % is tolerated
    report = topology.check_grids(layer(T_01=box(W, S, 115.98592, MY), T_02=box(115.98592, S, E, MY)), context)
    assert "compound_split" not in kinds(report)


def test_duplicate_codes(context):
    gdf = layer()
    gdf.loc[1, "code"] = "T-01"
    assert "duplicate" in kinds(topology.check_grids(gdf, context))


def test_snapping_within_tolerance_closes_the_gap_exactly(context):
    three_m = 3 / M_PER_DEG_LON
    edited = edits.replace_geometry(layer(), "T-01", box(W, S, MX - three_m, MY), tolerance_m=5)
    t01 = edited.set_index("code").geometry["T-01"]
    assert t01.bounds[2] == MX  # the east edge is T-02's west edge, bit for bit
    assert topology.check_grids(edited, context).issues.empty


def test_snapping_beyond_tolerance_leaves_the_gap(context):
    eight_m = 8 / M_PER_DEG_LON
    edited = edits.replace_geometry(layer(), "T-01", box(W, S, MX - eight_m, MY), tolerance_m=5)
    assert edited.set_index("code").geometry["T-01"].bounds[2] == pytest.approx(MX - eight_m, abs=1e-12)
    gaps = topology.check_grids(edited, context).issues.query("kind == 'gap'")
    assert len(gaps) == 1
    assert gaps["area_m2"].iloc[0] == pytest.approx(area_m2(box(MX - eight_m, S, MX, MY)), rel=1e-6)


def test_snapping_onto_an_edge_and_neighbours_giving_way(context):
    # a new grid drawn 2 m past the T-01/T-03 edge (lat 36.45) and 2 m short of T-02: after snapping
    # and differencing nothing overlaps and nothing is left open
    two_m_lat, two_m_lon = 2 / 110_950, 2 / M_PER_DEG_LON
    drawn = box(115.983, 36.443, MX - two_m_lon, MY + two_m_lat)
    edited = edits.add_grid(layer(), drawn, tolerance_m=5)
    new = edited.set_index("code").geometry["T-05"]
    assert new.bounds[2] == MX and new.bounds[3] == MY
    report = topology.check_grids(edited, context)
    assert not set(kinds(report)) & {"overlap", "gap", "invalid"}
    # the covered area is unchanged (exactly, as a union); per-grid sums agree to a few m² only, because
    # an inserted vertex on a straight WGS84 edge bends that edge slightly in EPSG:4548
    import shapely

    assert area_m2(shapely.union_all(edited.geometry.to_numpy())) == pytest.approx(area_m2(box(W, S, E, N)), rel=1e-7)
    assert sum(area_m2(g) for g in edited.geometry) == pytest.approx(sum(area_m2(g) for g in layer().geometry), rel=1e-5)
