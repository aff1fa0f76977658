"""Field work on a phone (移动巡查, issue 15): the rules behind pages/mobile.py.

- `place`: where a point is — grid, compound, village, street (≤ 30 m) and the grid's 责任单位 —
  computed with `gis.problems.writes.locate`, shown before a report is sent.
- `report`: 上报 with a field photo (re-encoded, EXIF stripped, `gis.problems.photos`); a
  grid worker's find is 网格员巡查, an inspector's (核查员) 督查; both are 立案 at once.
- `todo`: 我的待办 — the open problems of my grid (网格长 / 网格员) or those I must verify (核查员),
  soonest deadline first, each with the one next action it allows.
- `due_points`: 今日巡查 — points not inspected for `days` days (never-visited first), with the
  day's off-peak slots (错峰时段: before and after working hours; all day on rest days).
- `record_inspection`: 测评录入 — each applicable standard 达标 / 不达标 / 部分达标 (a photo for 不达标),
  written as inspections of today that count in the grid's score at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from gis.db.models import (
    STATUS_CHECKING, STATUS_FIXING, STATUS_NEW, Assignment, Compound, Grid, Inspection, InspectionPoint, Problem,
    Standard, Street, Unit, UrbanVillage,
)
from gis import clock
from gis.assessment import applies
from gis.db import rule_versions
from gis.people import audit
from gis.people.permissions import OWN_GRID_ROLES, VERIFIER, Actor, district_scope, require
from gis.problems import photos, workflow, worktime
from gis.problems.writes import locate

PASS, PARTIAL, FAIL = "达标", "部分达标", "不达标"
RESULTS = (PASS, PARTIAL, FAIL)
#: Share of a standard's points a result scores (the demo's rule: a partial pass scores half).
RESULT_SHARE = {PASS: 1.0, PARTIAL: 0.5, FAIL: 0.0}
SOURCE_BY_ROLE = {VERIFIER: "督查"}  # everyone else who may report: 网格员巡查


class FieldError(ValueError):
    """Refused field input; the message is shown to users as is (Chinese)."""


def _names(conn, model, ids) -> str | None:
    if ids is None or pd.isna(ids):
        return None
    t = model.__table__
    return conn.execute(select(t.c.name).where(t.c.id == int(ids))).scalar()


def place(engine: Engine, lon: float, lat: float, now: datetime) -> dict | None:
    """The grid (code, name), compound, village, street and 责任单位 at (lon, lat); None outside every grid."""
    g, a, u = Grid.__table__, Assignment.__table__, Unit.__table__
    with engine.connect() as conn:
        ids = locate(conn, [lon], [lat], [now]).iloc[0]
        if pd.isna(ids["grid_id"]):
            return None
        grid = conn.execute(select(g.c.code, g.c.name).where(g.c.id == int(ids["grid_id"]))).first()
        day = now.date()
        unit = conn.execute(select(u.c.name).select_from(a.join(u, u.c.id == a.c.unit_id)).where(
            a.c.target_kind == "grid", a.c.target_code == grid.code, a.c.role == "责任单位", a.c.valid_from <= day,
            or_(a.c.valid_to.is_(None), a.c.valid_to >= day))).scalar()
        return {"grid_code": grid.code, "grid_name": grid.name, "unit": unit,
                "compound": _names(conn, Compound, ids["compound_id"]), "village": _names(conn, UrbanVillage, ids["village_id"]),
                "street": _names(conn, Street, ids["street_id"])}


def report(engine: Engine, actor: Actor, category: str, description: str, lon: float | None, lat: float | None,
           photo: bytes | None = None, photo_name: str | None = None, now: datetime | None = None,
           photo_dir: Path | None = None) -> dict:
    """上报 from the field: a problem at (lon, lat) with an optional photo; 立案 at once."""
    now = now or datetime.now()
    if lon is None or lat is None:
        raise FieldError("请先确定位置：点“我的位置”、用照片自带的定位、在地图上点选，或填写经纬度。")
    stored = photos.prepare(photo, photo_name).data if photo else None  # PhotoError before anything is written
    folder = Path(photo_dir) if photo_dir is not None else photos.upload_dir()
    rel = photos.save(stored, folder, "reports", now) if stored is not None else None
    try:
        return workflow.create_problem(engine, actor, category, description, lon, lat,
                                       source=SOURCE_BY_ROLE.get(actor.role, "网格员巡查"), now=now, photo_path=rel)
    except BaseException:
        if rel:
            (folder / rel).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# 我的待办

TODO_COLUMNS = ["code", "status", "category", "description", "deadline", "reported_at", "revision", "grid_code",
                "acknowledged", "action"]


def todo(engine: Engine, actor: Actor, now: datetime, limit: int = 50) -> pd.DataFrame:
    """The open problems `actor` must act on, soonest deadline first, with the action each allows
    (派遣 / 签收 / 提交整改 for the grid's own people, 核查通过 for a 核查员). Empty for other roles."""
    p, g = Problem.__table__, Grid.__table__
    if actor.role in OWN_GRID_ROLES:
        if not actor.grid_code:
            return pd.DataFrame(columns=TODO_COLUMNS)
        where = and_(g.c.code == actor.grid_code, p.c.status.in_((STATUS_NEW, STATUS_FIXING)))
    elif actor.role == VERIFIER:
        where = p.c.status == STATUS_CHECKING
    else:
        return pd.DataFrame(columns=TODO_COLUMNS)
    if (scope := district_scope(actor)) is not None:  # a district's 核查员: their district's only (issue 17)
        where = and_(where, p.c.district_code == scope)
    stmt = (select(p.c.code, p.c.status, p.c.category, p.c.description, p.c.deadline, p.c.reported_at, p.c.revision,
                   g.c.code.label("grid_code"), p.c.acknowledged_at.is_not(None).label("acknowledged"),
                   p.c.request_kind, p.c.deferred_at, p.c.district_code)
            .select_from(p.join(g, g.c.id == p.c.grid_id)).where(where, p.c.deferred_at.is_(None))
            .order_by(p.c.deadline, p.c.id).limit(limit))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=TODO_COLUMNS)
    order = (workflow.DISPATCH, workflow.ACKNOWLEDGE, workflow.SUBMIT, workflow.VERIFY)

    def first(r):
        acts = workflow.allowed_actions(actor, r.status, bool(r.acknowledged), r.grid_code, r.request_kind,
                                        r.deferred_at is not None and not pd.isna(r.deferred_at), r.district_code)
        return next((a for a in order if a in acts), None)

    df["action"] = [first(r) for r in df.itertuples()]
    return df[TODO_COLUMNS]


