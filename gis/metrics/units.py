"""Responsible units (责任单位): 十差单位, the worst units of a month, by rate.

Units are ranked by 按期结案率 (lowest first), then by 超期数 (most first), among the units with
at least `GRIDMAP_UNIT_MIN_CASES` 应结案 cases that month — a rate over two cases says little, and
a raw count would put the busiest unit on the list rather than the worst one. The figures are
those of `gis.metrics.figures` grouped by the problems' responsible unit.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import Unit
from gis.metrics import figures
from gis.metrics.periods import as_of_moment, month_rows, month_start
from gis.metrics.settings import unit_min_cases

UNIT_COLUMNS = ["unit", "code", "problems", "due", "on_time", "overdue", "on_time_rate", "avg_hours"]


def unit_figures(engine: Engine, month: date, as_of: datetime | None = None, subdistrict=None, category=None,
                 source=None) -> pd.DataFrame:
    """`figures.counts` by responsible unit for `month`, with rates, unit name (unit) and code."""
    t = as_of_moment(as_of)
    months = month_rows(month_start(month), month_start(month), t)
    df = figures.with_rates(figures.counts(engine, months, "unit", category, source, subdistrict))
    u = Unit.__table__
    with engine.connect() as conn:
        names = dict(conn.execute(select(u.c.code, u.c.name)).all())
    return df.rename(columns={"key": "code", "reported": "problems"}).assign(unit=lambda d: d["code"].map(names))


def worst_units(engine: Engine, month: date, as_of: datetime | None = None, n: int = 10, subdistrict=None,
                category=None, source=None, min_cases: int | None = None) -> pd.DataFrame:
    """十差单位: the `n` units with the lowest 按期结案率 (then most 超期) among those with at least
    `min_cases` (default `GRIDMAP_UNIT_MIN_CASES`) 应结案 cases and at least one 超期.

    Columns: unit, code, problems, due, on_time, overdue, on_time_rate, avg_hours.
    """
    need = unit_min_cases() if min_cases is None else int(min_cases)
    df = unit_figures(engine, month, as_of, subdistrict, category, source)
    df = df[(df["due"] >= max(1, need)) & (df["overdue"] > 0)]
    df = df.sort_values(["on_time_rate", "overdue", "unit"], ascending=[True, False, True]).head(int(n))
    return df[UNIT_COLUMNS].reset_index(drop=True)
