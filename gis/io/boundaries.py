"""Grid boundaries read for checking or planning (not importing): `read_grids`.

The same reader as an import of grids — file types and size limits, safe zips, encodings,
the .prj or a guessed CRS, declared GCJ-02 / BD-09, the field names (incl. the 10-character
Shapefile names such as ``subdistrct``) — so whatever `gis export grids` writes reads back here.
Only the row checks that are topology are left to `gis.planning.topology` to report on the map
(invalid geometry, duplicate codes, grids outside the district); 网格名称 may be missing.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from gis.io import InputError, readers, validate

LEFT_TO_TOPOLOGY = ("几何无效", "编号重复")
SHOWN_ERRORS = 10


def read_grids(path: str | Path, crs: str | None = None, coords: str = "wgs84", layer: str | None = None,
               encoding: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """(grids as a WGS84 GeoDataFrame with code, name, subdistrict; the reader's notes). InputError when unusable."""
    src = readers.read(path, layer=layer, encoding=encoding)
    prepared = validate.prepare(src, "grids", crs=crs, coords=coords, check_district=False, optional=("name",))
    errors = prepared.errors
    fatal = errors[~errors["reason"].astype(str).str.startswith(LEFT_TO_TOPOLOGY)]
    if len(fatal):
        prepared.errors = fatal.reset_index(drop=True)
        lines = prepared.error_lines(SHOWN_ERRORS)
        raise InputError(f"{src.name} 有 {fatal['row'].nunique()} 行不能使用：" + "；".join(lines))
    frame = prepared.frame[["code", "name", "subdistrict"]].astype(object)
    frame = frame.where(frame.notna(), "").reset_index(drop=True)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(prepared.geoms), crs="EPSG:4326")
    return gdf, prepared.notes
