"""The rows the problem figures of a month (指标) are sums of: `problem_rows`, one definition, in SQL.

One row per problem that counts in month M in any way — reported in M, 立案 in M, due in M
(应结案, see `gis.problems.states`), or 缓办 in M — with 0/1 indicator columns; the figures are
sums of those columns (`gis.metrics.figures.counts`), and the impact preview moves the same rows between grids
(`gis.metrics.reassign`). M is evaluated at t = its end, or `as_of` if earlier.

| column | figure | definition |
|---|---|---|
| reported | 问题数 | 立案 problems reported in M |
| ded | 问题扣分 | their deductions, weighted by source (GRIDMAP_SOURCE_WEIGHTS) |
| registered | 立案数 | problems 立案 in M (inspector / grid-worker finds: at their report) |
| open | 未结案 | problems reported in M still open at t |
| due | 应结案数 | due in M (deadline in M, or closed early in M), less 缓办 |
| closed | 结案数 | of due, closed at t |
| on_time | 按期结案数 | of due, closed by the deadline (延期 included) |
| overdue | 超期数 | of due, not closed by the deadline: 超期结案 or still 超期 |
| rework | 返工数 | of due, sent back at least once |
| extended | 延期数 | of due, with an approved 延期 |
| handled | 处置数 | of due, rectified (or closed) by t |
| hours, hours_n | 平均整改用时 | hours from report to rectification, over due cases rectified by t |
| deferred | 缓办数 | 缓办 approved in M |
| followed, satisfied | 回访数, 满意率 | 12345 回访 made in M; of them 满意 or 基本满意 (street, issue 15) |
"""

from __future__ import annotations

from gis.db.models import SOURCES
from gis.metrics.settings import source_weights
from gis.metrics.sql import Sql
from gis.problems import states
from gis.problems.states import SATISFIED

INDICATORS = ("reported", "ded", "registered", "open", "due", "closed", "on_time", "overdue", "rework", "extended",
              "handled", "hours", "hours_n", "deferred", "followed", "satisfied")
INT_INDICATORS = tuple(c for c in INDICATORS if c not in ("ded", "hours"))


def source_weight_sql(alias: str = "p") -> str:
    """The 问题扣分 weight of `alias`.source (GRIDMAP_SOURCE_WEIGHTS), as a SQL CASE of literals."""
    weights = source_weights()
    cases = " ".join(f"WHEN '{src}' THEN {float(w)!r}" for src, w in weights.items() if src in SOURCES)
    return f"(CASE {alias}.source {cases} ELSE 1.0 END)"


#: The columns of a problem the figures read (each candidate range reads them with the row).
ROW_COLUMNS = ", ".join(f"p.{c}" for c in (
    "id", "grid_id", "unit_id", "district_code", "lon", "lat", "rework_count", "category", "source", "deduction",
    "status", "reported_at", "deadline", "verified_at", "rectified_at", "registered_at", "deferred_at",
    "original_deadline", "followed_up_at", "satisfaction"))


def _flag(cond: str) -> str:
    return f"CASE WHEN {cond} THEN 1 ELSE 0 END"


#: Every date a problem's figures read: a row with none in [D, t] has the same figures at D and at t.
DATES = ("reported_at", "deadline", "verified_at", "rectified_at", "registered_at", "deferred_at", "followed_up_at")


