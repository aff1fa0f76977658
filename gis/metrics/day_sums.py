"""本月截至今日汇总 (issue 17): the figures of a period still in progress, from its figures at the start of the day.

The month in progress is evaluated as of a moment t (a problem becomes 超期 when its deadline passes, with no
write), so no whole-month sum serves it (`gis.metrics.month_sums`). But a row's figures depend on t only through
which of its dates (`gis.metrics.rows.DATES`) lie before t: a row with no date in [D, t] — D the start of t's
day — has the same figures at D as at t. So, with S = the period's figures at D and R = the rows with a date in
[D, t] (today's: a few thousand where the month has a million):

    figures(t) = S − R evaluated at D + R evaluated at t

S is summed once per day into ``problem_day_sums`` by `problem_rows` itself (the one definition), per (grid,
unit, district, category, source); R is read live through the date indexes. The same holds for 上月同期 (the
first days of last month up to the same moment, `gis.metrics.kpis.same_days_before`): its end and t are
that moment, and at D both are D.

S stays right because the database notes how far back each write to ``problems`` reaches
(``problem_day_changes``, triggers of migration 0021): a write that only sets today's dates — a report, a
workflow step, a 回访 — reaches back to today and leaves S alone (its row is in R); one that changes an older
date, 立案 or closes with an older moment, or corrects a grid, unit, category or deduction reaches back to the
row's first date, and S is summed again at the next read. As for the month sums: the refresh deletes the notes
it saw and sums the rows of the same snapshot, so it can be late, never wrong; a read that cannot write
(a read replica, a SQLite file another writer holds) sums the period live, as before.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import DateTime, Engine, text

from gis.metrics.month_sums import (GROUP_COLUMNS, SUM_COLUMNS, by_grid, districts, roll_up, sums_rows, whole_month,
                                    write_derived)
from gis.metrics.rows import INDICATORS, problem_rows
from gis.metrics.sql import Sql

TABLE = "problem_day_sums"


def at_day(period: dict) -> dict | None:
    """`period` (a `month_rows` or `same_days_before` row) as evaluated at D, the start of its moment's day; None
    when the day's figures do not serve it (a whole month, or D not after the period's start)."""
    t, m0, m1 = period["t"], period["m0"], period["m1"]
    day = datetime.combine(t.date(), time.min)
    if whole_month(period) or day <= m0 or m1 < t:
        return None
    end = m1 if m1 > t else day  # a period that ends at its moment (上月同期) ends at D too
    return {**period, "m1": end, "t": day, "d1": end.date(), "dt": day.date()}


def _window(row: dict, period: dict, day: dict) -> dict:
    """Months-CTE `row` with the window [D, t] of `period`'s day rows (columns r0, r1)."""
    return {**row, "r0": day["t"], "r1": period["t"]}


def current(engine: Engine, period: dict, district: str | None = None) -> bool:
    """True when the stored figures at D of `period` serve it for `district` (None: every district): computed
    for that day and end, and no write since reaches back to D. Computes nothing."""
    day = at_day(period)
    if day is None:
        return False
    scope = [district] if district else districts(engine)
    return _current(engine, day, scope)


def _current(engine: Engine, day: dict, scope: list[str]) -> bool:
    q = Sql(engine)
    ds = ", ".join(q.bind(f"d{i}", d) for i, d in enumerate(scope))
    at, end = q.bind("day", day["t"], DateTime), q.bind("end", day["m1"], DateTime)
    sql = (f"SELECT COUNT(DISTINCT pd.district_code) AS n FROM problem_days pd WHERE pd.k = {q.bind('k', day['k'])} "
           f"AND pd.district_code IN ({ds}) AND pd.day = {at} AND pd.m1 = {end} AND NOT EXISTS (SELECT 1 FROM "
           f"problem_day_changes c WHERE c.k = pd.k AND c.district_code = pd.district_code AND c.changed_from <= {at})")
    return int(q.run(engine, sql)["n"].iloc[0]) == len(set(scope))


