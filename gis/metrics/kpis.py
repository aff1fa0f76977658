"""Problem figures per month (the wall's KPI tiles and its 12-month trend), in SQL.

Problem definitions (t = the evaluation moment):
- 问题数: problems reported in the month;
- 应结案: of those, whose rectification deadline has passed (deadline ≤ t);
- 结案: of 应结案, closed (已结案, verified ≤ t); 按期结案: closed and rectified ≤ deadline;
- 返工: of 应结案, sent back at least once (rework_count > 0);
- 超期 (for the score): deadline < t and (not rectified, or rectified after the deadline);
- overdue now (现超期): reported ≤ t, deadline < t, not rectified by t, not closed by t;
- average time to rectify: mean hours from report to rectification, over the month's problems
  rectified by t.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import DateTime, Engine, text

from gis.geo.areas import current_layer_id
from gis.metrics.memo import memo_get, memo_put
from gis.metrics.periods import add_months, as_of_moment, current_month, month_rows, month_start
from gis.metrics.sql import Sql, closed_clause, open_at


STAT_COLUMNS = ["month", "problems", "due", "closed", "on_time", "rework", "avg_hours",
                "closure_rate", "on_time_rate", "rework_rate"]


def monthly_stats(engine: Engine, first: date, last: date, as_of: datetime | None = None, subdistrict=None,
                  category=None, source=None) -> pd.DataFrame:
    """Problem figures per month from `first` to `last` (each month as of its end, or `as_of`).

    Columns: month (date), problems (问题数), due (应结案数), closed (结案数), on_time (按期结案数),
    rework (返工数), avg_hours (average hours to rectify), closure_rate (结案率), on_time_rate
    (按期结案率), rework_rate (返工率) — rates 0–1, NaN when nothing was due.
    """
    t = as_of_moment(as_of)
    months = month_rows(month_start(first), month_start(last), t)
    now = datetime.now()
    key = (str(engine.url), subdistrict, category, source)
    # A month that ended before now is evaluated at its end: its figures cannot change, so they are
    # kept for FROZEN_TTL_SECONDS and only the current month is queried again on each refresh.
    frozen = [m for m in months if m["t"] == m["m1"] and m["m1"] <= now]
    todo = [m for m in months if m not in frozen or memo_get(("stats", m["k"], *key)) is None]
    fresh = _stats_rows_parallel(engine, todo, subdistrict, category, source) if todo else pd.DataFrame()
    for m in frozen:
        if m in todo:
            memo_put(("stats", m["k"], *key), fresh[fresh["k"] == m["k"]])
    parts = [memo_get(("stats", m["k"], *key)) if m not in todo else fresh[fresh["k"] == m["k"]] for m in months]
    df = pd.concat(parts, ignore_index=True)
    df["month"] = pd.to_datetime(df["k"] + "-01").dt.date
    for col in ("problems", "due", "closed", "on_time", "rework"):
        df[col] = df[col].fillna(0).astype("int64")
    df["avg_hours"] = df["avg_hours"].astype("float64")
    due_n = df["due"].where(df["due"] > 0)
    df["closure_rate"] = df["closed"] / due_n
    df["on_time_rate"] = df["on_time"] / due_n
    df["rework_rate"] = df["rework"] / due_n
    return df[STAT_COLUMNS]


def _stats_rows(engine: Engine, months: list[dict], subdistrict=None, category=None, source=None) -> pd.DataFrame:
    """The monthly_stats counts of each month of `months` (column k), in one statement.

    One plain aggregate per month, UNION ALL. SQLite reads each month grid by grid from the
    covering index ix_problems_grid_month (outer loop over the distinct grid ids, NULL
    included); PostgreSQL reads the month's range of ix_problems_reported.
    """
    q = Sql(engine)
    filters = q.problem_filters('p', category, source, subdistrict)

    def aggregates(t: str) -> str:
        due = f"p.deadline <= {t}"
        closed = closed_clause('p', t)
        return f"""COUNT(*) AS problems,
         SUM(CASE WHEN {due} THEN 1 ELSE 0 END) AS due,
         SUM(CASE WHEN {due} AND {closed} THEN 1 ELSE 0 END) AS closed,
         SUM(CASE WHEN {due} AND {closed} AND p.rectified_at <= p.deadline THEN 1 ELSE 0 END) AS on_time,
         SUM(CASE WHEN {due} AND p.rework_count > 0 THEN 1 ELSE 0 END) AS rework,
         AVG(CASE WHEN p.rectified_at <= {t} THEN {q.hours('p.reported_at', 'p.rectified_at')} END) AS avg_hours"""

    # One plain aggregate per month (no GROUP BY: SQLite would sort ~80,000 rows a month, and
    # PostgreSQL misjudges the number of month groups and sorts on disk).
    parts = []
    for i, m in enumerate(months):
        t = q.bind(f"t{i}", m["t"], DateTime)
        rows = "problems p" if q.pg else "gids g CROSS JOIN problems p"
        parts.append(f"""SELECT CAST({q.bind(f'k{i}', m['k'])} AS TEXT) AS k, {aggregates(t)}