# ---------------------------------------------------------------------------------------------
# 今日巡查 and 测评录入

@dataclass(frozen=True)
class Slots:
    rest_day: bool
    text: str


def off_peak(day: date) -> Slots:
    """The day's off-peak inspection slots (错峰时段) from GRIDMAP_WORK_HOURS and the holiday calendar."""
    periods = worktime.work_hours()
    if not worktime.is_workday(day):
        return Slots(True, "今天是休息日：全天均为错峰时段。")
    first, last = periods[0][0], periods[-1][1]
    early = (datetime.combine(day, first) - timedelta(hours=1, minutes=30)).time()
    late = (datetime.combine(day, last) + timedelta(hours=1, minutes=30)).time()
    return Slots(False, f"错峰时段：上班前 {early:%H:%M}–{first:%H:%M}，下班后 {last:%H:%M}–{late:%H:%M}。")


def _scope(actor: Actor) -> str | None:
    """The grid code whose points `actor` visits ("" = every point), or None for no points."""
    if actor.role in OWN_GRID_ROLES:
        return actor.grid_code
    return "" if actor.role == VERIFIER else None


def due_points(engine: Engine, actor: Actor, today: date, days: int = 7, limit: int = 50) -> pd.DataFrame:
    """Points of my grid (all points for a 核查员) not inspected in the last `days` days: code, name,
    kind, grid_code, last (date or None), idle_days; never visited first, then the longest idle."""
    if days < 1:
        raise FieldError("巡查间隔至少 1 天。")
    scope = _scope(actor)
    cols = ["code", "name", "kind", "grid_code", "last", "idle_days"]
    if scope is None:
        return pd.DataFrame(columns=cols)
    pt, g, i = InspectionPoint.__table__, Grid.__table__, Inspection.__table__
    last = select(i.c.point_id, func.max(i.c.inspected_on).label("last")).group_by(i.c.point_id).subquery()
    stmt = (select(pt.c.code, pt.c.name, pt.c.kind, g.c.code.label("grid_code"), last.c.last)
            .select_from(pt.outerjoin(g, g.c.id == pt.c.grid_id).outerjoin(last, last.c.point_id == pt.c.id))
            .where(or_(last.c.last.is_(None), last.c.last <= today - timedelta(days=days))))
    if scope:
        stmt = stmt.where(g.c.code == scope)
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=cols[:5])
    df["last"] = pd.to_datetime(df["last"]).dt.date
    df["idle_days"] = [None if pd.isna(d) else (today - d).days for d in df["last"]]
    df = df.assign(_never=df["last"].isna(), _idle=df["idle_days"].fillna(0))
    return df.sort_values(["_never", "_idle", "code"], ascending=[False, False, True]).head(limit)[cols].reset_index(drop=True)


