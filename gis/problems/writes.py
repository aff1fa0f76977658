"""Writing problems (问题) in batches, with their areas computed on the way in.

Every problem stores the grid, compound, village and street (nearest within 30 m) it falls
in, and the district (区县) it lies in. They are computed here for the whole batch at once (``gis.geo.assign``), against the grid
layer that was in force when the problem was reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, select

from gis.geo.areas import load_areas, layer_in_force, published_layers
from gis.geo.assign import NONE, Areas, Layer, assign_areas
from gis.geo.districts import codes_at
from gis.db.models import Problem, Unit
from gis.db.store import bulk_insert

PROBLEM_COLUMNS = (
    "code", "category", "standard_code", "description", "source", "reporter", "reported_at",
    "deadline", "status", "unit_id", "acknowledged_at", "rectified_at", "verified_at",
    "rework_count", "deduction", "lon", "lat",
    # numbers (issue 12): optional
    "registered_at", "dispatched_at", "original_deadline", "deferred_at",
    # street (issue 15): optional, from an Open311 client
    "address", "media_url",
)


AREA_COLUMNS = ("grid_id", "compound_id", "village_id", "street_id")


def locate(conn: Connection, lon, lat, reported_at) -> pd.DataFrame:
    """Grid, compound, village and street ids (nullable Int64) for points reported at given times."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    areas = load_areas(conn)
    ids = assign_areas(lon, lat, areas)
    layers = published_layers(conn)
    if len(layers) > 1:
        in_force = layer_in_force(layers, pd.Series(reported_at))
        current = layers["id"].iloc[-1]
        for layer_id in np.unique(in_force[in_force != current]):
            rows = np.flatnonzero(in_force == layer_id)
            old = load_areas(conn, int(layer_id)).grids
            ids["grid_id"][rows] = assign_areas(lon[rows], lat[rows], _only_grids(old))["grid_id"]
    return pd.DataFrame({k: pd.array(np.where(v == NONE, None, v), dtype="Int64") for k, v in ids.items()})


def _only_grids(grids: Layer) -> Areas:
    empty = Layer.of([], [])
    return Areas(grids=grids, compounds=empty, villages=empty, streets=empty)


def unit_ids(conn: Connection, codes: pd.Series) -> pd.Series:
    """Unit codes mapped to unit ids (nullable)."""
    t = Unit.__table__
    mapping = dict(conn.execute(select(t.c.code, t.c.id)).all())
    return codes.map(mapping).astype("Int64")


def insert_problems(conn: Connection, problems: pd.DataFrame) -> int:
    """Insert a batch of problems (columns of PROBLEM_COLUMNS; `unit_code` instead of `unit_id`
    is accepted) with their areas. Runs in the caller's transaction; returns the row count."""
    df = problems.copy()
    if "unit_id" not in df and "unit_code" in df:
        df["unit_id"] = unit_ids(conn, df["unit_code"])
    df["rework_count"] = df.get("rework_count", 0)
    given = df[list(AREA_COLUMNS)].astype("Int64").reset_index(drop=True) if set(AREA_COLUMNS) <= set(df.columns) else None
    district = df["district_code"].reset_index(drop=True) if "district_code" in df else None
    df = df[[c for c in PROBLEM_COLUMNS if c in df.columns]].reset_index(drop=True)
    # street (issue 15): a caller that has just located the rows (create_problem) passes the ids along.
    located = given if given is not None else locate(conn, df["lon"], df["lat"], df["reported_at"])
    df = pd.concat([df, located], axis=1)
    df["district_code"] = district if district is not None else codes_at(conn, df["lon"], df["lat"])
    geoms = shapely.points(df["lon"].to_numpy(np.float64), df["lat"].to_numpy(np.float64))
    return bulk_insert(conn, Problem.__table__, df, geoms)
