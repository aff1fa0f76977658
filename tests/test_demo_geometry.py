"""Tests for gis.demo.geometry: the deterministic demo city in the urban core of 东昌府区.

Areas and distances are measured in EPSG:4548 (CGCS2000 / 3-degree GK CM 117E), the survey CRS
of Liaocheng; containment in the district is checked in WGS84 against the real boundary.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.geo.district import BOUNDARY_FILE
from gis.geo.china import to_wgs84
from gis.demo.geometry import build_geometry

METRIC = "EPSG:4548"
LAYERS = ("core", "grids", "streets", "compounds", "villages", "points")
COLUMNS = {
    "core": ["name", "geometry"],
    "grids": ["code", "name", "subdistrict", "geometry"],
    "streets": ["code", "name", "road_class", "geometry"],
    "compounds": ["code", "name", "households", "property_company", "geometry"],
    "villages": ["code", "name", "households", "geometry"],
    "points": ["code", "name", "kind", "ref_code", "geometry"],
}
POINT_KINDS = {
    "主次干道", "背街小巷", "商业大街", "农贸市场", "学校", "医院", "公共厕所",
    "广场公园", "车站", "九小门店", "小区", "城中村", "机关单位", "建筑工地",
}
MAIN_ROADS = {
    "东昌东路", "东昌西路", "柳园南路", "柳园北路", "兴华东路", "兴华西路", "建设东路", "建设西路",
    "振兴东路", "振兴西路", "湖南东路", "湖南西路", "光岳南路", "光岳北路", "花园南路", "花园北路",
    "昌润南路", "昌润北路", "卫育路", "站前街", "中华路", "长江路", "嘉园路", "京济路",
}
CODE_PATTERNS = {
    "grids": r"DC-\d{2}", "streets": r"JX-\d{3}", "compounds": r"XQ-\d{4}",
    "villages": r"CZC-\d{2}", "points": r"DW-\d{4}",
}


@pytest.fixture(scope="module")
def city() -> dict[str, gpd.GeoDataFrame]:
    return build_geometry()


@pytest.fixture(scope="module")
def metric(city) -> dict[str, gpd.GeoDataFrame]:
    return {k: v.to_crs(METRIC) for k, v in city.items()}


def _pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of geometries whose envelopes meet."""
    i, j = shapely.STRtree(geoms).query(geoms)
    keep = i < j
    return i[keep], j[keep]


def test_layers_columns_and_crs(city):
    assert tuple(city) == LAYERS
    for name, frame in city.items():
        assert list(frame.columns) == COLUMNS[name], name
        assert frame.crs.to_epsg() == 4326, name
        assert shapely.is_valid(frame.geometry.values).all(), name
        assert not frame.geometry.is_empty.any(), name


def test_exact_counts(city):
    assert len(city["core"]) == 1
    assert len(city["grids"]) == 61
    assert len(city["streets"]) == 142
    assert len(city["compounds"]) == 662
    assert len(city["villages"]) == 54
    assert len(city["points"]) >= 400
    assert set(city["points"].kind) == POINT_KINDS


def test_geometry_types(city):
    assert (city["core"].geom_type == "Polygon").all()
    assert (city["grids"].geom_type == "MultiPolygon").all()
    assert (city["streets"].geom_type == "LineString").all()
    assert (city["compounds"].geom_type == "Polygon").all()
    assert (city["villages"].geom_type == "Polygon").all()
    assert (city["points"].geom_type == "Point").all()


def test_core_size_and_place(metric, city):
    area = metric["core"].area.iloc[0] / 1e6
    assert 100.0 <= area <= 150.0
    xmin, ymin, xmax, ymax = city["core"].total_bounds
    assert 115.90 <= xmin and xmax <= 116.10 and 36.38 <= ymin and ymax <= 36.52
    core = metric["core"].geometry.iloc[0]
    assert core.area < 0.9 * shapely.oriented_envelope(core).area  # not a rectangle


def test_grids_tile_the_core(metric):
    core = metric["core"].geometry.iloc[0]
    grids = metric["grids"].geometry.values
    union = shapely.union_all(grids)
    assert abs(union.area - core.area) < 1.0
    assert shapely.symmetric_difference(union, core).area < 1.0
    i, j = _pairs(grids)
    overlaps = shapely.area(shapely.intersection(grids[i], grids[j]))
    assert overlaps.max() < 1.0
    assert abs(shapely.area(grids).sum() - core.area) < 1.0  # no overlap hidden by the union


def test_grid_sizes_and_subdistricts(metric):
    grids = metric["grids"]
    km2 = grids.area / 1e6
    assert km2.min() > 0.8 and km2.max() < 3.2
    assert list(grids.code) == [f"DC-{k:02d}" for k in range(1, 62)]
    counts = grids.subdistrict.value_counts()
    assert (counts >= 2).all() and len(counts) >= 10
    for sd, group in grids.groupby("subdistrict", sort=False):
        assert list(group.name) == [f"{sd}第{k}网格" for k in range(1, len(group) + 1)]


def test_everything_inside_the_district(city):
    district = to_wgs84(gpd.read_file(BOUNDARY_FILE), "gcj02").geometry.union_all()
    for name, frame in city.items():
        assert shapely.covers(district, frame.geometry.values).all(), name


def test_everything_inside_the_core(metric):
    core = metric["core"].geometry.iloc[0].buffer(0.5)
    for name in LAYERS[1:]:
        assert shapely.covers(core, metric[name].geometry.values).all(), name


