"""Every figure of a month as one plain dict (machine-readable: `python -m gis figures --json`),
so the bulletin, an API and outside checks read the same numbers as the wall.

Shape: ``{"month", "as_of", "city": {…}, "grids": {code: {…, 综合得分, 排名, 样本不足, 负面清单}},
"units": {unit code: {…, 负面清单}}}``, plus ``"区县": {code: {名称, 区县得分, 排名, …}}`` (DISTRICT_KEYS) for the
whole deployment when it has several districts; 负面清单 = ``{"事件": [event codes], "否决": bool, "扣分": points}``
(`gis.metrics.negative`; a vetoed grid has 综合得分 0 and the last 排名) with the Chinese names of `gis.metrics.definitions.FIGURES` as keys,
rates as fractions (4 decimals; null when nothing was due), 平均整改用时 in hours (1 decimal).
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import Grid, Unit
from gis.geo.areas import current_layer_id
from gis.geo.districts import district_names, district_table, district_units, find_district
from gis.metrics import figures, negative, scores
from gis.metrics.districts import district_figures
from gis.metrics.definitions import FIGURES
from gis.metrics.settings import min_inspections
from gis.metrics.periods import month_end_as_of, month_rows, month_start


class FiguresError(ValueError):
    """Bad input for the month's figures (Chinese message)."""


class FiguresUsageError(FiguresError):
    """An option used for what another option does (e.g. a 街道 given as --district); exit 2."""


#: The main figures of each district in the "区县" section (`gis.metrics.districts.district_figures` columns).
DISTRICT_KEYS = {"name": "名称", "score": "区县得分", "rank": "排名", "grids": "网格数", "problems": "问题数",
                 "due": "应结案数", "closed": "结案数", "on_time": "按期结案数", "closure_rate": "结案率",
                 "on_time_rate": "按期结案率", "yellow": "黄牌", "red": "红牌", "green": "绿牌"}


def resolve_district(engine: Engine, text: str) -> str:
    """The code of the district (区县) `text` names (code or name); a 街道's name is refused with a hint to
    use --subdistrict (FiguresUsageError), anything else with the districts there are (FiguresError)."""
    code = find_district(engine, text)
    if code is not None:
        return code
    g = Grid.__table__
    with engine.connect() as conn:
        layer = current_layer_id(conn)
        subdistricts = set(conn.execute(select(g.c.subdistrict).where(g.c.layer_id == layer).distinct()).scalars())
    name = (text or "").strip()
    if name in subdistricts:
        raise FiguresUsageError(f"“{name}”是街道，不是区县：只统计该街道请用 --subdistrict {name}；"
                                f"--district 指区县（代码或名称：{district_names(engine)}）。")
    raise FiguresError(f"区县“{name}”不存在：可选 {district_names(engine)}（代码或名称）。")


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
                  grid: str | None = None, district: str | None = None) -> dict:
    """The figures of `month` evaluated at its end (or `as_of` if earlier): the city (or the district
    `district`, 区县 code, and/or the sub-district), each current grid (of them; or only `grid`) with its
    综合得分 and rank, each unit (with `district`: the units answering for its places or with figures in it).
    Without `district` or `subdistrict`, a deployment of several districts adds each district's main
    figures ("区县")."""
    m = month_start(month)
    t = month_end_as_of(m, as_of)
    months = month_rows(m, m, t)
    f = dict(subdistrict=subdistrict, district=district)
    city = figures.with_rates(figures.counts(engine, months, "city", **f))
    by_grid = figures.with_rates(figures.counts(engine, months, "grid", **f)).set_index("key")
    by_unit = figures.with_rates(figures.counts(engine, months, "unit", **f)).set_index("key")
    table = scores.monthly_scores(engine, m, t, **f)
    min_sample = min_inspections()
    if grid is not None:
        if grid not in set(table["code"]):
            why = "或不在所选区县或街道" if (district or subdistrict) else "现行网格图层中没有这个编号"
            raise FiguresError(f"网格 {grid} 不存在（{why}）。")
        table = table[table["code"] == grid]
    grids = {}
    for r in table.itertuples():
        block = _block(by_grid.loc[r.code].to_dict() if r.code in by_grid.index else None)
        block.update({"综合得分": round(float(r.score), 2), "排名": None if pd.isna(r.rank) else int(r.rank),
                      "样本不足": not bool(r.ranked) or (bool(r.vetoed) and r.inspections < min_sample),
                      "负面清单": negative.as_json(r.negative_events, r.vetoed, r.negative_deduction)})
        grids[r.code] = block
    u = Unit.__table__
    eff = negative.unit_effects(engine, months, district).set_index("code")
    if subdistrict:
        eff = eff.iloc[0:0]
    with engine.connect() as conn:
        unit_codes = [c for (c,) in conn.execute(select(u.c.code).order_by(u.c.code))]
        if district:
            mine = district_units(conn, district) | set(by_unit.index) | set(eff.index)
            unit_codes = [c for c in unit_codes if c in mine]
    units = {}
    for c in unit_codes:
        units[c] = _block(by_unit.loc[c].to_dict() if c in by_unit.index else None)
        units[c]["负面清单"] = negative.as_json(eff.at[c, "events"] if c in eff.index else [],
                                            c in eff.index and bool(eff.at[c, "vetoed"]),
                                            eff.at[c, "negative_deduction"] if c in eff.index else 0.0)
    out = {"month": m.strftime("%Y-%m"), "as_of": t.isoformat(timespec="seconds"),
           "city": _block(city.iloc[0].to_dict() if len(city) else None), "grids": grids, "units": units}
    if not district and not subdistrict and len(district_table(engine)) >= 2:
        out["区县"] = {r["code"]: _district_block(r) for r in district_figures(engine, m, t).to_dict("records")}
    return out


def _district_block(r: dict) -> dict:
    """One district's main figures with Chinese keys (rates as fractions, 区县得分 to 2 decimals, null if none)."""
    out = {}
    for col, key in DISTRICT_KEYS.items():
        v = r[col]
        if col == "name":
            out[key] = v
        elif v is None or pd.isna(v):
            out[key] = None
        elif col == "score":
            out[key] = round(float(v), 2)
        elif col.endswith("rate"):
            out[key] = round(float(v), 4)
        else:
            out[key] = int(v)
    return out


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
