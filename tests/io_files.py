"""Small data files for the import/export tests, written into a test's tmp_path.

Each function writes one kind of file the way it arrives from a city: a shapefile in EPSG:4548 from
the planning bureau, one with a GBK .dbf and no .cpg, a GBK CSV from Excel, an .xlsx ledger, GCJ-02 /
BD-09 exports from map apps, and broken ones (truncated, empty, zip-slip, zip bomb).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Point, Polygon, box

from gis.geo import china

# Two new grids north of the small city (lat 36.46–36.47), and a redrawn T-01.
NEW_GRIDS = [
    ("G-05", "新区1号网格", "新区街道", box(115.98, 36.46, 115.99, 36.47)),
    ("G-06", "新区2号网格", "新区街道", box(115.99, 36.46, 116.00, 36.47)),
    ("T-01", "古楼街道1号网格（调整）", "古楼街道", box(115.98, 36.44, 115.99, 36.451)),
]


def grid_frame(crs: str = "EPSG:4326", headers=("编号", "名称", "街道")) -> gpd.GeoDataFrame:
    """The grids with Chinese headers. A .dbf field name holds 10 bytes: 3 Chinese characters in UTF-8,
    5 in GBK (pass ("网格编号", "网格名称", "所属街道") for GBK files)."""
    gdf = gpd.GeoDataFrame({headers[0]: [g[0] for g in NEW_GRIDS], headers[1]: [g[1] for g in NEW_GRIDS],
                            headers[2]: [g[2] for g in NEW_GRIDS]},
                           geometry=[MultiPolygon([g[3]]) for g in NEW_GRIDS], crs="EPSG:4326")
    return gdf.to_crs(crs)


def write_shp(gdf: gpd.GeoDataFrame, path: Path, encoding: str = "UTF-8", prj: bool = True, cpg: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding)
    for suffix, keep in ((".prj", prj), (".cpg", cpg)):
        side = path.with_suffix(suffix)
        if not keep and side.exists():
            side.unlink()
    return path


def problems_frame() -> pd.DataFrame:
    """Three problems in the small city with Chinese headers and Chinese date formats."""
    return pd.DataFrame({
        "问题编号": ["IM-001", "IM-002", "IM-003"],
        "问题类型": ["占道经营", "暴露垃圾", "露天烧烤"],
        "问题描述": ["东昌路早市占道", "双井街垃圾堆积", "许营村夜间烧烤"],
        "上报时间": ["2025年3月5日 08:30", "2025/3/5", "2025-03-05"],
        "经度": [115.984, 115.985, 115.995],
        "纬度": [36.446, 36.4431, 36.445],
        "上报人": ["王芳", "李强", "市民"],
    })


def write_csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding=encoding)
    return path


def gcj_points(path: Path, system: str = "gcj02") -> tuple[Path, list[tuple[float, float]]]:
    """Points DW-1xx in WGS84 written shifted into GCJ-02 / BD-09 as a CSV; returns the true WGS84 positions."""
    wgs = [(115.984, 36.446), (115.995, 36.455)]
    lon, lat = zip(*wgs)
    shift = china.wgs84_to_gcj02 if system == "gcj02" else china.wgs84_to_bd09
    slon, slat = shift(list(lon), list(lat))
    df = pd.DataFrame({"点位编号": ["DW-101", "DW-102"], "点位名称": ["东关农贸市场", "花园小区南门"],
                       "点位类型": ["农贸市场", "小区"], "lng": slon, "lat": slat})
    return write_csv(df, path), wgs


def zip_of(files: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def shapefile_zip(shp: Path, path: Path) -> Path:
    return zip_of({p.name: p.read_bytes() for p in shp.parent.glob(shp.stem + ".*")}, path)


def bowtie() -> Polygon:
    """A self-intersecting polygon inside the small city."""
    return Polygon([(115.981, 36.441), (115.985, 36.445), (115.985, 36.441), (115.981, 36.445)])


def far_point() -> Point:
    return Point(117.0, 36.65)  # Jinan: 100 km away