def problem_rows(q: Sql, months: list[dict], filters: str = "", extra: str = "", district: str | None = None,
                 months_table: str = "months", window: bool = False) -> str:
    """SELECT of one row per (month k, problem) counting in that month, with INDICATORS and
    id, grid_id, unit_id, district_code, lon, lat, category, source and ded_raw (问题扣分 before the source
    weight: the monthly aggregates keep it by source, `gis.metrics.month_sums`). `months` go in a months CTE named m (see `Sql.months_cte`);
    the caller puts ``WITH {q.months_cte(months)}`` in front. `filters`/`extra`: more conditions
    on p. `district` (区县): every candidate range is read within it (its ``ix_problems_district_*`` indexes).

    The candidates come from index ranges (reported_at, deadline, (status, verified_at),
    registered_at, deferred_at, followed_up_at) — the exact tests below imply one of them — read with
    the columns the tests need (each row once: a range skips the rows of the ranges before it), and each
    state is evaluated once per row (materialised), then combined.

    `months_table`: the name of the months CTE. `window`: the candidates are instead the rows with any of
    DATES in the months' [r0, r1] (the day's rows, `gis.metrics.day_sums`); the months CTE carries r0, r1.
    """
    m0, m1 = "m.m0", "m.m1"
    in_district = f" AND p.district_code = {q.bind('district', district)}" if district else ""
    closed = f"'{states.STATUS_CLOSED}'"
    if window:  # verified_at counts only on a closed row (closed_at_sql), as in its month range below
        ranges = tuple((f"p.status = {closed} AND " if c == "verified_at" else "") + f"p.{c} >= m.r0 AND p.{c} <= m.r1"
                       for c in DATES)
    else:
        ranges = (f"p.reported_at >= {m0} AND p.reported_at < {m1}",
                  f"p.deadline >= {m0} AND p.deadline < {m1}",
                  f"p.status = {closed} AND p.verified_at >= {m0} AND p.verified_at < {m1}",
                  f"p.registered_at >= {m0} AND p.registered_at < {m1}",
                  f"p.deferred_at >= {m0} AND p.deferred_at < {m1}",
                  f"p.followed_up_at >= {m0} AND p.followed_up_at < {m1}")
    # Each candidate once per month, without a second pass: a range's rows leave out those of the ranges before it.
    cand = " UNION ALL ".join(
        f"SELECT m.k, m.m0, m.m1, m.t, {ROW_COLUMNS} FROM {months_table} m JOIN problems p ON {cond}{in_district}"
        + "".join(f" AND NOT COALESCE(({before}), FALSE)" for before in ranges[:i]) + f" WHERE 1 = 1{filters}{extra}"
        for i, cond in enumerate(ranges))
    m0, m1, t = "p.m0", "p.m1", "p.t"  # the candidate's month, carried with it
    rep = f"(p.reported_at >= {m0} AND p.reported_at < {m1} AND p.reported_at <= {t} AND {states.registered_sql()})"
    reg_at = "COALESCE(p.registered_at, p.reported_at)"
    registered = f"({states.registered_sql()} AND {reg_at} >= {m0} AND {reg_at} < {m1} AND {reg_at} <= {t})"
    deferred = f"(p.deferred_at >= {m0} AND p.deferred_at < {m1} AND p.deferred_at <= {t})"
    fixed_by_t = f"(p.rectified_at IS NOT NULL AND p.rectified_at <= {t})"
    followed = f"(p.followed_up_at >= {m0} AND p.followed_up_at < {m1} AND p.followed_up_at <= {t})"
    satisfied = f"({followed} AND p.satisfaction IN ({', '.join(repr(s) for s in SATISFIED)}))"  # 12345 回访
    base = f"""SELECT p.k, p.id, p.grid_id, p.unit_id, p.district_code, p.lon, p.lat, p.rework_count, p.category, p.source,
  p.deduction AS deduction_raw,
  {_flag(rep)} AS rep, {_flag(registered)} AS reg, {_flag(states.due_in_sql("p", m0, m1, t))} AS due,
  {_flag(states.closed_sql("p", t))} AS closed_t, {_flag(states.on_time_sql("p", t))} AS on_time_t,
  {_flag(states.open_sql("p", t))} AS open_t, {_flag(fixed_by_t)} AS fixed_t, {_flag(deferred)} AS deferred,
  {_flag("p.original_deadline IS NOT NULL")} AS ext, p.deduction * {source_weight_sql()} AS dw,
  {q.hours('p.reported_at', 'p.rectified_at')} AS h, {_flag(followed)} AS followed, {_flag(satisfied)} AS satisfied
FROM ({cand}) p"""
    # Each state once per row: PostgreSQL streams a subquery it may not flatten (OFFSET 0); SQLite, which
    # could flatten it and evaluate the states again for every use, materialises it.
    source = f"({base} OFFSET 0) base" if q.pg else "base"
    head = "" if q.pg else f"WITH base AS MATERIALIZED ({base})\n"
    return f"""{head}SELECT k, id, grid_id, unit_id, district_code, lon, lat, category, source, rep * deduction_raw AS ded_raw,
  rep AS reported, rep * dw AS ded, reg AS registered, rep * open_t AS open, due,
  due * closed_t AS closed, due * on_time_t AS on_time, due * (1 - on_time_t) AS overdue,
  CASE WHEN due = 1 AND rework_count > 0 THEN 1 ELSE 0 END AS rework, due * ext AS extended,
  CASE WHEN due = 1 AND (closed_t = 1 OR fixed_t = 1) THEN 1 ELSE 0 END AS handled,
  CASE WHEN due = 1 AND fixed_t = 1 THEN h ELSE 0.0 END AS hours, due * fixed_t AS hours_n, deferred,
  followed, satisfied
FROM {source}
WHERE rep = 1 OR reg = 1 OR due = 1 OR deferred = 1 OR followed = 1"""
