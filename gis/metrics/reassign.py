"""Scores as they would be if some problems and inspection points counted for other grids.

Used by the planner's impact preview: the same sums and the same ``score_table`` as the wall,
one level finer (per problem, per point), moved between grids in NumPy.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gis.metrics.periods import as_of_moment, month_rows, month_start
from gis.metrics.figures import problem_rows
from gis.metrics.scores import INPUT_COLUMNS, SUM_COLUMNS, inspection_sums, mean_deduction, score_inputs, score_table
from gis.metrics.sql import Sql, standard_join_sql


def item_inputs(engine: Engine, month: date, as_of: datetime | None = None, codes: list[str] | None = None,
                bbox: tuple[float, float, float, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same sums as `score_inputs`, one level finer, for re-assigning items to other grids:

    - problems counting in the month (`gis.metrics.figures.problem_rows`), one row each: id, code
      (its stored grid's), lon, lat, problems, ded, open, due, overdue;
    - inspections of the month per inspection point: point_id, code (stored grid's),
      inspections, ok_points, all_points.

    `codes` keeps only items stored in grids with these codes (any layer); `bbox` (minx, miny,
    maxx, maxy) only the problems located in it.
    """
    months = month_rows(month_start(month), month_start(month), as_of_moment(as_of))
    if codes is not None and not len(codes):
        return (pd.DataFrame(columns=["id", "code", "lon", "lat", "problems", "ded", "open", "due", "overdue"]),
                pd.DataFrame(columns=["point_id", "code", "inspections", "ok_points", "all_points"]))

    def code_filter(q: Sql) -> str:
        if codes is None:
            return ""
        return " AND g.code IN (" + ", ".join(q.bind(f"c{i}", c) for i, c in enumerate(codes)) + ")"

    q = Sql(engine)
    box = ""
    if bbox is not None:
        box = (f" AND p.lon BETWEEN {q.bind('minx', float(bbox[0]))} AND {q.bind('maxx', float(bbox[2]))}"
               f" AND p.lat BETWEEN {q.bind('miny', float(bbox[1]))} AND {q.bind('maxy', float(bbox[3]))}")
    codes_in = (" AND p.grid_id IN (SELECT id FROM grids gc WHERE gc.code IN ("
                + ", ".join(q.bind(f"pc{i}", c) for i, c in enumerate(codes)) + "))") if codes is not None else ""
    sql = f"""
WITH {q.months_cte(months)}
SELECT x.id, g.code, x.lon, x.lat, x.reported AS problems, x.ded, x.open, x.due, x.overdue
FROM ({problem_rows(q, months, extra=codes_in + box)}) x JOIN grids g ON g.id = x.grid_id
ORDER BY x.id"""
    problems = q.run(engine, sql, many=True)
    q = Sql(engine)
    sql = f"""
WITH {q.months_cte(months)}
SELECT i.point_id, g.code, {inspection_sums()}
FROM grids g CROSS JOIN months m CROSS JOIN inspections i
{standard_join_sql()}
WHERE i.grid_id = g.id AND i.inspected_on >= m.d0 AND i.inspected_on < m.d1 AND i.inspected_on <= m.dt{code_filter(q)}
GROUP BY i.point_id, g.code
ORDER BY i.point_id, g.code"""
    inspections = q.run(engine, sql).rename(columns={"n": "inspections"})
    for frame, ints, floats in ((problems, ("problems", "open", "due", "overdue"), ("ded", "lon", "lat")),
                                (inspections, ("inspections",), ("ok_points", "all_points"))):
        for col in ints:
            frame[col] = frame[col].astype("int64")
        for col in floats:
            frame[col] = frame[col].astype("float64")
    return problems, inspections


