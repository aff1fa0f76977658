"""Writing a whole city (areas, people, assessment system, problems, inspections) at once.

Used by the demo builder and the test fixtures, so both go through the same path as real
imports: codes are resolved to ids here, areas and lengths are measured in the Gauss-Krüger
zone of the city (EPSG:4548), and problems get their areas from ``gis.problems.writes``.
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, inspect, select

from gis.geo.areas import PUBLISHED, grid_layer
from gis.geo.crs import METRIC_CRS
from gis.geo.assign import NONE, points_in_polygons
from gis.geo.districts import codes_of_shapes, district_of_target, ensure_home
from gis.db.models import (
    DERIVED_TABLES, Assignment, Base, Category, Compound, Grid, GridLayer, Inspection,
    InspectionPoint, NegativeEvent, Person, Standard, Street, Unit, UrbanVillage,
)
from gis.problems.writes import insert_problems
from gis.db.store import bulk_insert


def clear_data(conn: Connection) -> None:
    """Delete every row of every table of the model (the schema stays); ids start again from 1."""
    tables = list(reversed(Base.metadata.sorted_tables))  # children before parents
    derived = [t for t in DERIVED_TABLES if inspect(conn).has_table(t)]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"TRUNCATE {', '.join([t.name for t in tables] + derived)} RESTART IDENTITY CASCADE")
        return
    for table in tables:
        conn.execute(delete(table))
    for name in derived:
        conn.exec_driver_sql(f"DELETE FROM {name}")


def is_empty(conn: Connection) -> bool:
    """True when the database holds no grids."""
    return conn.execute(select(Grid.__table__.c.id).limit(1)).first() is None


def codes_to_ids(conn: Connection, model) -> dict[str, int]:
    t = model.__table__
    return dict(conn.execute(select(t.c.code, t.c.id)).all())


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return gdf.geometry.to_crs(METRIC_CRS)


def _insert_layer(conn: Connection, model, gdf: gpd.GeoDataFrame, columns: list[str], **extra) -> dict[str, int]:
    """Insert an area layer, each row in the district its shape lies in (`gis.geo.districts`)."""
    df = pd.DataFrame(gdf[columns]).reset_index(drop=True)
    df["district_code"] = codes_of_shapes(conn, gdf.geometry.to_numpy())
    for name, values in extra.items():
        df[name] = np.asarray(values)
    bulk_insert(conn, model.__table__, df, gdf.geometry.to_numpy())
    return codes_to_ids(conn, model)


def _map(codes: pd.Series, mapping: dict[str, int]) -> pd.Series:
    return codes.map(mapping).astype("Int64")


def write_city(conn: Connection, city: dict[str, pd.DataFrame], layer_start: datetime, author: str = "system") -> dict[str, int]:
    """Write every layer of `city` into an empty database, in the caller's transaction.

    `layer_start` is when the first published grid layer came into force. Returns row counts.
    """
    ensure_home(conn)
    layer = GridLayer.__table__
    layer_id = conn.execute(layer.insert().values(
        number=1, status=PUBLISHED, title="初始网格划分", note="示范城区", created_by=author,
        created_at=layer_start, published_at=layer_start, valid_from=layer_start, revision=1,
    ).returning(layer.c.id)).scalar_one()
    std = city["standards"]
    _insert_plain(conn, Standard, std[[c for c in ("code", "item", "content", "text", "points", "negative", "category",
                                                   "method", "point_kinds", "negative_effect") if c in std]], key=None)
    cats = city["categories"]
    _insert_plain(conn, Category, cats[[c for c in ("name", "deadline_hours", "deduction", "standard_code", "time_limit",
                                                    "time_unit", "urgent_hours") if c in cats]], key=None)
    write_district(conn, city, layer_id)
    return {key: len(city[key]) for key in city}


def write_district(conn: Connection, part: dict[str, pd.DataFrame], layer_id: int) -> None:
    """One district's people, areas (its grids into layer `layer_id`), 帮包, problems, inspections and
    负面清单 events, in the caller's transaction. Each row goes to the district its place lies in, so
    the district's row is written first (`gis.geo.districts.insert_district`); codes must be new."""
    units = _insert_plain(conn, Unit, part["units"][["code", "name", "kind", "contact", "phone"]])
    persons_df = part["persons"].assign(unit_id=_map(part["persons"]["unit_code"], units))
    persons = _insert_plain(conn, Person, persons_df[["code", "name", "title", "level", "unit_id", "phone"]])
    grids = part["grids"]
    _insert_layer(conn, Grid, grids, ["code", "name", "subdistrict"],
                  layer_id=np.full(len(grids), layer_id), area_m2=_metric(grids).area.to_numpy(), revision=np.ones(len(grids), int))
    streets = part["streets"]
    _insert_layer(conn, Street, streets, ["code", "name", "road_class"], length_m=_metric(streets).length.to_numpy())
    for key, model in (("compounds", Compound), ("villages", UrbanVillage)):
        gdf = part[key]
        cols = ["code", "name", "households"] + (["property_company"] if key == "compounds" else [])
        _insert_layer(conn, model, gdf, cols, area_m2=_metric(gdf).area.to_numpy())
    pts = part["points"]
    grid_ids = points_in_polygons(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), grid_layer(conn, layer_id))
    points = _insert_layer(conn, InspectionPoint, pts, ["code", "name", "kind", "ref_code"],
                           grid_id=pd.array(np.where(grid_ids == NONE, None, grid_ids), dtype="Int64"))
    a = part["assignments"]
    _insert_plain(conn, Assignment, key=None, df=pd.DataFrame({
        "target_kind": a["target_kind"], "target_code": a["target_code"], "role": a["role"],
        "person_id": _map(a["person_code"], persons), "unit_id": _map(a["unit_code"], units),
        "valid_from": a["valid_from"], "valid_to": a["valid_to"],
    }))
    insert_problems(conn, part["problems"])
    insert_inspections(conn, part["inspections"], points)
    if part.get("negative_events") is not None and len(part["negative_events"]):  # 负面清单事件 (gis.metrics.negative)
        events = part["negative_events"]
        _insert_plain(conn, NegativeEvent, events.assign(district_code=[
            district_of_target(conn, "grid", g) for g in events["grid_code"]]), key=None)


def insert_inspections(conn: Connection, inspections: pd.DataFrame, point_ids: dict[str, int] | None = None) -> int:
    """Insert 测评记录 given by point code; each gets its point's grid and district."""
    point_ids = codes_to_ids(conn, InspectionPoint) if point_ids is None else point_ids
    t = InspectionPoint.__table__
    grid_of_point = dict(conn.execute(select(t.c.id, t.c.grid_id)).all())
    df = inspections.copy()
    df["point_id"] = _map(df.pop("point_code"), point_ids)
    df["grid_id"] = df["point_id"].map(grid_of_point).astype("Int64")
    df["district_code"] = df["point_id"].map(dict(conn.execute(select(t.c.id, t.c.district_code)).all()))
    return bulk_insert(conn, Inspection.__table__, df[["point_id", "standard_code", "inspected_on", "passed", "score",
                                                       "inspector", "grid_id", "district_code"]])


def _insert_plain(conn: Connection, model, df: pd.DataFrame, key: str | None = "code") -> dict:
    bulk_insert(conn, model.__table__, df.reset_index(drop=True))
    return codes_to_ids(conn, model) if key else {}