def test_compounds_and_villages_do_not_overlap(metric):
    geoms = np.concatenate([metric["compounds"].geometry.values, metric["villages"].geometry.values])
    i, j = _pairs(geoms)
    assert not shapely.intersects(geoms[i], geoms[j]).any()


def test_compound_and_village_sizes(metric):
    ha = metric["compounds"].area / 1e4
    assert ha.min() >= 1.0 and ha.max() <= 15.0
    ha = metric["villages"].area / 1e4
    assert ha.min() >= 5.0 and ha.max() <= 40.0
    households = metric["compounds"].households
    assert households.between(80, 3000).all() and households.std() > 100
    assert metric["villages"].households.gt(0).all()
    no_company = metric["compounds"].property_company.isna().mean()
    assert 0.10 <= no_company <= 0.20


def test_compounds_mostly_in_one_grid(metric):
    compounds = metric["compounds"].geometry.values
    grids = metric["grids"].geometry.values
    c, g = shapely.STRtree(grids).query(compounds, predicate="intersects")
    inside = np.zeros(len(compounds))
    np.maximum.at(inside, c, shapely.area(shapely.intersection(compounds[c], grids[g])))
    split = inside / shapely.area(compounds) < 0.95
    assert split.mean() <= 0.05


def test_compounds_do_not_cross_main_roads(metric):
    streets = metric["streets"]
    main = shapely.union_all(streets[streets.road_class == "主干道"].geometry.values)
    assert not shapely.intersects(metric["compounds"].geometry.values, main).any()


def test_villages_lean_to_the_edge(metric):
    core = metric["core"].geometry.iloc[0]
    reach = np.sqrt(core.area / np.pi)
    d_v = shapely.distance(core.centroid, metric["villages"].centroid.values) / reach
    d_c = shapely.distance(core.centroid, metric["compounds"].centroid.values) / reach
    assert np.median(d_v) > np.median(d_c)


@pytest.mark.parametrize("layer", ["grids", "streets", "compounds", "villages", "points"])
def test_unique_codes_and_names(city, layer):
    frame = city[layer]
    assert frame.code.is_unique and frame.name.is_unique
    assert frame.code.str.fullmatch(CODE_PATTERNS[layer]).all()
    assert list(frame.code) == sorted(frame.code)


def test_main_roads_come_first(city):
    streets = city["streets"]
    classes = list(streets.road_class)
    n_main = classes.count("主干道")
    assert 24 <= n_main <= 36
    assert classes == sorted(classes, key=["主干道", "次干道", "背街小巷"].index)
    head = streets.iloc[:n_main]
    assert MAIN_ROADS <= set(head.name)
    assert list(head.name[:4]) == ["东昌西路", "东昌东路", "柳园南路", "柳园北路"]
    assert 30 <= classes.count("次干道") <= 50 and 60 <= classes.count("背街小巷") <= 80


def test_main_roads_have_real_orientation(metric):
    streets = metric["streets"].set_index("name")
    for name in MAIN_ROADS:
        x0, y0, x1, y1 = streets.geometry[name].bounds
        east_west = (x1 - x0) > (y1 - y0)
        if re.search(r"[东西]路$", name):
            assert east_west, name
        if re.search(r"[南北]路$", name):
            assert not east_west, name
    east, west = streets.geometry["东昌东路"], streets.geometry["东昌西路"]
    assert east.centroid.x > west.centroid.x and east.touches(west)
    north, south = streets.geometry["柳园北路"], streets.geometry["柳园南路"]
    assert north.centroid.y > south.centroid.y


def test_lanes_are_short(metric):
    streets = metric["streets"]
    lanes = streets[streets.road_class == "背街小巷"].length
    assert lanes.between(199.0, 601.0).all()


def test_points_belong_to_their_features(metric):
    points = metric["points"]
    refs = {"主次干道": "streets", "背街小巷": "streets", "小区": "compounds", "城中村": "villages"}
    for kind, layer in refs.items():
        sub = points[points.kind == kind]
        assert sub.ref_code.notna().all(), kind
        features = metric[layer].set_index("code").geometry
        target = features.loc[list(sub.ref_code)].values
        if layer == "streets":
            assert (shapely.distance(sub.geometry.values, target) < 0.5).all(), kind
        else:
            assert shapely.within(sub.geometry.values, target).all(), kind
    others = points[~points.kind.isin(list(refs))]
    assert others.ref_code.isna().all()


def test_points_do_not_sit_in_compounds_unless_they_are_compounds(metric):
    points = metric["points"]
    loose = points[points.kind.isin(["公共厕所", "九小门店", "学校", "医院", "机关单位", "建筑工地"])]
    hit, _ = shapely.STRtree(metric["compounds"].geometry.values).query(loose.geometry.values, predicate="within")
    assert len(np.unique(hit)) <= 0.02 * len(loose)


def test_deterministic(city):
    again = build_geometry()
    for name in LAYERS:
        a, b = city[name], again[name]
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        assert list(shapely.to_wkb(a.geometry.values)) == list(shapely.to_wkb(b.geometry.values)), name


def test_seed_changes_the_details_not_the_skeleton(city):
    other = build_geometry(seed=7)
    assert other["core"].geometry.iloc[0].equals(city["core"].geometry.iloc[0])
    assert list(other["streets"].name[:30]) == list(city["streets"].name[:30])
    assert not other["compounds"].geometry.values[0].equals(city["compounds"].geometry.values[0])
    assert len(other["grids"]) == 61 and len(other["compounds"]) == 662
