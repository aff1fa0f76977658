"""Responsible units (责任单位): 十差单位, the worst units of a month."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine

from gis.metrics.periods import as_of_moment, month_rows, month_start
from gis.metrics.sql import Sql, closed_clause


def worst_units(engine: Engine, month: date, as_of: datetime | None = None, n: int = 10, subdistrict=None,
                category=None, source=None) -> pd.DataFrame:
    """十差单位: the `n` responsible units doing worst with the month's problems.

    Worst = most 超期 problems (rectified late or still overdue), then the lower 按期结案率,
    then more problems. Columns: unit, problems, due, on_time, overdue, on_time_rate, avg_hours.
    """
    t = as_of_moment(as_of)
    q = Sql(engine)
    months = month_rows(month_start(month), month_start(month), t)
    sql = f"""
WITH {q.months_cte(months)},
agg AS (
  SELECT p.unit_id, COUNT(*) AS problems,
         SUM(CASE WHEN p.deadline <= m.t THEN 1 ELSE 0 END) AS due,
         SUM(CASE WHEN p.deadline <= m.t AND {closed_clause()} AND p.rectified_at <= p.deadline THEN 1 ELSE 0 END) AS on_time,
         SUM(CASE WHEN p.deadline < m.t AND (p.rectified_at IS NULL OR p.rectified_at > p.deadline)
                  THEN 1 ELSE 0 END) AS overdue,
         AVG(CASE WHEN p.rectified_at <= m.t THEN {q.hours('p.reported_at', 'p.rectified_at')} END) AS avg_hours
  FROM months m
  JOIN problems p ON p.reported_at >= m.m0 AND p.reported_at < m.m1 AND p.reported_at <= m.t
  WHERE p.unit_id IS NOT NULL{q.problem_filters('p', category, source, subdistrict)}
  GROUP BY p.unit_id)
SELECT u.name AS unit, a.problems, a.due, a.on_time, a.overdue, a.avg_hours,
       CASE WHEN a.due > 0 THEN a.on_time * 1.0 / a.due END AS on_time_rate
FROM agg a JOIN units u ON u.id = a.unit_id
WHERE a.overdue > 0
ORDER BY a.overdue DESC, on_time_rate ASC, a.problems DESC, u.name
LIMIT {int(n)}"""
    df = q.run(engine, sql)
    for col in ("problems", "due", "on_time", "overdue"):
        df[col] = df[col].astype("int64")
    for col in ("avg_hours", "on_time_rate"):
        df[col] = df[col].astype("float64")
    return df[["unit", "problems", "due", "on_time", "overdue", "on_time_rate", "avg_hours"]]
