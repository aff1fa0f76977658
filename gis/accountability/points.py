"""点长责任制: 点位达标率 per inspection point and month, rolled up to 点长, units and grids, and the
monthly 点位达标月评排名.

点位达标率 = passed points ÷ inspected points of the month's inspections (实地测评) of a point, each
weighted by the points of its 测评标准 — the same weighting as the 测评通过率 of the 综合得分
(`gis.metrics.scores.inspection_sums`, reused here, not redefined). A roll-up sums the points'
passed and inspected points (so a busy point weighs more than a point checked once). A month is
evaluated at its end (or `as_of` if earlier), like every figure.

The 点长 of a point is its current assignment with role 点长 (imported with the ``assignments``
kind, like every other role); its unit is the 点长's own unit. A point's 责任单位 are its
assignments with role 责任单位.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Date, Engine

from gis.metrics.periods import month_end_as_of, month_rows, month_start
from gis.metrics.scores import inspection_sums
from gis.metrics.sql import Sql, standard_join_sql

POINT_LEADER = "点长"
POINT_COLUMNS = ["code", "name", "kind", "grid", "leader", "leader_unit", "units", "inspections", "ok_points",
                 "all_points", "rate"]
LEVELS = {"point": "点位", "leader": "点长", "unit": "责任单位", "grid": "网格"}


def point_rates(engine: Engine, month: date, as_of: datetime | None = None, district: str | None = None) -> pd.DataFrame:
    """点位达标率 of every point inspected in `month`: POINT_COLUMNS (rate 0–1), best first.

    ``grid`` is the code of the grid the inspection was attributed to (the grid of its time),
    ``leader`` / ``leader_unit`` the current 点长 and their unit, ``units`` the 责任单位 (、-joined).
    `district` (区县): its points only.
    """
    m = month_start(month)
    t = month_end_as_of(m, as_of)
    row = month_rows(m, m, t)[0]
    q = Sql(engine)
    sql = f"""
WITH ins AS (
  SELECT i.point_id, MIN(g.code) AS grid, {inspection_sums()}
  FROM inspections i
  {standard_join_sql()}
  LEFT JOIN grids g ON g.id = i.grid_id
  WHERE i.inspected_on >= {q.bind('d0', row['d0'], Date)} AND i.inspected_on < {q.bind('d1', row['d1'], Date)}
    AND i.inspected_on <= {q.bind('dt', row['dt'], Date)}{f" AND i.district_code = {q.bind('district', district)}" if district else ""}
  GROUP BY i.point_id)
SELECT pt.code, pt.name, pt.kind, ins.grid, ins.n AS inspections, ins.ok_points, ins.all_points
FROM ins JOIN points pt ON pt.id = ins.point_id"""
    df = q.run(engine, sql)
    people = _point_people(engine)
    df = df.merge(people, on="code", how="left")
    df["inspections"] = df["inspections"].astype("int64")
    for c in ("ok_points", "all_points"):
        df[c] = df[c].astype("float64")
    df["rate"] = df["ok_points"] / df["all_points"].where(df["all_points"] > 0)
    df = df.sort_values(["rate", "all_points", "code"], ascending=[False, False, True])
    return df.reindex(columns=POINT_COLUMNS).reset_index(drop=True)


def _point_people(engine: Engine) -> pd.DataFrame:
    """code, leader, leader_unit, units of every point with a current 点长 or 责任单位."""
    sql = """SELECT a.target_code AS code, a.role, pe.name AS person, COALESCE(pu.name, u.name) AS unit
FROM assignments a
LEFT JOIN persons pe ON pe.id = a.person_id
LEFT JOIN units pu ON pu.id = pe.unit_id
LEFT JOIN units u ON u.id = a.unit_id
WHERE a.target_kind = 'point' AND a.valid_to IS NULL AND a.role IN ('点长', '责任单位')
ORDER BY a.target_code, a.id"""
    rows = Sql(engine).run(engine, sql)
    out = {}
    for r in rows.itertuples():
        rec = out.setdefault(r.code, {"code": r.code, "leader": None, "leader_unit": None, "units": []})
        if r.role == POINT_LEADER and rec["leader"] is None:
            rec["leader"], rec["leader_unit"] = r.person, r.unit
        elif r.role == "责任单位" and r.unit and r.unit not in rec["units"]:
            rec["units"].append(r.unit)
    frame = pd.DataFrame(list(out.values()), columns=["code", "leader", "leader_unit", "units"])
    frame["units"] = frame["units"].map(lambda us: "、".join(us) if isinstance(us, list) else "")
    return frame


def rollup(points: pd.DataFrame, level: str) -> pd.DataFrame:
    """点位达标率 of `points` (from `point_rates`) summed per 点长 (``leader``), 责任单位 (``unit``:
    each unit of a point gets its points) or grid (``grid``): name, points, inspections, ok_points,
    all_points, rate — best first."""
    if level not in ("leader", "unit", "grid"):
        raise ValueError(f"未知的汇总口径：{level}（应为 leader、unit 或 grid）")
    df = points.copy()
    if level == "unit":
        df = df.assign(unit=df["units"].fillna("").str.split("、")).explode("unit")
        df = df[df["unit"].fillna("") != ""]
        key = "unit"
    elif level == "leader":
        df = df[df["leader"].notna()].assign(name=lambda d: d["leader"] + "（" + d["leader_unit"].fillna("") + "）")
        key = "name"
    else:
        df = df[df["grid"].notna()]
        key = "grid"
    out = (df.groupby(key).agg(points=("code", "nunique"), inspections=("inspections", "sum"),
                               ok_points=("ok_points", "sum"), all_points=("all_points", "sum"))
           .reset_index().rename(columns={key: "name"}))
    out["rate"] = out["ok_points"] / out["all_points"].where(out["all_points"] > 0)
    return out.sort_values(["rate", "all_points", "name"], ascending=[False, False, True]).reset_index(drop=True)


def monthly_ranking(engine: Engine, month: date, as_of: datetime | None = None, n: int = 10,
                    district: str | None = None) -> dict:
    """点位达标月评排名 of `month`: the `n` best and worst points, and 点长 and units best → worst.

    ``{"points": all points best first, "best": …, "worst": … (worst first), "leaders": …, "units": …}``.
    """
    pts = point_rates(engine, month, as_of, district)
    ranked = pts[pts["rate"].notna()]
    worst = ranked.sort_values(["rate", "all_points", "code"], ascending=[True, False, True])
    return {"points": pts, "best": ranked.head(n).reset_index(drop=True),
            "worst": worst.head(n).reset_index(drop=True),
            "leaders": rollup(pts, "leader"), "units": rollup(pts, "unit"), "grids": rollup(pts, "grid")}
