"""Responsible units (责任单位): 十差单位, the worst units of a month, by rate.

Units are ranked by 按期结案率 (lowest first), then by 超期数 (most first), among the units with
at least `GRIDMAP_UNIT_MIN_CASES` 应结案 cases that month — a rate over two cases says little, and
a raw count would put the busiest unit on the list rather than the worst one. The figures are
those of `gis.metrics.figures` grouped by the problems' responsible unit.

负面清单 (`gis.metrics.negative`): a unit named by a confirmed event of the month with effect 否决 is
vetoed ("一票否决") and heads the 十差单位 whatever its cases; 扣分 events are listed as its
负面清单扣分 (negative_deduction).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import Unit
from gis.geo.districts import district_setting, district_table
from gis.metrics import figures, negative
from gis.metrics.periods import as_of_moment, month_rows, month_start
from gis.metrics.settings import unit_min_cases

UNIT_COLUMNS = ["unit", "code", "problems", "due", "on_time", "overdue", "on_time_rate", "avg_hours", "vetoed",
                "negative_deduction", "negative_events"]


def unit_figures(engine: Engine, month: date, as_of: datetime | None = None, subdistrict=None, category=None,
                 source=None, district=None) -> pd.DataFrame:
    """`figures.counts` by responsible unit for `month`, with rates, unit name (unit) and code; with
    `district` (区县), its problems and its 负面清单 events only."""
    t = as_of_moment(as_of)
    months = month_rows(month_start(month), month_start(month), t)
    df = figures.with_rates(figures.counts(engine, months, "unit", category, source, subdistrict, district))
    u = Unit.__table__
    with engine.connect() as conn:
        names = dict(conn.execute(select(u.c.code, u.c.name)).all())
    df = df.rename(columns={"key": "code", "reported": "problems"})
    eff = negative.unit_effects(engine, months, district).set_index("code")
    if subdistrict or category or source:  # the negative list is the whole unit's, not a slice of its problems
        eff = eff.iloc[0:0]
    missing = [c for c in eff.index if c not in set(df["code"])]  # a vetoed unit without problems still shows
    if missing:
        df = pd.concat([df, pd.DataFrame({"code": missing})], ignore_index=True)
        for col in ("problems", "due", "on_time", "overdue"):
            if col in df.columns:
                df[col] = df[col].fillna(0).astype("int64")
    df["vetoed"] = df["code"].isin(eff.index[eff["vetoed"].astype(bool)])
    df["negative_deduction"] = df["code"].map(eff["negative_deduction"]).fillna(0.0).astype("float64")
    df["negative_events"] = [list(eff.at[c, "events"]) if c in eff.index else [] for c in df["code"]]
    return df.assign(unit=lambda d: d["code"].map(names))


def worst_units(engine: Engine, month: date, as_of: datetime | None = None, n: int = 10, subdistrict=None,
                category=None, source=None, min_cases: int | None = None, district=None) -> pd.DataFrame:
    """十差单位: the units vetoed by the negative list (一票否决) first, then the `n` units with the
    lowest 按期结案率 (then most 超期) among those with at least `min_cases` (default
    `GRIDMAP_UNIT_MIN_CASES`) 应结案 cases and at least one 超期; `n` in all.

    Columns: UNIT_COLUMNS.
    """
    if min_cases is None and district:  # the district's own minimum, where it sets one (gis.geo.districts)
        own = district_table(engine).set_index("code")["settings"]
        min_cases = district_setting(own.get(district) or {}, "GRIDMAP_UNIT_MIN_CASES")
    need = unit_min_cases() if min_cases is None else int(min_cases)
    df = unit_figures(engine, month, as_of, subdistrict, category, source, district)
    df = df[df["vetoed"] | ((df["due"] >= max(1, need)) & (df["overdue"] > 0))]
    df = df.sort_values(["vetoed", "on_time_rate", "overdue", "unit"],
                        ascending=[False, True, False, True], na_position="first").head(int(n))
    return df[UNIT_COLUMNS].reset_index(drop=True)
