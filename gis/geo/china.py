"""Conversions between WGS84 and China's offset coordinate systems.

Maps published in mainland China must use GCJ-02 ("Mars coordinates"), a
legally mandated, deliberately obfuscated datum: WGS84 positions are shifted
by a non-linear function of up to several hundred metres.  AMap (Gaode),
DataV GeoAtlas boundaries and Tencent Maps use GCJ-02; Baidu Maps adds a
further offset on top of it, BD-09.

gridmap stores all data in WGS84 (EPSG:4326).  This module converts
coordinates that come from Chinese map services into WGS84 (``to_wgs84``),
and shifts WGS84 data onto a GCJ-02/BD-09 basemap for display
(``from_wgs84``).

The forward GCJ-02 transform is the widely circulated Krasovsky-1940
formula.  It has no closed-form inverse, so ``gcj02_to_wgs84`` solves it by
fixed-point iteration (round-trip error far below 1 cm).  BD-09 uses the
usual published pair of formulas.  Points outside the rough China bounding
box are left unchanged by the GCJ-02 functions, as in every common
implementation.

All point functions are vectorised with numpy: they accept scalars or
array-likes and return a ``(lon, lat)`` tuple of arrays (floats for scalar
input).
"""

from __future__ import annotations

from typing import Callable, Literal, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

Coords = tuple[np.ndarray | float, np.ndarray | float]
PointFunc = Callable[[npt.ArrayLike, npt.ArrayLike], Coords]
GeoData = TypeVar("GeoData", gpd.GeoDataFrame, gpd.GeoSeries)
System = Literal["wgs84", "gcj02", "bd09"]

_A = 6378245.0  # Krasovsky-1940 semi-major axis (m)
_EE = 0.00669342162296594323  # Krasovsky-1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # BD-09 constant
_INVERSE_TOL = 1e-9  # degrees
_INVERSE_MAX_ITER = 10


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return lon and lat as broadcast float arrays."""
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a, lat_a


def _output(lon: np.ndarray, lat: np.ndarray) -> Coords:
    """Return plain floats for 0-d results, arrays otherwise."""
    if lon.ndim == 0:
        return float(lon), float(lat)
    return lon, lat


def _outside_mask(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Boolean array, True outside the rough China bounding box used by all GCJ-02 code."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> np.ndarray | bool:
    """True where a point lies outside China, i.e. gets no GCJ-02 offset."""
    outside = _outside_mask(*_as_arrays(lon, lat))
    return bool(outside) if outside.ndim == 0 else outside


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 position (lon, lat), no bbox check."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0

    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Coords:
    """Convert WGS84 to GCJ-02; points outside China are returned unchanged."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    outside = _outside_mask(lon_a, lat_a)
    return _output(np.where(outside, lon_a, lon_a + dlon), np.where(outside, lat_a, lat_a + dlat))


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Coords:
    """Convert GCJ-02 to WGS84 by fixed-point iteration of the forward transform.

    Iterates ``w <- w - (gcj(w) - g)`` until every point's residual is below
    1e-9 degrees (at most 10 iterations; 3-4 are typical).  Points outside
    China are returned unchanged.
    """
    g_lon, g_lat = _as_arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        dlon, dlat = _gcj_delta(w_lon, w_lat)
        res_lon = w_lon + dlon - g_lon
        res_lat = w_lat + dlat - g_lat
        w_lon = w_lon - res_lon
        w_lat = w_lat - res_lat
        if max(np.max(np.abs(res_lon), initial=0.0), np.max(np.abs(res_lat), initial=0.0)) < _INVERSE_TOL:
            break
    outside = _outside_mask(g_lon, g_lat)
    return _output(np.where(outside, g_lon, w_lon), np.where(outside, g_lat, w_lat))


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Coords:
    """Convert GCJ-02 to BD-09 (Baidu)."""
    x, y = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _output(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Coords:
    """Convert BD-09 (Baidu) to GCJ-02 with the standard published formula."""
    lon_a, lat_a = _as_arrays(lon, lat)
    x = lon_a - 0.0065
    y = lat_a - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _output(z * np.cos(theta), z * np.sin(theta))


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Coords:
    """Convert WGS84 to BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Coords:
    """Convert BD-09 to WGS84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[str, PointFunc] = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84: dict[str, PointFunc] = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def transform_geometry(geoms: npt.ArrayLike, func: PointFunc) -> np.ndarray:
    """Apply a point function to every coordinate of one or many shapely geometries.

    All coordinates are converted in a single vectorised call through
    ``shapely.transform``; Z values (if any) are kept untouched.
    """

    def apply(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    return shapely.transform(geoms, apply, include_z=None)


def _system_func(table: dict[str, PointFunc], system: str) -> PointFunc | None:
    """Look up the conversion for ``system``; None means WGS84 (no shift)."""
    if system == "wgs84":
        return None
    if system not in table:
        raise ValueError(f"unknown coordinate system {system!r}; expected 'wgs84', 'gcj02' or 'bd09'")
    return table[system]


def _replace_geometry(data: GeoData, func: PointFunc | None) -> GeoData:
    """Copy of ``data`` with its active geometry shifted by ``func`` and CRS EPSG:4326."""
    out = data.copy()
    if func is not None:
        shifted = transform_geometry(np.asarray(data.geometry.values), func)
        if isinstance(out, gpd.GeoDataFrame):
            out[out.geometry.name] = gpd.GeoSeries(shifted, index=out.index, crs=out.crs)
        else:
            out = gpd.GeoSeries(shifted, index=out.index, crs=out.crs, name=out.name)
    return out.set_crs("EPSG:4326", allow_override=True)


def to_wgs84(data: GeoData, source: System) -> GeoData:
    """Return a WGS84 (EPSG:4326) copy of ``data`` whose coordinates are in ``source``.

    Data from Chinese services carrying GCJ-02/BD-09 lon/lat is often labelled
    EPSG:4326 or has no CRS; either is accepted.  A projected CRS is only
    allowed for ``source="wgs84"`` (it is reprojected).
    """
    func = _system_func(_TO_WGS84, source)
    if data.crs is not None and not data.crs.is_geographic:
        if func is not None:
            raise ValueError(f"{source} data must be in geographic lon/lat, got CRS {data.crs}")
        return data.to_crs("EPSG:4326")
    return _replace_geometry(data, func)


def from_wgs84(data: GeoData, target: System) -> GeoData:
    """Return a copy of WGS84 ``data`` shifted into ``target`` for display on that basemap.

    Data in another CRS is first reprojected to EPSG:4326.  The result is still
    labelled EPSG:4326, because GCJ-02/BD-09 have no EPSG code and web basemaps
    treat them as plain lon/lat.
    """
    func = _system_func(_FROM_WGS84, target)
    if data.crs is not None and not data.crs.equals("EPSG:4326"):
        data = data.to_crs("EPSG:4326")
    return _replace_geometry(data, func)


def geometry_to_wgs84(geom, source: System):
    """One shapely geometry in `source` lon/lat (e.g. drawn on a GCJ-02 basemap) back in WGS84."""
    func = _system_func(_TO_WGS84, source)
    return geom if func is None else transform_geometry(geom, func)


def lonlat_from_wgs84(df, target: System, lon: str = "lon", lat: str = "lat"):
    """A copy of a table whose WGS84 `lon` / `lat` columns are shifted into `target` (for display)."""
    func = _system_func(_FROM_WGS84, target)
    if func is None or len(df) == 0:
        return df
    x, y = func(df[lon].to_numpy(float), df[lat].to_numpy(float))
    return df.assign(**{lon: x, lat: y})
