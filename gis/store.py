"""Bulk reads and writes of tables with geometry, the same way on SpatiaLite and PostGIS.

Writes go straight to the driver for speed: PostgreSQL's COPY with hex EWKB geometries,
SQLite's executemany with ``GeomFromWKB``. Reads return GeoDataFrames in EPSG:4326.
All functions take an open connection, so callers decide the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Table, func, select

from gis.models import SRID


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _column_values(series: pd.Series, sqlite: bool) -> list:
    """A column as a list of driver-ready Python values, NA as None."""
    if pd.api.types.is_datetime64_any_dtype(series):
        if sqlite:
            values = series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            values = pd.Series(series.dt.to_pydatetime(), index=series.index, dtype=object)
        return values.astype(object).where(series.notna(), None).tolist()
    if pd.api.types.is_bool_dtype(series):
        return series.astype(int if sqlite else bool).tolist()
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        return series.astype(object).where(series.notna(), None).tolist()
    values = series.astype(object).where(series.notna(), None)
    if sqlite:
        values = values.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    return values.tolist()


def bulk_insert(conn: Connection, table: Table, rows: pd.DataFrame, geoms: Sequence | None = None) -> int:
    """Insert `rows` (columns named as the table's) and their shapely `geoms` into `table`.

    Returns the number of rows written. Runs inside the caller's transaction.
    """
    if len(rows) == 0:
        return 0
    sqlite = _is_sqlite(conn)
    cols = list(rows.columns)
    data = [_column_values(rows[c], sqlite) for c in cols]
    if geoms is not None:
        geoms = np.asarray(geoms, dtype=object)
        if sqlite:
            wkb = shapely.to_wkb(geoms, output_dimension=2)
        else:
            wkb = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True, output_dimension=2)
        data.append(list(wkb))
        cols = cols + ["geom"]
    records = list(zip(*data))
    if sqlite:
        marks = ["?"] * len(cols)
        if geoms is not None:
            marks[-1] = f"GeomFromWKB(?, {SRID})"
        sql = f'INSERT INTO {table.name} ({", ".join(cols)}) VALUES ({", ".join(marks)})'
        conn.exec_driver_sql(sql, records)
    else:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY {table.name} ({", ".join(cols)}) FROM STDIN') as copy:
            for rec in records:
                copy.write_row(rec)
    return len(records)


def read_frame(conn: Connection, table: Table, where=None, columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Rows of `table` (optionally filtered by a SQLAlchemy `where`) as an EPSG:4326 GeoDataFrame."""
    names = [c.name for c in table.columns if c.name != "geom"] if columns is None else list(columns)
    stmt = select(*[table.c[n] for n in names], func.ST_AsBinary(table.c.geom).label("_wkb"))
    if where is not None:
        stmt = stmt.where(where)
    result = conn.execute(stmt.order_by(table.c[names[0]]))
    df = pd.DataFrame(result.all(), columns=names + ["_wkb"])
    geometry = shapely.from_wkb([bytes(b) for b in df.pop("_wkb")]) if len(df) else []
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geometry, index=df.index), crs=f"EPSG:{SRID}")