def ready(engine: Engine, months: list[dict], district: str | None = None) -> dict[str, tuple[dict, dict]]:
    """{k: (period, the period at D)} for the periods of `months` served from the day's sums for `district`,
    summing them first where they are missing or out of date and the database lets this process write."""
    out = {}
    scope = None
    for m in months:
        day = at_day(m)
        if day is None:
            continue
        scope = scope or ([district] if district else districts(engine))
        if _current(engine, day, scope) or _refresh(engine, day, district, scope):
            out[m["k"]] = (m, day)
    return out


def _refresh(engine: Engine, day: dict, district: str | None, scope: list[str]) -> bool:
    def run(conn, build) -> None:
        q = Sql(engine)  # typed binds: SQLite compares these dates as text, in SQLAlchemy's format
        sql = build(q)
        conn.execute(text(sql).bindparams(*q.binds) if q.binds else text(sql), q.params)

    def mine(q: Sql) -> str:
        return f"k = {q.bind('k', day['k'])} AND district_code IN ({', '.join(q.bind(f's{i}', d) for i, d in enumerate(scope))})"

    def write(conn) -> None:
        run(conn, lambda q: f"DELETE FROM problem_day_changes WHERE {mine(q)} AND changed_from <= "
                            f"{q.bind('day', day['t'], DateTime)}")
        run(conn, lambda q: f"DELETE FROM problem_days WHERE {mine(q)}")

        def theirs(q: Sql) -> str:  # the stored rows of this period (and district), fine and rolled up by grid
            return f"k = {q.bind('k', day['k'])}" + (f" AND district_code = {q.bind('one', district)}" if district else "")

        for table in (TABLE, by_grid(TABLE)):
            run(conn, lambda q: f"DELETE FROM {table} WHERE {theirs(q)}")
        group = ", ".join(f"x.{c}" for c in GROUP_COLUMNS)
        sums = ", ".join(f"SUM(x.{c})" for c in SUM_COLUMNS)
        run(conn, lambda q: f"WITH {q.months_cte([day])} INSERT INTO {TABLE} (k, day, {', '.join(GROUP_COLUMNS)}, "
                            f"{', '.join(SUM_COLUMNS)}) SELECT x.k, {q.bind('day', day['t'], DateTime)}, {group}, {sums} "
                            f"FROM ({problem_rows(q, [day], district=district)}) x GROUP BY x.k, {group}")
        run(conn, lambda q: roll_up(TABLE, ("k", "day"), theirs(q)))
        at = datetime.now().replace(microsecond=0)
        for d in scope:
            run(conn, lambda q: f"INSERT INTO problem_days (k, district_code, m1, day, computed_at) VALUES "
                                f"({q.bind('k', day['k'])}, {q.bind('d', d)}, {q.bind('m1', day['m1'], DateTime)}, "
                                f"{q.bind('day', day['t'], DateTime)}, {q.bind('at', at, DateTime)})")

    return write_derived(engine, write, f"{day['k']} 截至 {day['t']:%Y-%m-%d}")


def rows(q: Sql, served: dict[str, tuple[dict, dict]], filters: str = "", district: str | None = None,
         grid: bool = False) -> tuple[list[str], list[str]]:
    """(CTEs, SELECTs) whose rows, summed, are the figures of the `served` periods (`ready`): the stored sums at
    D, the day's rows at D taken away, the day's rows at t added. Each SELECT is shaped like `problem_rows`;
    `grid`: the stored sums rolled up by grid (`gis.metrics.month_sums.grid_rollup_serves`)."""
    periods = sorted(served)
    now = [_window(served[k][0], *served[k]) for k in periods]
    then = [_window(served[k][1], *served[k]) for k in periods]
    ctes = [q.months_cte(now, "months_t"), q.months_cte(then, "months_d")]
    at_t = problem_rows(q, now, filters, district=district, months_table="months_t", window=True)
    at_d = problem_rows(q, then, filters, district=district, months_table="months_d", window=True)
    minus = ", ".join(f"-x.{c} AS {c}" for c in INDICATORS)
    taken = f"SELECT x.k, {', '.join('x.' + c for c in GROUP_COLUMNS)}, {minus} FROM ({at_d}) x"
    return ctes, [sums_rows(q, periods, filters, TABLE, grid), taken, at_t]
