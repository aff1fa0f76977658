"""Writing layers to files: Shapefiles (with .prj and a UTF-8 .cpg) and GeoPackages.

Shapefile field names are limited to 10 characters, so a few long column names are
shortened here, in one place; GeoPackages keep the full names.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

SHAPEFILE_NAMES = {"property_company": "property", "subdistrict": "subdistrct", "acknowledged_at": "acked_at",
                   "rectified_at": "rectif_at", "verified_at": "verif_at", "standard_code": "std_code",
                   "rework_count": "rework", "description": "descr", "reported_at": "reported"}


def _prepared(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S").astype(object).where(out[col].notna(), None)
    return out


def write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write one layer as an ESRI Shapefile with a .prj and a UTF-8 .cpg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = _prepared(gdf).rename(columns=SHAPEFILE_NAMES)
    out.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        cpg.write_text("UTF-8")
    return path


def write_geopackage(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """Write several layers into one GeoPackage (replacing the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    for name, gdf in layers.items():
        _prepared(gdf).to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def append_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> Path:
    """Append rows to a layer of an existing GeoPackage (a big layer written part by part)."""
    _prepared(gdf).to_file(path, layer=layer, driver="GPKG", engine="pyogrio", append=True)
    return path
