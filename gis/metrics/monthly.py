"""Every figure of a month as one plain dict (machine-readable: `python -m gis figures --json`),
so the bulletin, an API and outside checks read the same numbers as the wall.

Shape: ``{"month", "as_of", "city": {…}, "grids": {code: {…, 综合得分, 排名, 样本不足, 负面清单}},
"units": {unit code: {…, 负面清单}}}``; 负面清单 = ``{"事件": [event codes], "否决": bool, "扣分": points}``
(`gis.metrics.negative`; a vetoed grid has 综合得分 0 and the last 排名) with the Chinese names of `gis.metrics.definitions.FIGURES` as keys,
rates as fractions (4 decimals; null when nothing was due), 平均整改用时 in hours (1 decimal).
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import Unit
from gis.metrics import figures, negative, scores
from gis.metrics.definitions import FIGURES
from gis.metrics.settings import min_inspections
from gis.metrics.periods import month_end_as_of, month_rows, month_start


class FiguresError(ValueError):
    """Bad input for the month's figures (Chinese message)."""


def _value(f, row) -> float | int | None:
    v = row.get(f.column) if row is not None else None
    if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
        return None if (f.rate or f.column == "avg_hours") else 0
    if f.rate:
        return round(float(v), 4)
    if f.column == "avg_hours":
        return round(float(v), 1)
    return int(v)


def _block(row) -> dict:
    return {f.name: _value(f, row) for f in FIGURES}


def month_figures(engine: Engine, month: date, as_of: datetime | None = None, subdistrict: str | None = None,
                  grid: str | None = None) -> dict:
    """The figures of `month` evaluated at its end (or `as_of` if earlier): the city (or the
    sub-district), each current grid (or only `grid`) with its 综合得分 and rank, each unit."""
    m = month_start(month)
    t = month_end_as_of(m, as_of)
    months = month_rows(m, m, t)
    city = figures.with_rates(figures.counts(engine, months, "city", subdistrict=subdistrict))
    by_grid = figures.with_rates(figures.counts(engine, months, "grid", subdistrict=subdistrict)).set_index("key")
    by_unit = figures.with_rates(figures.counts(engine, months, "unit", subdistrict=subdistrict)).set_index("key")
    table = scores.monthly_scores(engine, m, t, subdistrict=subdistrict)
    min_sample = min_inspections()
    if grid is not None:
        if grid not in set(table["code"]):
            raise FiguresError(f"网格 {grid} 不存在（或不在所选街道）。")
        table = table[table["code"] == grid]
    grids = {}
    for r in table.itertuples():
        block = _block(by_grid.loc[r.code].to_dict() if r.code in by_grid.index else None)
        block.update({"综合得分": round(float(r.score), 2), "排名": None if pd.isna(r.rank) else int(r.rank),
                      "样本不足": not bool(r.ranked) or (bool(r.vetoed) and r.inspections < min_sample),
                      "负面清单": negative.as_json(r.negative_events, r.vetoed, r.negative_deduction)})
        grids[r.code] = block
    u = Unit.__table__
    with engine.connect() as conn:
        unit_codes = [c for (c,) in conn.execute(select(u.c.code).order_by(u.c.code))]
    eff = negative.unit_effects(engine, months).set_index("code")
    if subdistrict:
        eff = eff.iloc[0:0]
    units = {}
    for c in unit_codes:
        units[c] = _block(by_unit.loc[c].to_dict() if c in by_unit.index else None)
        units[c]["负面清单"] = negative.as_json(eff.at[c, "events"] if c in eff.index else [],
                                            c in eff.index and bool(eff.at[c, "vetoed"]),
                                            eff.at[c, "negative_deduction"] if c in eff.index else 0.0)
    return {"month": m.strftime("%Y-%m"), "as_of": t.isoformat(timespec="seconds"),
            "city": _block(city.iloc[0].to_dict() if len(city) else None), "grids": grids, "units": units}


def parse_month(text: str) -> date:
    """'2026-11' → date(2026, 11, 1), with a Chinese message otherwise."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except (ValueError, AttributeError):
        raise FiguresError(f"月份“{text}”格式不对，应为 YYYY-MM，例如 2026-11。") from None


def parse_as_of(text: str | None) -> datetime | None:
    """An ISO date (the end of that day) or datetime; None = now."""
    if not text:
        return None
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time()) + pd.Timedelta(days=1)
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise FiguresError(f"统计时点“{text}”格式不对，应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM。") from None
