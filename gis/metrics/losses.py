"""谁丢分: the points a grid lost in a month, by standard and by responsible unit.

Problems reported that month cost their ``deduction``; failed inspections cost the standard's points
minus the points earned (partial credit included: the same rule as the 综合得分,
`gis.metrics.sql.earned_points_sql`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, and_, func, literal_column, or_, select

from gis.db.models import Assignment, Inspection, InspectionPoint, Problem, Standard, StandardVersion, Unit
from gis.metrics.sql import earned_points_sql
from gis.problems.ledger import grid_row_ids, month_bounds


def lost_points(engine: Engine, grid_code: str, month: date | str) -> dict[str, pd.DataFrame]:
    """Points the grid lost in `month`.

    Two sources: problems reported that month (their ``deduction``) and failed inspections that
    month (the standard's points minus the points earned, partial credit included: the same rule as
    the 综合得分, `gis.metrics.sql.earned_points_sql`). Returns
    ``{"by_standard": [standard_code, item, content, text, problems, problem_points, failed, inspection_points, total],
    "by_unit": [unit, problems, problem_points, failed, inspection_points, total]}``, biggest loss first.
    A problem counts against the unit it was dispatched to (未派遣 when none yet); a failed
    inspection against the 责任单位 of its inspection point (未明确 when none).
    """
    start, end = month_bounds(month)
    p, i, st, u, pt, a = (Problem.__table__, Inspection.__table__, Standard.__table__, Unit.__table__,
                          InspectionPoint.__table__, Assignment.__table__)
    sv = StandardVersion.__table__  # the standard's points on the inspection's day (gis.db.rule_versions)
    in_force = and_(sv.c.code == i.c.standard_code, sv.c.valid_from <= i.c.inspected_on,
                    or_(sv.c.valid_to.is_(None), i.c.inspected_on < sv.c.valid_to))
    points = func.coalesce(sv.c.points, st.c.points, 1.0)
    earned = literal_column(earned_points_sql("inspections", "standards", "standard_versions"))
    with engine.connect() as conn:
        ids = grid_row_ids(conn, grid_code) or [-1]
        probs = pd.DataFrame(conn.execute(
            select(p.c.standard_code, u.c.name, func.count(), func.sum(p.c.deduction))
            .select_from(p.outerjoin(u, p.c.unit_id == u.c.id))
            .where(p.c.grid_id.in_(ids), p.c.reported_at >= start, p.c.reported_at < end)
            .group_by(p.c.standard_code, u.c.name)).all(),
            columns=["standard_code", "unit", "problems", "problem_points"])
        unit_of_point = (select(a.c.target_code, func.min(a.c.unit_id).label("unit_id"))
                         .where(a.c.target_kind == "point", a.c.role == "责任单位", a.c.valid_to.is_(None))
                         .group_by(a.c.target_code).subquery())
        insp = pd.DataFrame(conn.execute(
            select(i.c.standard_code, u.c.name, func.count(),
                   func.sum(points - earned))
            .select_from(i.join(pt, i.c.point_id == pt.c.id).outerjoin(st, st.c.code == i.c.standard_code)
                         .outerjoin(sv, in_force)
                         .outerjoin(unit_of_point, unit_of_point.c.target_code == pt.c.code)
                         .outerjoin(u, u.c.id == unit_of_point.c.unit_id))
            .where(i.c.grid_id.in_(ids), i.c.inspected_on >= start.date(), i.c.inspected_on < end.date(),
                   earned < points)
            .group_by(i.c.standard_code, u.c.name)).all(),
            columns=["standard_code", "unit", "failed", "inspection_points"])
        stds = pd.DataFrame(conn.execute(select(st.c.code, st.c.item, st.c.content, st.c.text)).all(),
                            columns=["standard_code", "item", "content", "text"])
    probs["unit"] = probs["unit"].fillna("未派遣")
    insp["unit"] = insp["unit"].fillna("未明确")
    both = pd.concat([probs, insp], ignore_index=True)
    for col in ("problems", "problem_points", "failed", "inspection_points"):
        both[col] = pd.to_numeric(both.get(col), errors="coerce").fillna(0)
    both["standard_code"] = both["standard_code"].fillna("（无标准）")
    numbers = ["problems", "problem_points", "failed", "inspection_points"]

    def group(key):
        g = both.groupby(key, as_index=False)[numbers].sum()
        g["total"] = g["problem_points"] + g["inspection_points"]
        for col in ("problems", "failed"):
            g[col] = g[col].astype(int)
        return g.sort_values(["total", key], ascending=[False, True], kind="stable").reset_index(drop=True)

    by_standard = group("standard_code").merge(stds, on="standard_code", how="left")
    by_standard = by_standard[["standard_code", "item", "content", "text", *numbers, "total"]]
    return {"by_standard": by_standard, "by_unit": group("unit")[["unit", *numbers, "total"]]}