FROM {rows}
WHERE {'TRUE' if q.pg else 'p.grid_id IS g.id'} AND p.reported_at >= {q.bind(f'm0{i}', m['m0'], DateTime)}
  AND p.reported_at < {q.bind(f'm1{i}', m['m1'], DateTime)} AND p.reported_at <= {t}{filters}""")
    sql = "\nUNION ALL\n".join(parts)
    if not q.pg:
        # SQLite: each month read grid by grid from ix_problems_grid_month, in index order.
        # The distinct grid ids by a loose index scan (one seek per id), then NULL (no grid).
        sql = ("WITH RECURSIVE nn(id) AS (SELECT MIN(grid_id) FROM problems UNION ALL\n"
               "  SELECT (SELECT MIN(grid_id) FROM problems WHERE grid_id > nn.id) FROM nn WHERE nn.id IS NOT NULL),\n"
               "gids AS MATERIALIZED (SELECT id FROM nn WHERE id IS NOT NULL UNION ALL SELECT NULL)\n" + sql)
    df = q.run(engine, sql)
    return pd.DataFrame({"k": [m["k"] for m in months]}).merge(df, on="k", how="left")


def _stats_rows_parallel(engine: Engine, months: list[dict], subdistrict=None, category=None,
                         source=None) -> pd.DataFrame:
    """`_stats_rows` split over two connections on SQLite, which runs one query on one core:
    WAL lets two readers work at once and the driver releases the GIL while SQLite computes."""
    if engine.dialect.name != "sqlite" or len(months) < 4:
        return _stats_rows(engine, months, subdistrict, category, source)
    half = (len(months) + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda ms: _stats_rows(engine, ms, subdistrict, category, source),
                              (months[:half], months[half:])))
    return pd.concat(parts, ignore_index=True)


def overdue_now(engine: Engine, as_of: datetime | None = None, subdistrict=None, category=None, source=None) -> int:
    """现超期: problems reported by `as_of`, past their deadline, not rectified and not closed then."""
    t = as_of_moment(as_of)
    key = ("overdue", str(engine.url), t, subdistrict, category, source)
    if t <= datetime.now() - timedelta(minutes=1) and (hit := memo_get(key)) is not None:
        return hit  # a moment in the past: the count cannot change
    q = Sql(engine)
    tt = q.bind("t", t, DateTime)
    cond = (f" AND p.deadline < {tt} AND (p.rectified_at IS NULL OR p.rectified_at > {tt})"
            + q.problem_filters('p', category, source, subdistrict))
    sql = f"SELECT COUNT(*) FROM ({open_at(q, tt, 'p.id', cond)}) o"
    n = int(q.run(engine, sql).iloc[0, 0])
    if t <= datetime.now() - timedelta(minutes=1):
        memo_put(key, n)
    return n


KPI_LABELS = {
    "problems": ("问题数", "件"),
    "closure_rate": ("结案率", "%"),
    "on_time_rate": ("按期结案率", "%"),
    "rework_rate": ("返工率", "%"),
    "overdue_now": ("现超期", "件"),
    "avg_hours": ("平均整改用时", "小时"),
}


#: For each KPI, whether a rise is good news (drives the arrow colour on the wall).
KPI_HIGHER_IS_BETTER = {"problems": False, "closure_rate": True, "on_time_rate": True, "rework_rate": False,
                        "overdue_now": False, "avg_hours": False}


def kpis(engine: Engine, month: date, as_of: datetime | None = None, subdistrict=None, category=None,
         source=None) -> pd.DataFrame:
    """KPI tiles for `month` against the month before.

    One row per KPI (index: problems, closure_rate, on_time_rate, rework_rate, overdue_now,
    avg_hours) with label, unit, value, previous, change (value − previous; rates in
    percentage points), higher_is_better. Rates are in percent.
    """
    t = as_of_moment(as_of)
    m = month_start(month)
    prev = add_months(m, -1)
    stats = monthly_stats(engine, prev, m, t, subdistrict, category, source).set_index("month")
    end_of = {mm: min(t, datetime.combine(add_months(mm, 1), datetime.min.time())) for mm in (prev, m)}
    rows = []
    for key, (label, unit) in KPI_LABELS.items():
        vals = []
        for mm in (m, prev):
            if key == "overdue_now":
                v = float(overdue_now(engine, end_of[mm], subdistrict, category, source))
            else:
                v = stats.at[mm, key] if mm in stats.index else float("nan")
                v = float(v) * (100.0 if unit == "%" else 1.0) if pd.notna(v) else float("nan")
            vals.append(v)
        rows.append({"key": key, "label": label, "unit": unit, "value": vals[0], "previous": vals[1],
                     "change": vals[0] - vals[1], "higher_is_better": KPI_HIGHER_IS_BETTER[key]})
    return pd.DataFrame(rows).set_index("key")


def trend(engine: Engine, months: int = 12, as_of: datetime | None = None, subdistrict=None, category=None,
          source=None) -> pd.DataFrame:
    """The last `months` months up to `as_of`'s month: `monthly_stats` columns, oldest first."""
    t = as_of_moment(as_of)
    last = current_month(t)
    return monthly_stats(engine, add_months(last, 1 - months), last, t, subdistrict, category, source)


def filter_options(engine: Engine) -> dict[str, list[str]]:
    """Choices for the wall's filters: sub-districts of the current layer, categories, sources."""
    from gis.db.models import SOURCES

    with engine.connect() as conn:
        layer = current_layer_id(conn)
        sds = [r[0] for r in conn.execute(text("SELECT DISTINCT subdistrict FROM grids WHERE layer_id = :l "
                                               "ORDER BY subdistrict"), {"l": layer})]
        cats = [r[0] for r in conn.execute(text("SELECT name FROM categories ORDER BY name"))]
    return {"subdistrict": sds, "category": cats, "source": list(SOURCES)}
