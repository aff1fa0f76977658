"""Tests for gis.geo.china against published reference values.

Reference sources (expected values copied verbatim from these test files):
  [EVIL]  googollee/eviltransform, python/test.py, TESTS (WGS84 <-> GCJ-02;
          Shanghai, Shenzhen, Beijing).
  [CT]    wandergis/coordtransform, test/app.js, "//result" comment for the
          point (116.404, 39.915).
  [GCOORD] hujiulong/gcoord, test/unit/crs/{WGS84,GCJ02,BD09}.spec.ts, the point
          (123, 45) and the out-of-China point (183, 45).  gcoord's own
          GCJ-02 inverse iterates only to 1e-6 deg, so its inverse values are
          compared at 1e-6.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon

from gis.geo import china

GEOD = Geod(ellps="WGS84")
FWD_TOL = 1e-6  # degrees (~0.1 m)

# [EVIL] (wgs_lat, wgs_lng, gcj_lat, gcj_lng)
EVIL_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]

# [GCOORD] function, input (lon, lat), expected (lon, lat)
GCOORD_123_45 = [
    (china.wgs84_to_gcj02, (123.00607541, 45.00197815)),
    (china.gcj02_to_wgs84, (122.99395597, 44.99804071)),
    (china.wgs84_to_bd09, (123.0124491, 45.0083293)),
    (china.gcj02_to_bd09, (123.00636499, 45.00636899)),
    (china.bd09_to_gcj02, (122.99363304, 44.99365430)),
    (china.bd09_to_wgs84, (122.98762210, 44.99171540)),
]

# [CT] function, expected (lon, lat) for input (116.404, 39.915)
CT_116_404 = [
    (china.wgs84_to_gcj02, (116.41024449916938, 39.91640428150164)),
    (china.gcj02_to_bd09, (116.41036949371029, 39.92133699351021)),
    (china.bd09_to_gcj02, (116.39762729119315, 39.90865673957631)),
]


def distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres (independent of gis.geo.china)."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def liaocheng_grid(n: int = 21) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(115.9, 116.1, n), np.linspace(36.35, 36.55, n))
    return lon, lat


# --- forward transforms against published values ---------------------------


@pytest.mark.parametrize("wgs_lat, wgs_lng, gcj_lat, gcj_lng", EVIL_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lon, lat = china.wgs84_to_gcj02(wgs_lng, wgs_lat)
    assert lon == pytest.approx(gcj_lng, abs=FWD_TOL)
    assert lat == pytest.approx(gcj_lat, abs=FWD_TOL)


@pytest.mark.parametrize("func, expected", CT_116_404, ids=lambda v: getattr(v, "__name__", ""))
def test_matches_coordtransform(func, expected):
    lon, lat = func(116.404, 39.915)
    assert (lon, lat) == pytest.approx(expected, abs=FWD_TOL)


@pytest.mark.parametrize("func, expected", GCOORD_123_45, ids=lambda v: getattr(v, "__name__", ""))
def test_matches_gcoord(func, expected):
    lon, lat = func(123.0, 45.0)
    assert (lon, lat) == pytest.approx(expected, abs=FWD_TOL)


# --- iterative inverse -------------------------------------------------------


@pytest.mark.parametrize("wgs_lat, wgs_lng, gcj_lat, gcj_lng", EVIL_WGS_GCJ)
def test_gcj02_to_wgs84_recovers_published_wgs(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    # 1e-8 deg (~1 mm): the one-step approximation misses by ~5e-7 deg here.
    lon, lat = china.gcj02_to_wgs84(gcj_lng, gcj_lat)
    assert lon == pytest.approx(wgs_lng, abs=1e-8)
    assert lat == pytest.approx(wgs_lat, abs=1e-8)


def test_round_trip_wgs_gcj_wgs_liaocheng_below_1cm():
    lon, lat = liaocheng_grid()
    g_lon, g_lat = china.wgs84_to_gcj02(lon, lat)
    assert distance_m(lon, lat, g_lon, g_lat).min() > 300  # a real shift happened
    back_lon, back_lat = china.gcj02_to_wgs84(g_lon, g_lat)
    assert distance_m(lon, lat, back_lon, back_lat).max() < 0.01


def test_round_trip_gcj_wgs_gcj_liaocheng_below_1cm():
    lon, lat = liaocheng_grid()
    w_lon, w_lat = china.gcj02_to_wgs84(lon, lat)
    assert distance_m(lon, lat, w_lon, w_lat).min() > 300
    again_lon, again_lat = china.wgs84_to_gcj02(w_lon, w_lat)
    assert distance_m(lon, lat, again_lon, again_lat).max() < 0.01


def test_round_trip_bd09_liaocheng():
    # The published BD-09 -> GCJ-02 formula is itself approximate (~0.1 m).
    lon, lat = liaocheng_grid()
    b_lon, b_lat = china.wgs84_to_bd09(lon, lat)
    assert distance_m(lon, lat, b_lon, b_lat).min() > 1000
    back_lon, back_lat = china.bd09_to_wgs84(b_lon, b_lat)
    assert distance_m(lon, lat, back_lon, back_lat).max() < 0.5


# --- out of China, scalars and arrays -----------------------------------------


@pytest.mark.parametrize("func", [china.wgs84_to_gcj02, china.gcj02_to_wgs84])
@pytest.mark.parametrize("lon, lat", [(183.0, 45.0), (2.3522, 48.8566), (-74.006, 40.7128), (116.4, -33.9)])
def test_out_of_china_unchanged(func, lon, lat):
    assert func(lon, lat) == (lon, lat)


def test_out_of_china_bounding_box_edges():
    # Usual rule (coordtransform/gcoord): 72.004 <= lon <= 137.8347, 0.8293 <= lat <= 55.8271.
    lon = np.array([71.99, 72.01, 137.83, 137.84, 120.0, 120.0, 120.0, 120.0])
    lat = np.array([40.0, 40.0, 40.0, 40.0, 0.82, 0.84, 55.82, 55.83])
    expected = [True, False, False, True, True, False, False, True]
    np.testing.assert_array_equal(china.out_of_china(lon, lat), expected)
    out_lon, _ = china.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(out_lon == lon, expected)


@pytest.mark.parametrize("func", [china.wgs84_to_gcj02, china.gcj02_to_wgs84])
def test_mixed_array_only_china_shifted(func):
    lon = np.array([2.3522, 116.0, 151.2093])
    lat = np.array([48.8566, 36.45, -33.8688])
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon[[0, 2]], lon[[0, 2]])
    np.testing.assert_array_equal(out_lat[[0, 2]], lat[[0, 2]])
    assert distance_m(lon[1], lat[1], out_lon[1], out_lat[1]) > 300
    np.testing.assert_array_equal(china.out_of_china(lon, lat), [True, False, True])


ALL_FUNCS = [
    china.wgs84_to_gcj02,
    china.gcj02_to_wgs84,
    china.gcj02_to_bd09,
    china.bd09_to_gcj02,
    china.wgs84_to_bd09,
    china.bd09_to_wgs84,
]


@pytest.mark.parametrize("func", ALL_FUNCS, ids=lambda f: f.__name__)
def test_scalar_returns_floats(func):
    lon, lat = func(116.0, 36.45)
    assert type(lon) is float and type(lat) is float
    assert (lon, lat) != (116.0, 36.45)


@pytest.mark.parametrize("func", ALL_FUNCS, ids=lambda f: f.__name__)
def test_array_matches_scalar_elementwise(func):
    lon, lat = liaocheng_grid(4)  # 2-D input keeps its shape
    out_lon, out_lat = func(lon, lat)
    assert isinstance(out_lon, np.ndarray) and out_lon.shape == lon.shape
    assert isinstance(out_lat, np.ndarray) and out_lat.shape == lat.shape
    for (i, j), x in np.ndenumerate(lon):
        s_lon, s_lat = func(float(x), float(lat[i, j]))
        assert out_lon[i, j] == pytest.approx(s_lon, abs=1e-12)
        assert out_lat[i, j] == pytest.approx(s_lat, abs=1e-12)
    list_lon, _ = func(lon.ravel().tolist(), lat.ravel().tolist())
    np.testing.assert_allclose(list_lon, out_lon.ravel(), atol=1e-12, rtol=0)


# --- GeoDataFrame helpers ----------------------------------------------------


def liaocheng_multipolygon() -> MultiPolygon:
    hole = [(115.98, 36.43), (115.99, 36.43), (115.99, 36.44), (115.98, 36.44)]
    a = Polygon([(115.95, 36.40), (116.02, 36.40), (116.02, 36.47), (115.95, 36.47)], [hole])
    b = Polygon([(116.05, 36.50), (116.08, 36.50), (116.065, 36.53)])
    return MultiPolygon([a, b])


@pytest.fixture
def gcj_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["grid-1", "pt"]},
        geometry=[liaocheng_multipolygon(), Point(115.98, 36.45)],
        crs="EPSG:4326",
    )


def test_to_wgs84_multipolygon(gcj_gdf):
    original = gcj_gdf.copy()
    out = china.to_wgs84(gcj_gdf, "gcj02")

    assert out.crs.to_epsg() == 4326
    assert list(out["name"]) == ["grid-1", "pt"]
    assert gcj_gdf.geom_equals(original.geometry).all()  # input not modified

    src, dst = gcj_gdf.geometry.iloc[0], out.geometry.iloc[0]
    assert dst.geom_type == "MultiPolygon" and len(dst.geoms) == 2
    assert [len(p.interiors) for p in dst.geoms] == [1, 0]
    src_xy = shapely.get_coordinates(src)
    dst_xy = shapely.get_coordinates(dst)
    assert src_xy.shape == dst_xy.shape

    shift = distance_m(src_xy[:, 0], src_xy[:, 1], dst_xy[:, 0], dst_xy[:, 1])
    assert 300 < shift.min() and shift.max() < 600
    # Locally a near-uniform translation, so the shape is preserved: every vertex
    # is within 50 m of the mean-translated source and the area is within 1 %.
    mean = (dst_xy - src_xy).mean(axis=0)
    moved = src_xy + mean
    assert distance_m(moved[:, 0], moved[:, 1], dst_xy[:, 0], dst_xy[:, 1]).max() < 50
    assert dst.area == pytest.approx(src.area, rel=1e-2)
    exp_lon, exp_lat = china.gcj02_to_wgs84(src_xy[:, 0], src_xy[:, 1])
    np.testing.assert_allclose(dst_xy, np.column_stack([exp_lon, exp_lat]), atol=1e-12, rtol=0)


def test_to_wgs84_geoseries_without_crs():
    s = gpd.GeoSeries([liaocheng_multipolygon()])
    out = china.to_wgs84(s, "bd09")
    assert isinstance(out, gpd.GeoSeries) and out.crs.to_epsg() == 4326
    c0, c1 = s.iloc[0].centroid, out.iloc[0].centroid
    assert distance_m(c0.x, c0.y, c1.x, c1.y) > 1000


def test_transform_geometry_keeps_z_and_handles_arrays():
    geoms = np.array([Point(116.0, 36.45, 35.0), liaocheng_multipolygon()])
    out = china.transform_geometry(geoms, china.wgs84_to_gcj02)
    assert out.shape == (2,) and out[0].has_z and out[0].z == 35.0
    exp_lon, exp_lat = china.wgs84_to_gcj02(116.0, 36.45)
    assert (out[0].x, out[0].y) == pytest.approx((exp_lon, exp_lat), abs=1e-12)
    assert out[1].geom_type == "MultiPolygon"


def test_to_wgs84_from_wgs84_round_trip(gcj_gdf):
    wgs = gcj_gdf.copy()
    for system in ("gcj02", "bd09"):
        shown = china.from_wgs84(wgs, system)
        assert not shown.geom_equals_exact(wgs.geometry, tolerance=1e-3).any()
        back = china.to_wgs84(shown, system)
        a = shapely.get_coordinates(wgs.geometry.values)
        b = shapely.get_coordinates(back.geometry.values)
        limit = 0.01 if system == "gcj02" else 0.5
        assert distance_m(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < limit


def test_wgs84_source_is_unshifted_copy(gcj_gdf):
    out = china.to_wgs84(gcj_gdf.set_crs(None, allow_override=True), "wgs84")
    assert out.crs.to_epsg() == 4326
    assert out.geom_equals_exact(gcj_gdf.geometry, tolerance=0).all()


def test_from_wgs84_reprojects_projected_input(gcj_gdf):
    utm = gcj_gdf.to_crs("EPSG:32650")
    out = china.from_wgs84(utm, "wgs84")
    assert out.crs.to_epsg() == 4326
    assert out.geom_equals_exact(gcj_gdf.geometry, tolerance=1e-7).all()


def test_invalid_inputs_raise(gcj_gdf):
    with pytest.raises(ValueError):
        china.to_wgs84(gcj_gdf, "mars")
    with pytest.raises(ValueError):
        china.from_wgs84(gcj_gdf, "bd-09")
    with pytest.raises(ValueError):
        china.to_wgs84(gcj_gdf.to_crs("EPSG:32650"), "gcj02")