def reassign(inputs: pd.DataFrame, moved: list[pd.DataFrame], codes: list[str] | None = None) -> pd.DataFrame:
    """`inputs` (INPUT_COLUMNS, one month) after moving items: each frame of `moved` has rows of
    `item_inputs` with a column to_code; an item's sums leave its code and go to to_code ('' =
    no grid). `codes`: the grids after the change (default: those of `inputs` and every to_code);
    a new grid starts from zero. Grids no item leaves or enters keep their sums exactly."""
    have = list(inputs["code"].astype(str))
    if codes is None:
        codes = have + sorted({c for f in moved for c in f["to_code"] if c and c not in set(have)})
    codes = [str(c) for c in codes]
    pos = {c: i for i, c in enumerate(codes)}
    src = np.array([pos.get(c, -1) for c in have], dtype=np.int64)
    keep = src >= 0
    out = {"code": codes}
    for col in ("name", "subdistrict", "district_code"):
        values = np.full(len(codes), None, dtype=object)
        if col in inputs.columns:
            values[src[keep]] = inputs[col].to_numpy(object)[keep]
        out[col] = values
    for col, empty in (("vetoed", False), ("negative_deduction", 0.0), ("negative_events", None)):
        # 负面清单 (gis.metrics.negative) follows the grid code: kept as it is, never moved
        values = np.full(len(codes), empty, dtype=object)
        if col in inputs.columns:
            values[src[keep]] = inputs[col].to_numpy(object)[keep]
        out[col] = [v if v is not None else [] for v in values] if col == "negative_events" else values
    for col in SUM_COLUMNS:
        values = np.zeros(len(codes), dtype=np.float64 if col in ("ok_points", "all_points", "ded") else np.int64)
        values[src[keep]] = inputs[col].to_numpy()[keep]
        out[col] = values
    for frame in moved:
        frame = frame[frame["code"].astype(str) != frame["to_code"].astype(str)]
        if frame.empty:
            continue
        a = np.array([pos.get(str(c), -1) for c in frame["code"]], dtype=np.int64)
        b = np.array([pos.get(str(c), -1) for c in frame["to_code"]], dtype=np.int64)
        for col in [c for c in SUM_COLUMNS if c in frame.columns]:
            w = frame[col].to_numpy(np.float64)
            minus = np.bincount(a[a >= 0], weights=w[a >= 0], minlength=len(codes))
            plus = np.bincount(b[b >= 0], weights=w[b >= 0], minlength=len(codes))
            touched = (minus != 0) | (plus != 0)
            values = out[col]
            if values.dtype == np.int64:
                values[touched] = values[touched] - np.rint(minus[touched]).astype(np.int64) \
                    + np.rint(plus[touched]).astype(np.int64)
            else:
                values[touched] = values[touched] - minus[touched] + plus[touched]
    df = pd.DataFrame(out)
    df["vetoed"] = df["vetoed"].astype(bool)
    df["negative_deduction"] = df["negative_deduction"].astype("float64")
    return df[INPUT_COLUMNS]


def scores_with_assignment(engine: Engine, month: date, problem_grid: pd.Series | None = None,
                           point_grid: pd.Series | None = None, as_of: datetime | None = None,
                           codes: list[str] | None = None, min_sample: int | None = None) -> pd.DataFrame:
    """`monthly_scores` columns for `month` if the problems in `problem_grid` (index: problem id →
    grid code) and the inspections of the points in `point_grid` (index: point id → grid code)
    counted for those grids; the city mean deduction stays as it is. `codes`: the grids after the
    change (see `reassign`)."""
    t = as_of_moment(as_of)
    inputs = score_inputs(engine, month, t)
    problems, inspections = item_inputs(engine, month, t)
    moved = []
    for frame, key, target in ((problems, "id", problem_grid), (inspections, "point_id", point_grid)):
        if target is not None and len(target):
            rows = frame[frame[key].isin(target.index)]
            moved.append(rows.assign(to_code=rows[key].map(target).fillna("").astype(str)))
    return score_table(reassign(inputs, moved, codes), min_sample, mean_deduction(inputs))
