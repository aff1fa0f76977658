"""The district (区县) this deployment serves: its name and boundary, read once.

The boundary ships in ``data/shapefiles/source/`` in GCJ-02 as published (AMap/DataV) and is
converted to WGS84 by ``gis.geo.china`` here, the only place that reads it.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import shapely

from gis.config import SHAPEFILE_DIR
from gis.geo import china
from gis.geo.crs import METRIC_CRS, WGS84

DISTRICT_NAME = "东昌府区"
BOUNDARY_FILE = SHAPEFILE_DIR / "source" / "dongchangfu_boundary_gcj02.geojson"


@lru_cache(maxsize=1)
def district_frame() -> gpd.GeoDataFrame:
    """The district boundary as a one-row WGS84 GeoDataFrame (name, geometry)."""
    gdf = china.to_wgs84(gpd.read_file(BOUNDARY_FILE, engine="pyogrio"), "gcj02")
    return gdf[["name", "geometry"]]


@lru_cache(maxsize=1)
def district_boundary() -> shapely.Geometry:
    """The district boundary in WGS84 as one prepared geometry."""
    geom = shapely.union_all(district_frame().geometry.to_numpy())
    shapely.prepare(geom)
    return geom


@lru_cache(maxsize=4)
def district_with_margin(margin_m: float) -> shapely.Geometry:
    """The district grown by `margin_m` metres (measured in EPSG:4548), in WGS84, prepared."""
    metric = gpd.GeoSeries([district_boundary()], crs=WGS84).to_crs(METRIC_CRS).buffer(margin_m)
    area = metric.to_crs(WGS84).iloc[0]
    shapely.prepare(area)
    return area
