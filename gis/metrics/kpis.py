"""Problem figures per month (the wall's KPI tiles and its 12-month trend).

The definitions are those of `gis.metrics.figures` (应结案 by deadline, 按期 by the deadline in
force, …) on the states of `gis.problems.states`; 现超期 is `states.overdue_sql` at a moment.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import DateTime, Engine, text

from gis.geo.areas import current_layer_id
from gis.metrics.memo import memo_get, memo_put
from gis.metrics.periods import add_months, as_of_moment, current_month, month_rows, month_start
from gis.metrics import figures
from gis.metrics.sql import Sql, overdue_at


STAT_COLUMNS = ["month", "problems", "registered", "due", "closed", "on_time", "overdue", "rework", "extended",
                "handled", "deferred", "avg_hours", "closure_rate", "on_time_rate", "rework_rate", "extension_rate",
                "overdue_rate", "handling_rate"]


def monthly_stats(engine: Engine, first: date, last: date, as_of: datetime | None = None, subdistrict=None,
                  category=None, source=None, district=None) -> pd.DataFrame:
    """Problem figures per month from `first` to `last` (each month as of its end, or `as_of`).

    Columns: month (date), problems (问题数), registered (立案数), due (应结案数), closed (结案数),
    on_time (按期结案数), overdue (超期数), rework (返工数), extended (延期数), handled (处置数),
    deferred (缓办数), avg_hours (平均整改用时), and the rates 0–1 (NaN when nothing was due):
    closure_rate, on_time_rate, rework_rate, extension_rate, overdue_rate, handling_rate.
    `district` (区县) limits them to its problems; `subdistrict`, `category`, `source` likewise.
    """
    t = as_of_moment(as_of)
    months = month_rows(month_start(first), month_start(last), t)
    now = datetime.now()
    key = (str(engine.url), subdistrict, category, source, district)
    # A month that ended before now is evaluated at its end: its figures cannot change, so they are
    # kept for FROZEN_TTL_SECONDS and only the current month is queried again on each refresh.
    frozen = [m for m in months if m["t"] == m["m1"] and m["m1"] <= now]
    todo = [m for m in months if m not in frozen or memo_get(("stats", m["k"], *key)) is None]
    fresh = _counts(engine, todo, subdistrict, category, source, district) if todo else pd.DataFrame()
    for m in frozen:
        if m in todo:
            memo_put(("stats", m["k"], *key), fresh[fresh["k"] == m["k"]])
    parts = [memo_get(("stats", m["k"], *key)) if m not in todo else fresh[fresh["k"] == m["k"]] for m in months]
    df = figures.with_rates(pd.concat(parts, ignore_index=True))
    df["month"] = pd.to_datetime(df["k"] + "-01").dt.date
    return df.rename(columns={"reported": "problems"})[STAT_COLUMNS]


def _counts(engine: Engine, months: list[dict], subdistrict=None, category=None, source=None,
            district=None) -> pd.DataFrame:
    """City `figures.counts` of each month of `months`, a row for every month (zeros when empty).

    On SQLite, which runs one query on one core, several months are split over two connections
    (WAL lets two readers work at once; the driver releases the GIL while SQLite computes)."""
    if engine.dialect.name == "sqlite" and len(months) >= 4:
        half = (len(months) + 1) // 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = list(pool.map(lambda ms: figures.counts(engine, ms, "city", category, source, subdistrict, district),
                                  (months[:half], months[half:])))
        df = pd.concat(parts, ignore_index=True).drop(columns="key")
    else:
        df = figures.counts(engine, months, "city", category, source, subdistrict, district).drop(columns="key")
    out = pd.DataFrame({"k": [m["k"] for m in months]}).merge(df, on="k", how="left")
    for c in figures.INDICATORS:
        out[c] = out[c].fillna(0)
    for c in figures.INT_INDICATORS:
        out[c] = out[c].astype("int64")
    return out


def overdue_now(engine: Engine, as_of: datetime | None = None, subdistrict=None, category=None, source=None,
                district=None) -> int:
    """现超期: problems 超期 at `as_of` (`gis.problems.states`: open, not 缓办, past the deadline in force)."""
    t = as_of_moment(as_of)
    key = ("overdue", str(engine.url), t, subdistrict, category, source, district)
    if t <= datetime.now() - timedelta(minutes=1) and (hit := memo_get(key)) is not None:
        return hit  # a moment in the past: the count cannot change
    q = Sql(engine)
    tt = q.bind("t", t, DateTime)
    filters = q.problem_filters('p', category, source, subdistrict, district)
    sql = f"SELECT COUNT(*) FROM ({overdue_at(q, tt, 'p.id', filters)}) o"
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
         source=None, district=None) -> pd.DataFrame:
    """KPI tiles for `month` against the month before, like with like (同期).

    A month still in progress at t (its first n days) is compared with the same first n days of
    the month before, evaluated at the same point of that month — never a few days against a
    whole month; a complete month with the whole month before. One row per KPI (index: problems,
    closure_rate, on_time_rate, rework_rate, overdue_now, avg_hours) with label, unit, value,
    previous, change (value − previous; rates in percentage points), higher_is_better and
    compared (the period `previous` covers, in Chinese). Rates are in percent.
    """
    t = as_of_moment(as_of)
    m = month_start(month)
    this = month_rows(m, m, t)[0]
    prev = same_days_before(this)
    # The two periods on two connections at once (a database answers one statement on one core).
    with ThreadPoolExecutor(max_workers=2) as pool:
        this_f, prev_f = pool.map(lambda p: _period_figures(engine, p, subdistrict, category, source, district),
                                  (this, prev))
    stats = {"this": this_f, "prev": prev_f}
    moments = {"this": this["t"], "prev": prev["t"]}
    rows = []
    for key, (label, unit) in KPI_LABELS.items():
        vals = []
        for which in ("this", "prev"):
            if key == "overdue_now":
                v = float(overdue_now(engine, moments[which], subdistrict, category, source, district))
            else:
                v = stats[which][key]
                v = float(v) * (100.0 if unit == "%" else 1.0) if pd.notna(v) else float("nan")
            vals.append(v)
        rows.append({"key": key, "label": label, "unit": unit, "value": vals[0], "previous": vals[1],
                     "change": vals[0] - vals[1], "higher_is_better": KPI_HIGHER_IS_BETTER[key],
                     "compared": prev["label"]})
    return pd.DataFrame(rows).set_index("key")


def same_days_before(period: dict) -> dict:
    """The period of the month before `period` (a `month_rows` row) covering the same days (同期):
    the whole month when `period` is complete, else its first as many days and hours as `period`
    has run (at most that whole month), evaluated at that moment. Adds a Chinese ``label``."""
    m0 = period["m0"]
    p0 = datetime.combine(add_months(m0.date(), -1), datetime.min.time())
    full_end = m0
    if period["t"] >= period["m1"]:
        end, label = full_end, "上月"
    else:
        end = min(p0 + (period["t"] - m0), full_end)
        last = (end - timedelta(microseconds=1)).day
        label = ("上月同期（1日）" if last == 1 else f"上月同期（1–{last}日）") if end < full_end else "上月"
    return {"k": p0.strftime("%Y-%m"), "m0": p0, "m1": end, "t": end, "d0": p0.date(), "d1": end.date(),
            "dt": end.date(), "label": label}


def _period_figures(engine: Engine, period: dict, subdistrict=None, category=None, source=None,
                    district=None) -> pd.Series:
    """`figures.counts` with rates for one period (any [m0, m1) evaluated at t), as a Series."""
    df = figures.with_rates(_counts(engine, [period], subdistrict, category, source, district))
    return df.rename(columns={"reported": "problems"}).iloc[0]


def trend(engine: Engine, months: int = 12, as_of: datetime | None = None, subdistrict=None, category=None,
          source=None, district=None) -> pd.DataFrame:
    """The last `months` months up to `as_of`'s month: `monthly_stats` columns, oldest first."""
    t = as_of_moment(as_of)
    last = current_month(t)
    return monthly_stats(engine, add_months(last, 1 - months), last, t, subdistrict, category, source, district)


def filter_options(engine: Engine, district=None) -> dict[str, list[str]]:
    """Choices for the wall's filters: sub-districts of the current layer (of `district`), categories, sources."""
    from gis.db.models import SOURCES

    with engine.connect() as conn:
        layer = current_layer_id(conn)
        where = " AND district_code = :d" if district else ""
        sds = [r[0] for r in conn.execute(text("SELECT DISTINCT subdistrict FROM grids WHERE layer_id = :l"
                                               f"{where} ORDER BY subdistrict"), {"l": layer, "d": district})]
        cats = [r[0] for r in conn.execute(text("SELECT name FROM categories ORDER BY name"))]
    return {"subdistrict": sds, "category": cats, "source": list(SOURCES)}
