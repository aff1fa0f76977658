"""The problem figures of a month (指标), per city, grid, responsible unit or district: sums of the
rows of `gis.metrics.rows` (where each figure is defined). A whole month evaluated at its end is read
from its monthly aggregate (`gis.metrics.month_sums`); any other period is summed from the rows live.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from gis.metrics import day_sums, month_sums
from gis.metrics.rows import INDICATORS, INT_INDICATORS, problem_rows
from gis.metrics.sql import Sql

__all__ = ["INDICATORS", "INT_INDICATORS", "GROUPS", "RATES", "counts", "problem_rows", "with_rates"]


GROUPS = {
    "city": ("", ""),
    "grid": ("g.code", "JOIN grids g ON g.id = x.grid_id"),
    "unit": ("u.code", "JOIN units u ON u.id = x.unit_id"),
    "district": ("x.district_code", ""),  # 区县 (issue 17): the city wall's districts side by side
}


def counts(engine: Engine, months: list[dict], by: str = "city", category=None, source=None,
           subdistrict=None, district=None) -> pd.DataFrame:
    """Sums of INDICATORS per month k (and per grid code or unit code: column ``key``) for
    `months` (rows of `gis.metrics.periods.month_rows`). Months or groups with nothing are absent.
    Whole months are summed from their monthly aggregates (`gis.metrics.month_sums`; rolled up by grid unless a
    unit or a category is asked for), the rest from
    the problem rows: the same rows, so the same figures; a period in progress from its figures at the start of
    the day and the day's rows (`gis.metrics.day_sums`)."""
    if by not in GROUPS:
        raise ValueError(f"未知的统计口径：{by}（应为 city、grid、unit 或 district）")
    stored = month_sums.ready(engine, months, district)
    rest = [m for m in months if m["k"] not in stored]
    today = day_sums.ready(engine, rest, district)
    live = [m for m in rest if m["k"] not in today]
    q = Sql(engine)
    filters = q.problem_filters("p", category, source, subdistrict, district)
    sources, ctes = [], []
    if live:
        ctes.append(q.months_cte(live))
        sources.append(problem_rows(q, live, filters, district=district))
    grid = month_sums.grid_rollup_serves(by, category)
    if stored:
        sources.append(month_sums.sums_rows(q, sorted(stored), filters, grid=grid))
    if today:
        more_ctes, more = day_sums.rows(q, today, filters, district, grid)
        ctes += more_ctes
        sources += more
    key, join = GROUPS[by]
    key_col = f"{key} AS key, " if key else "'' AS key, "
    group = f", {key}" if key else ""
    sums = ", ".join(f"SUM(x.{c}) AS {c}" for c in INDICATORS)
    with_ctes = f"WITH {', '.join(ctes)}\n" if ctes else ""
    parts = [f"""SELECT x.k, {key_col}{sums}
FROM ({rows}) x {join}
GROUP BY x.k{group}""" for rows in sources]
    # summed once more: a period of the day's sums comes in three parts
    totals = ", ".join(f"SUM(y.{c}) AS {c}" for c in INDICATORS)
    sql = f"{with_ctes}SELECT k, key, {totals} FROM ({' UNION ALL '.join(parts)}) y GROUP BY k, key ORDER BY k, key"
    df = q.run(engine, sql, hashed=True)
    for c in INT_INDICATORS:
        df[c] = df[c].fillna(0).astype("int64")
    for c in ("ded", "hours"):  # sums and differences of sums: no rounding residue
        df[c] = df[c].fillna(0.0).astype("float64").round(9)
    return df


RATES = {  # rate column: (numerator, denominator); NaN when the denominator is 0
    "closure_rate": ("closed", "due"), "on_time_rate": ("on_time", "due"), "rework_rate": ("rework", "due"),
    "extension_rate": ("extended", "due"), "overdue_rate": ("overdue", "due"), "handling_rate": ("handled", "due"),
    "satisfaction_rate": ("satisfied", "followed"),  # street (issue 15): 满意率 of the 12345 回访
}


def with_rates(df: pd.DataFrame) -> pd.DataFrame:
    """`counts` plus the rates (0–1) and avg_hours (平均整改用时)."""
    out = df.copy()
    for rate, (num, den) in RATES.items():
        out[rate] = out[num] / out[den].where(out[den] > 0)
    out["avg_hours"] = out["hours"] / out["hours_n"].where(out["hours_n"] > 0)
    return out
