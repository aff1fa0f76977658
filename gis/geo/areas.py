"""The area layers a point is assigned against, read from the database.

Grid layers are versioned (see ``GridLayer``): `layer_in_force` says which published layer
held at a moment, so that writes of historical records go to the grids of their time.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, func, select

from gis.geo.assign import Areas, Layer
from gis.db.models import Compound, Grid, GridLayer, Street, UrbanVillage

PUBLISHED = "已发布"
DRAFT = "草案"
ARCHIVED = "已归档"


def current_layer_id(conn: Connection) -> int | None:
    """The id of the grid layer in force now (published, not ended), or None."""
    t = GridLayer.__table__
    stmt = (select(t.c.id).where(t.c.status == PUBLISHED, t.c.valid_to.is_(None))
            .order_by(t.c.number.desc()).limit(1))
    return conn.execute(stmt).scalar()


def published_layers(conn: Connection) -> pd.DataFrame:
    """Published layers (current and past) with id, number, valid_from, valid_to; oldest first."""
    t = GridLayer.__table__
    rows = conn.execute(select(t.c.id, t.c.number, t.c.valid_from, t.c.valid_to)
                        .where(t.c.status.in_((PUBLISHED, ARCHIVED)), t.c.valid_from.is_not(None))
                        .order_by(t.c.valid_from)).all()
    return pd.DataFrame(rows, columns=["id", "number", "valid_from", "valid_to"])


def layer_in_force(layers: pd.DataFrame, at: pd.Series) -> np.ndarray:
    """For each timestamp in `at`, the id of the published layer in force then.

    Before the first layer's start, the first layer is used.
    """
    if layers.empty:
        return np.full(len(at), -1, dtype=np.int64)
    starts = pd.to_datetime(layers["valid_from"]).to_numpy(dtype="datetime64[us]")
    pos = np.searchsorted(starts, pd.to_datetime(at).to_numpy(dtype="datetime64[us]"), side="right") - 1
    return layers["id"].to_numpy(dtype=np.int64)[np.clip(pos, 0, len(layers) - 1)]


def _layer(conn: Connection, model, where=None) -> Layer:
    t = model.__table__
    stmt = select(t.c.id, func.ST_AsBinary(t.c.geom))
    if where is not None:
        stmt = stmt.where(where)
    rows = conn.execute(stmt).all()
    ids = [r[0] for r in rows]
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([], dtype=object)
    return Layer.of(ids, geoms)


def grid_layer(conn: Connection, layer_id: int | None = None) -> Layer:
    """The grids of one layer version (default: the one in force now)."""
    layer_id = current_layer_id(conn) if layer_id is None else layer_id
    return _layer(conn, Grid, Grid.__table__.c.layer_id == layer_id)


def load_areas(conn: Connection, layer_id: int | None = None) -> Areas:
    """Grids of a layer (default current) plus compounds, villages and streets."""
    return Areas(
        grids=grid_layer(conn, layer_id),
        compounds=_layer(conn, Compound),
        villages=_layer(conn, UrbanVillage),
        streets=_layer(conn, Street),
    )