def point_standards(engine: Engine, point_code: str) -> pd.DataFrame:
    """The standards in force today that apply at a point (gis.assessment.applies: its kind in their
    适用点位类型, else its kind's 测评项目), plus the point-checkable 负面清单 rows (those without a 否决 / 扣分
    effect: such a row is an event recorded by the command centre, gis.metrics.negative, not a check at a point);
    columns code, item, content, text, points."""
    pt, s = InspectionPoint.__table__, Standard.__table__
    with engine.connect() as conn:
        kind = conn.execute(select(pt.c.kind).where(pt.c.code == point_code)).scalar()
        if kind is None:
            raise FieldError(f"点位 {point_code} 不存在。")
        rows = pd.DataFrame(conn.execute(select(s.c.code, s.c.item, s.c.content, s.c.text, s.c.points, s.c.point_kinds,
                                                s.c.negative, s.c.negative_effect).order_by(s.c.code)).all(),
                            columns=["code", "item", "content", "text", "points", "point_kinds", "negative",
                                     "negative_effect"])
        live = rule_versions.active_standard_codes(conn, clock.now().date())
    event_rows = rows["negative"].fillna(False).astype(bool) & rows["negative_effect"].notna()
    rows = rows[applies(rows, kind) & rows["code"].isin(live) & ~event_rows]
    return rows[["code", "item", "content", "text", "points"]].reset_index(drop=True)


def record_inspection(engine: Engine, actor: Actor, point_code: str, results: dict[str, str],
                      evidence_photos: dict[str, bytes] | None = None, today: date | None = None,
                      photo_dir: Path | None = None) -> int:
    """测评录入: one inspection per standard of `results` ({standard code: 达标/部分达标/不达标}) at the
    point, dated `today`. Every 不达标 needs its photo in `evidence_photos`. Returns the rows written."""
    require(actor, "inspection.record")
    today = today or date.today()
    evidence_photos = evidence_photos or {}
    applicable = point_standards(engine, point_code).set_index("code")
    if not results:
        raise FieldError("请至少评定一项标准。")
    for code, result in results.items():
        if code not in applicable.index:
            raise FieldError(f"标准 {code} 不适用于点位 {point_code}。")
        if result not in RESULTS:
            raise FieldError(f"标准 {code} 的结果“{result}”无效，应为：{'、'.join(RESULTS)}。")
        if result == FAIL and not evidence_photos.get(code):
            raise FieldError(f"标准 {code}（{applicable.loc[code, 'text']}）不达标，请拍照留证。")
    prepared = {c: photos.prepare(b, f"{c} 的照片").data for c, b in evidence_photos.items() if b and results.get(c) == FAIL}
    folder = Path(photo_dir) if photo_dir is not None else photos.upload_dir()
    pt, i = InspectionPoint.__table__, Inspection.__table__
    saved = []
    try:
        with engine.begin() as conn:
            point = conn.execute(select(pt.c.id, pt.c.grid_id, pt.c.district_code).where(pt.c.code == point_code)).first()
            for code, result in results.items():
                rel = photos.save(prepared[code], folder, "inspections", datetime.combine(today, time(12))) \
                    if code in prepared else None
                if rel:
                    saved.append(rel)
                conn.execute(i.insert().values(
                    point_id=point.id, standard_code=code, inspected_on=today, passed=result == PASS,
                    score=float(applicable.loc[code, "points"]) * RESULT_SHARE[result], inspector=actor.username,
                    grid_id=point.grid_id, photo_path=rel, district_code=point.district_code))
            audit.record(conn, actor, "inspection.record", "point", point_code,
                         {"日期": str(today), **{c: r for c, r in results.items()}}, district=point.district_code)
    except BaseException:
        for rel in saved:
            (folder / rel).unlink(missing_ok=True)
        raise
    return len(results)
