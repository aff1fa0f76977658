"""负面清单事件 (negative-list events): the one place the negative list counts.

A negative-list standard (standards.negative, e.g. 重大安全生产事故, 重大负面舆情, 严重违法违纪) that
occurs in a grid is recorded as an event: the grid, the responsible units it touches (by default
the grid's 责任单位 on that day), the date and what happened. It starts 待确认 (reported); the
command centre, a leader or an administrator then confirms it (已确认) or withdraws it (已撤销) —
rules in `gis.people.permissions` (``negative.report`` / ``negative.decide``), every step audited
in the same transaction.

What a confirmed event does, for the month it occurred in (read by `gis.metrics.scores`,
`gis.metrics.units`, `gis.metrics.monthly` and so the wall, the grid page, ``gis figures --json``
and the 督查通报):

* effect 否决 (veto, standards.negative_effect): the grid's 综合得分 is vetoed — shown as
  "一票否决", score 0, ranked last (after every other ranked grid, even on a thin sample), never
  on the 红榜; its units are vetoed the same way in the unit tables and head the 十差单位;
* effect 扣分 (deduct): the standard's ``points`` are deducted from the grid's 综合得分 and are
  listed as its units' 负面清单扣分.

An event counts in the month of ``occurred_on`` once it is confirmed (a confirmation after the
month's end still changes that month); a withdrawn or unconfirmed event counts for nothing, and
no other month is touched.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, or_, select

from gis.geo.districts import district_of_target
from gis import clock
from gis.db.models import Assignment, Grid, NegativeEvent, Standard, StandardVersion, Unit
from gis.geo.areas import current_layer_id
from gis.people.audit import record as audit
from gis.people.permissions import Actor, require_role

REPORTED, CONFIRMED, WITHDRAWN = "待确认", "已确认", "已撤销"
STATUSES = (REPORTED, CONFIRMED, WITHDRAWN)
VETO, DEDUCT = "否决", "扣分"
EFFECTS = (VETO, DEDUCT)
VETO_LABEL = "一票否决"

EVENT_COLUMNS = ["code", "occurred_on", "grid_code", "unit_codes", "standard_code", "standard", "effect", "points",
                 "description", "status", "reported_by", "reported_at", "decided_by", "decided_at",
                 "decision_note", "revision"]
#: Per grid or unit and month: the confirmed events' codes, whether one vetoes, the points deducted.
EFFECT_COLUMNS = ["k", "code", "events", "vetoed", "negative_deduction"]


class NegativeError(ValueError):
    """Bad input for a negative-list event (Chinese message, shown as is); nothing was written."""


def _split(codes) -> list[str]:
    if codes is None:
        return []
    if isinstance(codes, str):
        codes = codes.replace("，", ",").replace("、", ",").split(",")
    return [c.strip() for c in codes if c and str(c).strip()]


def negative_standards(engine: Engine) -> pd.DataFrame:
    """The negative-list standards: code, text, effect (否决 / 扣分 / None when not configured), points."""
    s = Standard.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(s.c.code, s.c.text, s.c.negative_effect, s.c.points)
                            .where(s.c.negative.is_(True)).order_by(s.c.code)).all()
    return pd.DataFrame(rows, columns=["code", "text", "effect", "points"])


def grid_units(conn: Connection, grid_code: str, on: date) -> list[str]:
    """The grid's responsible units (帮包 role 责任单位) on day `on`, by code."""
    a, u = Assignment.__table__, Unit.__table__
    stmt = (select(u.c.code).join(a, a.c.unit_id == u.c.id)
            .where(a.c.target_kind == "grid", a.c.target_code == grid_code, a.c.role == "责任单位",
                   a.c.valid_from <= on, (a.c.valid_to.is_(None)) | (a.c.valid_to >= on))
            .distinct().order_by(u.c.code))
    return list(conn.execute(stmt).scalars())


def _new_code(conn: Connection, occurred_on: date) -> str:
    prefix = f"FM{occurred_on:%Y%m}-"
    n = conn.execute(select(func.count()).where(NegativeEvent.__table__.c.code.like(prefix + "%"))).scalar()
    return f"{prefix}{int(n) + 1:03d}"


