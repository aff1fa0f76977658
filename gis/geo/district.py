"""The district (区县) this deployment serves: its name and boundary, read once per change.

A city set up with `python -m gis init --boundary FILE --name 区名` keeps its boundary in the data
directory (`GRIDMAP_DISTRICT_FILE`, default ``data/district.geojson``: one WGS84 feature with its
``name``), written by `save_district`. Without that file the deployment is the demo city: the real
Dongchangfu boundary that ships in ``data/shapefiles/source/`` in GCJ-02 as published (AMap/DataV),
converted to WGS84 by ``gis.geo.china``. This module is the only place that reads either.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import shapely

from gis.config import ROOT, SHAPEFILE_DIR, setting
from gis.geo import china
from gis.geo.crs import METRIC_CRS, WGS84

DEMO_NAME = "东昌府区"
BOUNDARY_FILE = SHAPEFILE_DIR / "source" / "dongchangfu_boundary_gcj02.geojson"  # the demo city's, as published


def district_file() -> Path:
    """Where `gis init` keeps this deployment's boundary (relative paths from the project root)."""
    path = Path(setting("GRIDMAP_DISTRICT_FILE"))
    return path if path.is_absolute() else ROOT / path


def _key() -> tuple[str, float]:
    """(file, modification time) of the boundary in force: a new `gis init` is picked up without a restart."""
    path = district_file()
    try:
        return str(path), path.stat().st_mtime
    except OSError:
        return str(BOUNDARY_FILE), 0.0


@lru_cache(maxsize=4)
def _frame(path: str, _mtime: float) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path, engine="pyogrio")
    if path == str(BOUNDARY_FILE):
        gdf = china.to_wgs84(gdf, "gcj02")
    else:
        gdf = gdf.set_crs(WGS84, allow_override=True)
    return gdf[["name", "geometry"]]


def district_frame() -> gpd.GeoDataFrame:
    """The district boundary as a WGS84 GeoDataFrame (name, geometry)."""
    return _frame(*_key())


def district_name() -> str:
    """The district's name (东昌府区 for the demo city)."""
    return str(district_frame()["name"].iloc[0])


def custom_district() -> bool:
    """True once `gis init` has set this deployment's own boundary."""
    return district_file().is_file()


@lru_cache(maxsize=4)
def _boundary(path: str, mtime: float) -> shapely.Geometry:
    geom = shapely.union_all(_frame(path, mtime).geometry.to_numpy())
    shapely.prepare(geom)
    return geom


def district_boundary() -> shapely.Geometry:
    """The district boundary in WGS84 as one prepared geometry."""
    return _boundary(*_key())


@lru_cache(maxsize=8)
def _with_margin(path: str, mtime: float, margin_m: float) -> shapely.Geometry:
    metric = gpd.GeoSeries([_boundary(path, mtime)], crs=WGS84).to_crs(METRIC_CRS).buffer(margin_m)
    area = metric.to_crs(WGS84).iloc[0]
    shapely.prepare(area)
    return area


def district_with_margin(margin_m: float) -> shapely.Geometry:
    """The district grown by `margin_m` metres (measured in EPSG:4548), in WGS84, prepared."""
    return _with_margin(*_key(), margin_m)


def save_district(name: str, boundary: shapely.Geometry) -> Path:
    """Write this deployment's district (WGS84 polygonal `boundary`) to `district_file()`, atomically."""
    path = district_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    feature = {"type": "Feature", "properties": {"name": name},
               "geometry": json.loads(shapely.to_geojson(shapely.force_2d(boundary)))}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False),
                   encoding="utf-8")
    os.replace(tmp, path)
    return path
