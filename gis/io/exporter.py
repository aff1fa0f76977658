"""Exporting a layer to a file, the format chosen by the extension: .gpkg .shp .geojson .xlsx .csv.

GIS formats keep the field names of the database (Shapefiles through `gis.io.files`, with a .prj
and a UTF-8 .cpg); .xlsx and .csv get the Chinese headers that the importer recognises first,
with 经度/纬度 for points and a WKT column for lines and polygons, written by `gis.io.sheets`
(formula-safe). So an exported file imports back as it was: a round trip.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, and_, select

from gis.geo.areas import current_layer_id
from gis.geo.districts import district_names, district_table
from gis.io.files import write_geopackage, write_shapefile
from gis.io import InputError, sheets
from gis.io.fields import EXPORT_KINDS, field_labels
from gis.db.models import Compound, Grid, InspectionPoint, Problem, Street, Unit, UrbanVillage
from gis.db.store import read_frame

FORMATS = (".gpkg", ".shp", ".geojson", ".xlsx", ".csv")
EXTRA_LABELS = {"area_m2": "面积（平方米）", "length_m": "长度（米）", "grid_code": "网格编号", "unit_code": "责任单位编号"}
_PROBLEM_COLUMNS = ["code", "category", "standard_code", "description", "source", "reporter", "reported_at", "deadline",
                    "status", "unit_id", "acknowledged_at", "rectified_at", "verified_at", "rework_count", "deduction",
                    "grid_id"]
_DATETIMES = ("reported_at", "deadline", "acknowledged_at", "rectified_at", "verified_at")


def frame(engine: Engine, kind: str, district: str | None = None) -> gpd.GeoDataFrame:
    """The rows of `kind` as exported (field names of the database, WGS84); with `district` (区县 code),
    that district's rows only (their stamped ``district_code``; the column itself is not exported)."""
    if kind not in EXPORT_KINDS:
        raise InputError(f"不能导出“{kind}”：可选 {', '.join(EXPORT_KINDS)}。")
    if district is not None and district not in set(district_table(engine)["code"]):
        raise InputError(f"区县“{district}”不存在：可选 {district_names(engine)}。")

    def mine(t, where=None):
        if district is None:
            return where
        own = t.c.district_code == district
        return own if where is None else and_(where, own)

    with engine.connect() as conn:
        layer_id = current_layer_id(conn)
        g = Grid.__table__
        grid_codes = dict(conn.execute(select(g.c.id, g.c.code)).all())
        if kind == "grids":
            gdf = read_frame(conn, g, mine(g, g.c.layer_id == layer_id), ["code", "name", "subdistrict", "area_m2"])
        elif kind == "points":
            t = InspectionPoint.__table__
            gdf = read_frame(conn, t, mine(t), ["code", "name", "kind", "ref_code", "grid_id"])
            gdf.insert(4, "grid_code", gdf.pop("grid_id").map(grid_codes))
        elif kind == "problems":
            gdf = read_frame(conn, Problem.__table__, mine(Problem.__table__), _PROBLEM_COLUMNS)
            units = dict(conn.execute(select(Unit.__table__.c.id, Unit.__table__.c.code)).all())
            gdf.insert(9, "unit_code", gdf.pop("unit_id").map(units))
            gdf["grid_code"] = gdf.pop("grid_id").map(grid_codes)
            for col in _DATETIMES:
                gdf[col] = pd.to_datetime(gdf[col])
        else:
            model = {"streets": Street, "compounds": Compound, "villages": UrbanVillage}[kind]
            cols = [c.name for c in model.__table__.columns if c.name not in ("id", "geom", "district_code")]
            gdf = read_frame(conn, model.__table__, mine(model.__table__), cols)
    return gdf.reset_index(drop=True)


def _tabular(kind: str, gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    labels = {**EXTRA_LABELS, **field_labels(kind)}
    out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for col in _DATETIMES:
        if col in out:
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S").astype(object).where(out[col].notna(), None)
    geoms = gdf.geometry.to_numpy()
    if kind in ("points", "problems"):
        out["经度"] = shapely.get_x(geoms).round(7)
        out["纬度"] = shapely.get_y(geoms).round(7)
    else:
        out["WKT"] = shapely.to_wkt(geoms, rounding_precision=7, trim=True)
    return out.rename(columns=labels)


def export(engine: Engine, kind: str, path: str | Path, district: str | None = None) -> int:
    """Write `kind` to `path` (format from the extension), `district`'s rows only when given; returns the
    number of rows written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"不支持导出为“{path.suffix or '（无扩展名）'}”：可选 {'、'.join(FORMATS)}。")
    gdf = frame(engine, kind, district)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".shp":
        write_shapefile(gdf, path)
    elif suffix == ".gpkg":
        write_geopackage({kind: gdf}, path)
    elif suffix == ".geojson":
        if path.exists():
            path.unlink()
        out = gdf.copy()
        for col in _DATETIMES:
            if col in out:
                out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S").astype(object).where(out[col].notna(), None)
        out.to_file(path, driver="GeoJSON", engine="pyogrio")
    elif suffix == ".xlsx":
        table = _tabular(kind, gdf)
        too_long = table.get("WKT", pd.Series(dtype=object)).str.len() > 32_000
        if too_long.any():
            raise InputError(f"有 {int(too_long.sum())} 个几何的 WKT 超过 Excel 单元格上限（32767 字），请导出为 .gpkg 或 .shp。")
        sheets.write_table(table, path, sheet_name=kind)
    else:
        sheets.write_table(_tabular(kind, gdf), path)
    return len(gdf)