def report(engine: Engine, actor: Actor, standard_code: str, grid_code: str, occurred_on: date, description: str,
           unit_codes=None, now: datetime | None = None) -> str:
    """Record a negative-list event (待确认); returns its code (FM202611-001). `unit_codes` (list or
    comma-separated) default to the grid's responsible units on `occurred_on`."""
    require_role(actor, "negative.report")
    now = (now or clock.now()).replace(microsecond=0)
    description = (description or "").strip()
    if not isinstance(occurred_on, date):
        raise NegativeError("请填写事件发生日期（YYYY-MM-DD）。")
    if isinstance(occurred_on, datetime):
        occurred_on = occurred_on.date()
    if occurred_on > now.date():
        raise NegativeError(f"发生日期 {occurred_on} 晚于今天（{now.date()}），不能登记尚未发生的事件。")
    if not description:
        raise NegativeError("请填写事件经过（发生了什么）。")
    s, g, u = Standard.__table__, Grid.__table__, Unit.__table__
    with engine.begin() as conn:
        std = conn.execute(select(s.c.code, s.c.negative, s.c.negative_effect)
                           .where(s.c.code == (standard_code or "").strip())).first()
        if std is None:
            raise NegativeError(f"测评标准“{standard_code}”不存在。")
        if not std.negative:
            raise NegativeError(f"测评标准 {std.code} 不在负面清单内，不能登记为负面清单事件。")
        if std.negative_effect not in EFFECTS:
            raise NegativeError(f"负面清单标准 {std.code} 未设置效果（否决 或 扣分），请先在测评体系中设置。")
        layer = current_layer_id(conn)
        if conn.execute(select(g.c.id).where(g.c.layer_id == layer, g.c.code == (grid_code or "").strip())).first() is None:
            raise NegativeError(f"网格“{grid_code}”不存在（现行网格图层中没有这个编号）。")
        grid_code = grid_code.strip()
        units = _split(unit_codes) if unit_codes is not None else grid_units(conn, grid_code, occurred_on)
        if unit_codes is not None:
            found = set(conn.execute(select(u.c.code).where(u.c.code.in_(units))).scalars())
            missing = [c for c in units if c not in found]
            if missing:
                raise NegativeError(f"责任单位编号不存在：{'、'.join(missing)}。")
        code = _new_code(conn, occurred_on)
        district = district_of_target(conn, "grid", grid_code)
        conn.execute(NegativeEvent.__table__.insert().values(
            code=code, standard_code=std.code, grid_code=grid_code, unit_codes=",".join(units) or None,
            occurred_on=occurred_on, description=description, status=REPORTED, reported_by=actor.username,
            reported_at=now, district_code=district))
        audit(conn, actor, "negative.report", "grid", grid_code,
              {"code": code, "standard": std.code, "effect": std.negative_effect, "occurred_on": occurred_on,
               "units": units, "description": description}, at=now, district=district)
    return code


def _decide(engine: Engine, actor: Actor, code: str, status: str, note: str | None, revision: int | None,
            now: datetime | None) -> None:
    require_role(actor, "negative.decide")
    now = (now or clock.now()).replace(microsecond=0)
    verb = "确认" if status == CONFIRMED else "撤销"
    note = (note or "").strip() or None
    if status == WITHDRAWN and not note:
        raise NegativeError("撤销负面清单事件须填写理由。")
    t = NegativeEvent.__table__
    with engine.begin() as conn:
        row = conn.execute(select(t.c.id, t.c.status, t.c.revision, t.c.grid_code, t.c.district_code)
                           .where(t.c.code == (code or "").strip())).first()
        if row is None:
            raise NegativeError(f"负面清单事件 {code} 不存在。")
        if row.status != REPORTED:
            raise NegativeError(f"负面清单事件 {code} 已{row.status[1:]}（{row.status}），不能再{verb}。")
        if revision is not None and int(revision) != int(row.revision):
            raise NegativeError(f"负面清单事件 {code} 已被他人更新，请刷新后重试。")
        done = conn.execute(t.update().where(t.c.id == row.id, t.c.revision == row.revision).values(
            status=status, decided_by=actor.username, decided_at=now, decision_note=note,
            revision=row.revision + 1)).rowcount
        if done != 1:
            raise NegativeError(f"负面清单事件 {code} 已被他人更新，请刷新后重试。")
        audit(conn, actor, "negative.confirm" if status == CONFIRMED else "negative.withdraw", "grid",
              row.grid_code, {"code": code, "note": note}, at=now, district=row.district_code)


def confirm(engine: Engine, actor: Actor, code: str, note: str | None = None, revision: int | None = None,
            now: datetime | None = None) -> None:
    """确认 a reported event: from now on it counts in its month (see the module docstring)."""
    _decide(engine, actor, code, CONFIRMED, note, revision, now)


def withdraw(engine: Engine, actor: Actor, code: str, note: str, revision: int | None = None,
             now: datetime | None = None) -> None:
    """撤销 a reported event (with a reason): it counts for nothing."""
    _decide(engine, actor, code, WITHDRAWN, note, revision, now)


