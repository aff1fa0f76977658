"""Server-side density of open problems for the wall's heatmap: H3 hexagon counts, never points.

The database reads only the open problems (two index ranges, see `gis.metrics.sql.open_at`) and
bins them into small lon/lat cells (GROUP BY on integer cell indices computed from the stored
``lon``/``lat`` columns), so at most a few thousand rows come
back whatever the number of problems; each cell centre is then put in its H3 cell (resolution
9 ≈ 0.1 km², 8 ≈ 0.7 km²) with the `h3` package and the counts summed. The page ships one row
per hexagon (id + count): a few tens of KB for the whole city.
"""

from __future__ import annotations

from datetime import datetime

import h3
import pandas as pd
from sqlalchemy import DateTime, Engine

from gis.metrics.periods import as_of_moment

from gis.metrics.sql import open_at, Sql

#: DB bin size in degrees per resolution: well under the H3 cell's size (res 9 edge ≈ 174 m).
BIN_DEGREES = {7: 0.004, 8: 0.0015, 9: 0.0005, 10: 0.0002}


def open_problem_bins(engine: Engine, as_of: datetime | None = None, step: float = 0.0005, subdistrict=None,
                      category=None, source=None, district=None) -> pd.DataFrame:
    """Open problems (reported by `as_of`, not closed then) counted per lon/lat cell of `step` degrees.

    Columns: lon, lat (cell centre), count. Aggregated in the database.
    """
    t = as_of_moment(as_of)
    q = Sql(engine)
    tt = q.bind("t", t, DateTime)
    s = q.bind("step", float(step))
    cell = (lambda col: f"CAST(FLOOR({col} / {s}) AS INTEGER)") if q.pg else (lambda col: f"CAST({col} / {s} AS INTEGER)")
    # SQLite's CAST truncates toward zero: right for the positive lon/lat of China.
    # Open problems are a small share of the table: read them through two index ranges
    # (status ≠ 已结案, or 已结案 but verified after t) rather than scanning every problem.
    rows = open_at(q, tt, f"{cell('p.lon')} AS ix, {cell('p.lat')} AS iy",
                    q.problem_filters('p', category, source, subdistrict, district))
    sql = f"SELECT o.ix, o.iy, COUNT(*) AS n FROM ({rows}) o GROUP BY o.ix, o.iy"
    df = q.run(engine, sql)
    return pd.DataFrame({"lon": (df["ix"].astype(float) + 0.5) * step, "lat": (df["iy"].astype(float) + 0.5) * step,
                         "count": df["n"].astype("int64")})


def open_problem_hexes(engine: Engine, as_of: datetime | None = None, resolution: int = 9, subdistrict=None,
                       category=None, source=None, district=None) -> pd.DataFrame:
    """Open problems per H3 cell at `resolution` (8 or 9 for a city): columns hex, count; densest first."""
    bins = open_problem_bins(engine, as_of, BIN_DEGREES.get(resolution, 0.0005), subdistrict, category, source,
                             district)
    if bins.empty:
        return pd.DataFrame({"hex": pd.Series(dtype=object), "count": pd.Series(dtype="int64")})
    cells = [h3.latlng_to_cell(lat, lon, resolution) for lat, lon in zip(bins["lat"].to_numpy(), bins["lon"].to_numpy())]
    out = bins.assign(hex=cells).groupby("hex", as_index=False)["count"].sum()
    return out.sort_values(["count", "hex"], ascending=[False, True]).reset_index(drop=True)
