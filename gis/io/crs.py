"""Coordinate systems of Chinese data, all converted to WGS84 (EPSG:4326) on the way in.

- a ``.prj`` (or a GeoPackage/GeoJSON CRS) is used when present, or ``--crs EPSG:NNNN``;
- CGCS2000 (EPSG:4490) and its Gauss-Krüger zones (3-degree EPSG:4513–4554, 6-degree EPSG:4491–4512;
  Liaocheng's survey data is EPSG:4548, CM 117E) are reprojected with pyproj;
- GCJ-02 (AMap, Tencent) and BD-09 (Baidu) lon/lat are converted by ``gis.geo.china`` when declared;
- with no CRS at all, the coordinate range says what it is (lon/lat, GK with a zone prefix, GK
  without one → the zone of the district), and the guess is reported;
- longitude and latitude given the wrong way round are detected and swapped, and reported;
- coordinates outside the district (plus a margin) are refused, naming the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer

from gis.geo import china
from gis.geo.district import district_with_margin
from gis.io import InputError

WGS84 = CRS.from_epsg(4326)
CGCS2000 = CRS.from_epsg(4490)
DISTRICT_CM = 117  # central meridian of the district's 3-degree Gauss-Krüger zone (EPSG:4548)
MARGIN_M = 3000.0
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
COORD_LABELS = {"wgs84": "WGS84（GPS 原始坐标）", "gcj02": "GCJ-02（高德、腾讯地图）", "bd09": "BD-09（百度地图）"}


@dataclass
class CrsChoice:
    """The CRS used for a file and how it was found ('prj', 'file', 'option', 'guess', 'default')."""

    crs: CRS
    how: str
    note: str


def describe(crs: CRS | None) -> str:
    if crs is None:
        return "（未知）"
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg} {crs.name}" if epsg else crs.name


def parse(text: str) -> CRS:
    """A user-given CRS (``EPSG:4548``, ``4548``, WKT); InputError when unknown."""
    value = text.strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except Exception:
        raise InputError(f"无法识别的坐标系“{text}”：请写成 EPSG:4548 这样的形式。") from None


def read_prj(shp: Path) -> CRS | None:
    for prj in (shp.with_suffix(".prj"), shp.with_suffix(".PRJ")):
        if prj.exists():
            text = prj.read_bytes().decode("utf-8", errors="replace").strip()
            if not text:
                return None
            try:
                return CRS.from_wkt(text)
            except Exception:
                try:
                    return CRS.from_user_input(text)
                except Exception:
                    raise InputError(f"{prj.name} 无法解析：不是有效的坐标系定义（WKT）。") from None
    return None


def _is_lonlat(x: float, y: float) -> bool:
    return 73.0 <= x <= 136.0 and 3.0 <= y <= 54.0


def guess(x: np.ndarray, y: np.ndarray) -> CrsChoice:
    """The CRS of coordinates with no declared CRS, from their range (medians)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return CrsChoice(WGS84, "default", "没有可用坐标，按经纬度 WGS84 处理。")
    mx, my = float(np.median(x[ok])), float(np.median(y[ok]))
    if _is_lonlat(mx, my) or _is_lonlat(my, mx):
        return CrsChoice(WGS84, "guess", "文件未声明坐标系：坐标范围为经纬度，按 WGS84（CGCS2000 经纬度与之相差不足 1 米）处理。")
    if 2e5 <= my <= 6e6:
        zone = int(mx // 1_000_000)
        if 25 <= zone <= 45 and 2e5 <= mx - zone * 1e6 <= 8e5:
            epsg = 4513 + zone - 25
            return CrsChoice(CRS.from_epsg(epsg), "guess",
                             f"文件未声明坐标系：X 坐标带 {zone} 号带带号，推断为 CGCS2000 3 度带高斯-克吕格投影（EPSG:{epsg}）。")
        if 13 <= zone <= 23 and 2e5 <= mx - zone * 1e6 <= 8e5:
            epsg = 4491 + zone - 13
            return CrsChoice(CRS.from_epsg(epsg), "guess",
                             f"文件未声明坐标系：X 坐标带 {zone} 号带带号，推断为 CGCS2000 6 度带高斯-克吕格投影（EPSG:{epsg}）。")
        if 2e5 <= mx <= 8e5:
            epsg = 4534 + (DISTRICT_CM - 75) // 3
            return CrsChoice(CRS.from_epsg(epsg), "guess",
                             f"文件未声明坐标系：坐标为米制平面坐标且不带带号，按本区所在的 CGCS2000 3 度带"
                             f"（中央经线 {DISTRICT_CM}°E，EPSG:{epsg}）处理。如不正确请用 --crs 指定。")
    raise InputError(f"文件未声明坐标系，且无法从坐标范围推断（X 中位数 {mx:.3f}，Y 中位数 {my:.3f}）。"
                     "请用 --crs 指定，例如 --crs EPSG:4548。")


def choose(declared: CRS | None, how: str, option: str | None, x, y) -> CrsChoice:
    """The CRS to use: --crs beats the file's, the file's beats a guess."""
    if option:
        crs = parse(option)
        return CrsChoice(crs, "option", f"按指定的坐标系 {describe(crs)} 读取。")
    if declared is not None:
        origin = "文件 .prj 中" if how == "prj" else "文件中"
        return CrsChoice(declared, how, f"{origin}声明的坐标系：{describe(declared)}。")
    return guess(x, y)


@lru_cache(maxsize=16)
def _transformer(wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(wkt), WGS84, always_xy=True)


def xy_to_wgs84(x: np.ndarray, y: np.ndarray, crs: CRS, system: str = "wgs84") -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in `crs` (and, for lon/lat, in the Chinese `system`) as WGS84 lon/lat arrays."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if not crs.equals(WGS84):
        x, y = _transformer(crs.to_wkt()).transform(x, y)
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if system != "wgs84":
        if not crs.is_geographic:
            raise InputError(f"坐标来源 {COORD_LABELS[system]} 只适用于经纬度数据，而文件的坐标系是投影坐标 {describe(crs)}。")
        x, y = (china.gcj02_to_wgs84 if system == "gcj02" else china.bd09_to_wgs84)(x, y)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def geoms_to_wgs84(geoms: np.ndarray, crs: CRS, system: str = "wgs84") -> np.ndarray:
    """Shapely geometries converted like ``xy_to_wgs84`` (all coordinates in one vectorised call)."""
    if crs.equals(WGS84) and system == "wgs84":
        return geoms

    def apply(c: np.ndarray) -> np.ndarray:
        out = c.copy()
        out[:, 0], out[:, 1] = xy_to_wgs84(c[:, 0], c[:, 1], crs, system)
        return out

    return shapely.transform(geoms, apply)


def swap_xy(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: c[:, ::-1].copy())


def outside_points(lon: np.ndarray, lat: np.ndarray, margin_m: float = MARGIN_M, area=None) -> np.ndarray:
    """True where a WGS84 point lies outside the district plus the margin (NaN counts as outside); `area`:
    another prepared WGS84 area instead (several districts, `gis.geo.districts.districts_with_margin`)."""
    area = district_with_margin(margin_m) if area is None else area
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside = np.zeros(len(lon), dtype=bool)
    minx, miny, maxx, maxy = area.bounds
    box = np.isfinite(lon) & np.isfinite(lat) & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
    idx = np.flatnonzero(box)
    inside[idx] = shapely.contains_xy(area, lon[idx], lat[idx])
    return ~inside


def outside_geoms(geoms: np.ndarray, margin_m: float = MARGIN_M, area=None) -> np.ndarray:
    """True where a geometry is not within the district plus the margin (or within `area`, as above)."""
    area = district_with_margin(margin_m) if area is None else area
    out = np.ones(len(geoms), dtype=bool)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out[present] = ~shapely.within(geoms[present], area)
    return out
