"""Bulk reads and writes of tables with geometry, the same way on SpatiaLite and PostGIS.

Writes go straight to the driver for speed: PostgreSQL's COPY with hex EWKB geometries,
SQLite's executemany with ``GeomFromWKB``. Reads return GeoDataFrames in EPSG:4326.
All functions take an open connection, so callers decide the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Table, func, select

from gis.db.models import SRID

SORTED_ROWS = 10_000
# Rows sent to the driver at a time: one COPY block / executemany of this many rows, so that the
# driver-ready copy of a big batch (Python strings per field, ~1 KB a row) never exists whole.
WRITE_ROWS = 100_000


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
    first = series.dropna().iloc[0] if series.notna().any() else None
    if sqlite and hasattr(first, "isoformat"):  # dates / datetimes held as Python objects
        fmt = "%Y-%m-%d %H:%M:%S.%f" if isinstance(first, datetime) else "%Y-%m-%d"
        values = values.map(lambda v: None if v is None else v.strftime(fmt))
    return values.tolist()


def index_order(table: Table, rows: pd.DataFrame) -> np.ndarray | None:
    """Row order that follows the table's widest index (its first two columns), or None.

    Indexes are kept during imports so that readers never wait; a million rows inserted in random
    key order touch B-tree pages all over the index, in key order they mostly append."""
    best = max((ix for ix in table.indexes if len(ix.columns) > 1), key=lambda ix: (len(ix.columns), ix.name),
               default=None)
    if best is None:
        return None
    keys = [c.name for c in list(best.columns)[:2]]
    if not all(k in rows.columns for k in keys):
        return None
    return rows.reset_index(drop=True).sort_values(keys, kind="stable").index.to_numpy()


def bulk_insert(conn: Connection, table: Table, rows: pd.DataFrame, geoms: Sequence | None = None) -> int:
    """Insert `rows` (columns named as the table's) and their shapely `geoms` into `table`.

    Returns the number of rows written. Runs inside the caller's transaction. On PostgreSQL, batches
    of at least `SORTED_ROWS` are written in the order of the table's widest index (`index_order`);
    SQLite rebuilds the indexes of big batches after the write instead (`gis.io.importer`).
    """
    if len(rows) == 0:
        return 0
    if (not _is_sqlite(conn) and len(rows) >= SORTED_ROWS
            and (order := index_order(table, rows)) is not None):
        rows = rows.reset_index(drop=True).iloc[order].reset_index(drop=True)
        geoms = None if geoms is None else np.asarray(geoms, dtype=object)[order]
    geoms = None if geoms is None else np.asarray(geoms, dtype=object)
    for lo in range(0, len(rows), WRITE_ROWS):
        _write(conn, table, rows.iloc[lo:lo + WRITE_ROWS], None if geoms is None else geoms[lo:lo + WRITE_ROWS])
    return len(rows)


def _write(conn: Connection, table: Table, rows: pd.DataFrame, geoms: np.ndarray | None) -> None:
    """One slice of `bulk_insert`: COPY on PostgreSQL, executemany on SQLite."""
    cols = list(rows.columns) + (["geom"] if geoms is not None else [])
    if _is_sqlite(conn):
        data = [_column_values(rows[c], sqlite=True) for c in rows.columns]
        marks = ["?"] * len(rows.columns)
        if geoms is not None:
            data.append(list(shapely.to_wkb(geoms, output_dimension=2)))
            marks.append(f"GeomFromWKB(?, {SRID})")
        sql = f'INSERT INTO {table.name} ({", ".join(cols)}) VALUES ({", ".join(marks)})'
        conn.exec_driver_sql(sql, list(zip(*data)))
    else:
        ewkb = None
        if geoms is not None:
            ewkb = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True, output_dimension=2)
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY {table.name} ({", ".join(cols)}) FROM STDIN') as copy:
            copy.write(_copy_text(rows, ewkb))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(series: pd.Series) -> pd.Series:
    """One column in PostgreSQL's COPY text format (NULL as \\N), vectorised."""
    na = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    elif pd.api.types.is_bool_dtype(series):
        text = series.map({True: "t", False: "f"})
    elif pd.api.types.is_integer_dtype(series):
        text = series.astype("Int64").astype(str)
    elif pd.api.types.is_float_dtype(series):
        text = series.map(repr)
    else:
        values = series.astype(object).where(~na, None)
        first = next((v for v in values if v is not None), None)
        if isinstance(first, (bool, np.bool_)):
            text = values.map(lambda v: "t" if v else "f")
        elif hasattr(first, "isoformat"):
            text = values.map(lambda v: None if v is None else v.isoformat())
        else:
            text = values.astype(str)
            special = text.str.contains(r"[\\\t\n\r]", regex=True).to_numpy(dtype=bool)
            if special.any():
                text = text.astype(object)
                text[special] = [v.translate(_COPY_ESCAPES) for v in text[special]]
    return pd.Series(np.where(na, "\\N", text.astype(object)), dtype=object)


def _copy_text(rows: pd.DataFrame, ewkb) -> str:
    """Rows (and hex EWKB geometries) as one COPY text block."""
    fields = [_copy_field(rows[c]).tolist() for c in rows.columns]
    if ewkb is not None:
        fields.append(list(ewkb))
    return "\n".join(map("\t".join, zip(*fields))) + "\n"


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
