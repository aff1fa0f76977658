"""Coordinate reference systems: the stored one, the one we measure in, and the checks public functions make.

Everything is stored in WGS84 (EPSG:4326). Areas and lengths are measured in CGCS2000 / 3-degree
Gauss-Krüger CM 117E (EPSG:4548, 米制坐标), Liaocheng's survey CRS. China's obfuscated lon/lat systems
(GCJ-02, BD-09) live in ``gis.geo.china``.
"""

from __future__ import annotations

import queue
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:4548"  # CGCS2000 / 3-degree Gauss-Krüger CM 117E
WGS84_CRS = CRS.from_user_input(WGS84)

# Transformer pairs (to EPSG:4548 and back), each used by one thread at a time: pyproj's are not thread-safe,
# and Streamlit runs every script run in a new thread (one pair per thread was built again on each run).
_pairs: queue.SimpleQueue = queue.SimpleQueue()


class CRSError(ValueError):
    """A frame without a CRS, or in another CRS than a function expects (message in Chinese)."""


def require_wgs84(gdf: gpd.GeoDataFrame, what: str = "图层") -> gpd.GeoDataFrame:
    """`gdf` itself when it is in WGS84; raise CRSError when it has no CRS or another one.

    Public functions that take frames call this first (as geopandas' sjoin checks its inputs),
    so a frame in metres is never silently read as degrees.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise CRSError(f"{what}不是地理数据表（GeoDataFrame）")
    if gdf.crs is None:
        raise CRSError(f"{what}没有坐标系：请先声明（例如 EPSG:4326 或 EPSG:4548）")
    if not CRS.from_user_input(gdf.crs).equals(WGS84_CRS):
        raise CRSError(f"{what}的坐标系是 {gdf.crs.to_string()}，应为 WGS84（EPSG:4326）：请先转换")
    return gdf


def as_wgs84(gdf: gpd.GeoDataFrame, what: str = "图层") -> gpd.GeoDataFrame:
    """`gdf` reprojected to WGS84 (a copy when needed); raise CRSError when it has no CRS."""
    if gdf.crs is None:
        raise CRSError(f"{what}没有坐标系：请先声明（例如 EPSG:4326 或 EPSG:4548）")
    return gdf if CRS.from_user_input(gdf.crs).equals(WGS84_CRS) else gdf.to_crs(WGS84)


@contextmanager
def _transformers():
    """A (to metres, to WGS84) Transformer pair for this thread's exclusive use while the block runs."""
    try:
        pair = _pairs.get_nowait()
    except queue.Empty:
        pair = (Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True),
                Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True))
    try:
        yield pair
    finally:
        _pairs.put(pair)


def _apply(geoms, transformer: Transformer):
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((x, y))

    return shapely.transform(geoms, fn)


def to_metric(geoms):
    """WGS84 shapely geometries (one or an array) in EPSG:4548 metres."""
    with _transformers() as (forward, _back):
        return _apply(geoms, forward)


def from_metric(geoms):
    """EPSG:4548 geometries back to WGS84 lon/lat."""
    with _transformers() as (_forward, back):
        return _apply(geoms, back)


def xy_to_metric(lon, lat) -> np.ndarray:
    """WGS84 lon/lat (scalars or arrays) as an (n, 2) array of EPSG:4548 easting/northing."""
    with _transformers() as (forward, _back):
        x, y = forward.transform(np.atleast_1d(lon), np.atleast_1d(lat))
    return np.column_stack([x, y])


def areas_m2(geoms) -> np.ndarray:
    """Areas in m² (EPSG:4548) of WGS84 geometries."""
    return shapely.area(to_metric(np.asarray(geoms, dtype=object)))


def lengths_m(geoms) -> np.ndarray:
    """Lengths in m (EPSG:4548) of WGS84 geometries."""
    return shapely.length(to_metric(np.asarray(geoms, dtype=object)))


def polygonal(geoms) -> np.ndarray:
    """Valid, polygon-only versions of geometries (make_valid, lines and points dropped)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    bad = ~shapely.is_valid(geoms) | ~np.isin(shapely.get_type_id(geoms), (3, 6))
    for i in np.flatnonzero(bad):
        g = geoms[i]
        if g is None or g.is_empty:
            out[i] = shapely.MultiPolygon()
            continue
        fixed = shapely.make_valid(g)
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
        parts = [q for p in parts for q in shapely.get_parts(p)]
        out[i] = shapely.MultiPolygon(parts) if parts else shapely.MultiPolygon()
    return out