def events(engine: Engine, month: date | None = None, grid_code: str | None = None,
           status: str | None = None, district: str | None = None) -> pd.DataFrame:
    """Events (EVENT_COLUMNS), newest first; optionally of one month (by occurred_on), grid, status or district."""
    t, s = NegativeEvent.__table__, Standard.__table__
    stmt = (select(t.c.code, t.c.occurred_on, t.c.grid_code, t.c.unit_codes, t.c.standard_code,
                   s.c.text.label("standard"), s.c.negative_effect.label("effect"), s.c.points, t.c.description,
                   t.c.status, t.c.reported_by, t.c.reported_at, t.c.decided_by, t.c.decided_at, t.c.decision_note,
                   t.c.revision)
            .select_from(t.outerjoin(s, s.c.code == t.c.standard_code)))
    if month is not None:
        m0 = date(month.year, month.month, 1)
        m1 = date(m0.year + (m0.month == 12), m0.month % 12 + 1, 1)
        stmt = stmt.where(t.c.occurred_on >= m0, t.c.occurred_on < m1)
    if grid_code:
        stmt = stmt.where(t.c.grid_code == grid_code)
    if status:
        stmt = stmt.where(t.c.status == status)
    if district:
        stmt = stmt.where(t.c.district_code == district)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(t.c.occurred_on.desc(), t.c.code.desc())).all()
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def _confirmed(engine: Engine, months: list[dict], district: str | None = None) -> pd.DataFrame:
    """Confirmed events occurring within `months` (rows of `gis.metrics.periods.month_rows`), on or
    before each month's evaluation day (in `district`, when given); column k = the month they count in."""
    if not months:
        return pd.DataFrame(columns=["k", "code", "grid_code", "unit_codes", "effect", "points"])
    t, s, v = NegativeEvent.__table__, Standard.__table__, StandardVersion.__table__
    # the standard's rule in force on the event's day (规则按日期生效, gis.db.rule_versions), else its row
    in_force = and_(v.c.code == t.c.standard_code, v.c.valid_from <= t.c.occurred_on,
                    or_(v.c.valid_to.is_(None), t.c.occurred_on < v.c.valid_to))
    stmt = (select(t.c.code, t.c.grid_code, t.c.unit_codes, t.c.occurred_on,
                   func.coalesce(v.c.negative_effect, s.c.negative_effect).label("negative_effect"),
                   func.coalesce(v.c.points, s.c.points).label("points"))
            .select_from(t.join(s, s.c.code == t.c.standard_code).outerjoin(v, in_force))
            .where(t.c.status == CONFIRMED, t.c.occurred_on >= months[0]["d0"], t.c.occurred_on < months[-1]["d1"])
            .order_by(t.c.code))
    if district:
        stmt = stmt.where(t.c.district_code == district)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    out = []
    for r in rows:
        for m in months:
            if m["d0"] <= r.occurred_on < m["d1"] and r.occurred_on <= m["dt"]:
                out.append((m["k"], r.code, r.grid_code, r.unit_codes, r.negative_effect, float(r.points or 0.0)))
    return pd.DataFrame(out, columns=["k", "code", "grid_code", "unit_codes", "effect", "points"])


def _effects(df: pd.DataFrame, key: str) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            EFFECT_COLUMNS, ("str", "str", "object", "bool", "float64"))})
    rows = []
    for (k, code), grp in df.groupby(["k", key], sort=True):
        rows.append((k, code, sorted(grp["code"]), bool((grp["effect"] == VETO).any()),
                     float(grp.loc[grp["effect"] == DEDUCT, "points"].sum())))
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def grid_effects(engine: Engine, months: list[dict], district: str | None = None) -> pd.DataFrame:
    """EFFECT_COLUMNS per grid code and month of `months` (only grids with a confirmed event)."""
    return _effects(_confirmed(engine, months, district), "grid_code")


def unit_effects(engine: Engine, months: list[dict], district: str | None = None) -> pd.DataFrame:
    """EFFECT_COLUMNS per unit code and month of `months` (only units named by a confirmed event)."""
    df = _confirmed(engine, months, district)
    df = df.assign(unit=df["unit_codes"].map(_split)).explode("unit").dropna(subset=["unit"])
    return _effects(df, "unit")


def as_json(code_events: list[str] | None, vetoed: bool, deduction: float) -> dict:
    """The "负面清单" block of `gis figures --json` for one grid or unit."""
    return {"事件": list(code_events or []), "否决": bool(vetoed), "扣分": round(float(deduction or 0.0), 2)}
