"""区县对比 (issue 17): the districts of a deployment side by side, for the city wall (市级大屏).

Every figure here is a district's own, computed by the one definition it has elsewhere:

| column | figure | definition |
|---|---|---|
| score | 区县得分 | mean 综合得分 (`gis.metrics.scores`) of the district's ranked grids that month; a vetoed grid (一票否决) counts 0; NaN when no grid is ranked |
| problems, due, closed, on_time | 问题数, 应结案数, 结案数, 按期结案数 | `gis.metrics.figures` of the district's problems |
| closure_rate, on_time_rate | 结案率, 按期结案率 | `figures.RATES` of those sums |
| yellow, red, green | 三色牌 | cards in force (`gis.accountability.cards`) on the district's units, points and grids |

A grid is scored among the grids of its own district (its 全区平均扣分, its ranking), so the same grid
shows the same score on its district's wall and on the city's.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from gis.db.models import CARD_ACTIVE, Card
from gis.geo.districts import district_table
from gis.metrics import figures
from gis.metrics.periods import add_months, as_of_moment, current_month, month_rows, month_start
from gis.metrics.scores import monthly_scores
from gis.metrics.settings import thresholds

DISTRICT_COLUMNS = ["code", "name", "grids", "ranked", "score", "rank", "color", "problems", "due", "closed",
                    "on_time", "closure_rate", "on_time_rate", "yellow", "red", "green"]


def district_score(scores: pd.DataFrame) -> pd.DataFrame:
    """区县得分 from one month's grid scores (`monthly_scores`, with district_code): per district code,
    grids (current grids), ranked (grids with a rank or vetoed) and score (their mean; NaN if none)."""
    s = scores.assign(counted=scores["ranked"].astype(bool) | scores["vetoed"].astype(bool),
                      value=scores["score"].where(~scores["vetoed"].astype(bool), 0.0))
    out = s.groupby("district_code", sort=False).agg(
        grids=("code", "size"), ranked=("counted", "sum"),
        score=("value", lambda v: v[s.loc[v.index, "counted"]].mean()))
    return out.reset_index().rename(columns={"district_code": "code"})


def district_figures(engine: Engine, month: date, as_of: datetime | None = None) -> pd.DataFrame:
    """DISTRICT_COLUMNS for `month` (as of its end, or `as_of`), one row per district in the order
    they were added; rank 1 = the best 区县得分 (districts without one unranked, NA)."""
    t = as_of_moment(as_of)
    months = month_rows(month_start(month), month_start(month), t)
    names = district_table(engine)[["code", "name"]]
    score = district_score(monthly_scores(engine, month, t))
    sums = figures.with_rates(figures.counts(engine, months, "district")).rename(
        columns={"key": "code", "reported": "problems"})
    df = names.merge(score, on="code", how="left").merge(
        sums[["code", "problems", "due", "closed", "on_time", "closure_rate", "on_time_rate"]], on="code", how="left")
    for col in ("grids", "ranked", "problems", "due", "closed", "on_time"):
        df[col] = df[col].fillna(0).astype("int64")
    df = df.merge(_cards_in_force(engine), on="code", how="left")
    for col in ("yellow", "red", "green"):
        df[col] = df[col].fillna(0).astype("int64")
    has = df["score"].notna()
    better = df["score"].to_numpy(np.float64)
    df["rank"] = pd.array([int(1 + (better[has.to_numpy()] > v).sum()) if ok else None
                           for v, ok in zip(better, has)], dtype="Int64")
    th = thresholds()
    df["color"] = [th.color(v) if ok else "灰" for v, ok in zip(better, has)]
    return df[DISTRICT_COLUMNS]


def _cards_in_force(engine: Engine) -> pd.DataFrame:
    """Cards in force (not lifted) per district code and colour: columns code, yellow, red, green."""
    c = Card.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(c.c.district_code, c.c.color, func.count())
                            .where(c.c.status == CARD_ACTIVE).group_by(c.c.district_code, c.c.color)).all()
    df = pd.DataFrame(rows, columns=["code", "color", "n"])
    wide = df.pivot_table(index="code", columns="color", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=["黄", "红", "绿"], fill_value=0).rename(columns={"黄": "yellow", "红": "red", "绿": "green"})
    return wide.reset_index().rename_axis(columns=None)


def district_trend(engine: Engine, months: int = 12, as_of: datetime | None = None) -> pd.DataFrame:
    """The last `months` months per district: columns month (first day), code, name, problems,
    on_time_rate (NaN when nothing was due). One query for every district and month."""
    t = as_of_moment(as_of)
    last = current_month(t)
    rows = month_rows(add_months(last, 1 - months), last, t)
    df = figures.with_rates(figures.counts(engine, rows, "district")).rename(columns={"key": "code", "reported": "problems"})
    names = district_table(engine)[["code", "name"]]
    grid = pd.MultiIndex.from_product([[m["k"] for m in rows], names["code"]], names=["k", "code"]).to_frame(index=False)
    out = grid.merge(df[["k", "code", "problems", "on_time_rate"]], on=["k", "code"], how="left").merge(names, on="code")
    out["problems"] = out["problems"].fillna(0).astype("int64")
    out["month"] = pd.to_datetime(out["k"] + "-01").dt.date
    return out[["month", "code", "name", "problems", "on_time_rate"]]
