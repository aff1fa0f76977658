"""网格详情: one grid's data — its problem ledger (问题台账), areas, responsibility card, lost points.

Plain values in, DataFrames / GeoDataFrames out; no Streamlit here (pages reach these through
`pages.cache`). A grid is named by its code (``DC-07``); problems and inspections are attributed
to grid rows of the layer in force when they were written, so a grid's records are those of
every grid row carrying its code (`grid_row_ids`). Overdue and the 反馈不过夜 clock are computed
at `now`, never read from the database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, DateTime, Engine, bindparam, case, func, select, text

from gis import clock
from gis.geo.areas import current_layer_id, grid_layer
from gis.geo.assign import points_in_polygons
from gis.geo.kinds import AREA_LABELS, COMPOUND, POINT, STREET, VILLAGE
from gis.db.models import (
    OPEN_STATUSES, SRID, Assignment, Compound, Grid, InspectionPoint, Person, Problem, ProblemEvent, Street, Unit,
    UrbanVillage,
)
from gis.db.store import read_frame
from gis.problems import states
from gis.people import permissions
from gis.people.names import name_of
from gis.problems.workflow import TRANSITIONS, ack_state, allowed_actions, legal_actions

ROLE_ORDER = ("帮包市级领导", "帮包县级领导", "网格长", "网格员", "点长", "责任单位")
AREA_MODELS = {COMPOUND: Compound, STREET: Street, VILLAGE: UrbanVillage, POINT: InspectionPoint}  # area kind → table

LEDGER_COLUMNS = [
    "code", "category", "status", "source", "description", "reported_at", "deadline", "unit_code", "unit",
    "compound_code", "compound", "street_code", "street", "village", "acknowledged_at", "rectified_at",
    "verified_at", "rework_count", "deduction", "standard_code", "reporter", "revision", "lon", "lat",
]


# ---------------------------------------------------------------------------------------------
# The grid itself

def grid_row_ids(conn: Connection, grid_code: str) -> list[int]:
    """Ids of every grid row (all layer versions) with this code."""
    g = Grid.__table__
    return [r[0] for r in conn.execute(select(g.c.id).where(g.c.code == grid_code)).all()]


def grid_info(engine: Engine, grid_code: str) -> gpd.GeoDataFrame:
    """The grid of the current layer with this code (one row, or empty): id, code, name, subdistrict, area_m2."""
    g = Grid.__table__
    with engine.connect() as conn:
        layer_id = current_layer_id(conn)
        return read_frame(conn, g, (g.c.layer_id == layer_id) & (g.c.code == grid_code),
                          ["id", "code", "name", "subdistrict", "area_m2"])


# ---------------------------------------------------------------------------------------------
# 问题台账

def _as_list(value) -> list | None:
    if value is None or (isinstance(value, (list, tuple, set)) and len(value) == 0):
        return None
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


LEDGER_LIMIT = 2000  # rows the page shows (newest first); counts and downloads cover every row


def overdue_clause(now: datetime, negate: bool = False):
    """`states.overdue_sql` on the problems table at `now` (or its negation), as a SQLAlchemy condition."""
    sql = states.overdue_sql("problems", ":overdue_t")
    return text(f"NOT {sql}" if negate else sql).bindparams(bindparam("overdue_t", now, type_=DateTime))


def _conditions(conn: Connection, grid_code: str, status=None, category=None, source=None,
                overdue: bool | None = None, date_from: date | None = None, date_to: date | None = None,
                compound: str | None = None, street: str | None = None, now: datetime | None = None) -> list:
    """WHERE conditions on `problems` alone (no join needed) for the ledger filters."""
    p, c, s = Problem.__table__, Compound.__table__, Street.__table__
    ids = grid_row_ids(conn, grid_code) or [-1]
    statuses = _as_list(status)
    if overdue is True or (statuses and set(statuses) <= set(OPEN_STATUSES)):
        # Only open problems: they are few (a few thousand in a city of a million), so let the
        # database walk the (status, deadline) index instead of all of the grid's rows. ``+ 0``
        # keeps both planners (SQLite has no statistics) off the grid index for this query. Within the
        # grid's district (issue 17): its open problems only, by ix_problems_district_status.
        g = Grid.__table__
        district = select(g.c.district_code).where(g.c.code == grid_code).order_by(g.c.layer_id.desc()).limit(1)
        where = [(p.c.grid_id + 0).in_(ids), p.c.district_code == district.scalar_subquery()]
    else:
        where = [p.c.grid_id.in_(ids)]
    for column, value in ((p.c.status, status), (p.c.category, category), (p.c.source, source)):
        values = _as_list(value)
        if values:
            where.append(column.in_(values))
    if overdue is True:
        where.append(overdue_clause(now))
    elif overdue is False:
        where.append(overdue_clause(now, negate=True))
    if date_from is not None:
        where.append(p.c.reported_at >= datetime.combine(date_from, datetime.min.time()))
    if date_to is not None:
        where.append(p.c.reported_at < datetime.combine(date_to + timedelta(days=1), datetime.min.time()))
    if compound:
        where.append(p.c.compound_id == select(c.c.id).where(c.c.code == compound).scalar_subquery())
    if street:
        where.append(p.c.street_id == select(s.c.id).where(s.c.code == street).scalar_subquery())
    return where


def ledger(engine: Engine, grid_code: str, status=None, category=None, source=None, overdue: bool | None = None,
           date_from: date | None = None, date_to: date | None = None, compound: str | None = None,
           street: str | None = None, now: datetime | None = None, limit: int | None = None) -> pd.DataFrame:
    """The grid's problems, newest first (at most `limit`), with names of their unit and areas,
    plus computed ``overdue`` (bool) and ``ack`` (the 反馈不过夜 state).

    Filters: `status`, `category`, `source` (a value or a list), `overdue` (True/False),
    `date_from`/`date_to` (report date, inclusive), `compound` / `street` (area code).
    """
    now = now or clock.now()
    p, u, c, s, v = (Problem.__table__, Unit.__table__, Compound.__table__, Street.__table__,
                     UrbanVillage.__table__)
    cols = [p.c.code, p.c.category, p.c.status, p.c.source, p.c.description, p.c.reported_at, p.c.deadline,
            u.c.code.label("unit_code"), u.c.name.label("unit"), c.c.code.label("compound_code"),
            c.c.name.label("compound"), s.c.code.label("street_code"), s.c.name.label("street"),
            v.c.name.label("village"), p.c.acknowledged_at, p.c.rectified_at, p.c.verified_at, p.c.rework_count,
            p.c.deduction, p.c.standard_code, p.c.reporter, p.c.revision, p.c.lon, p.c.lat]
    joined = (p.outerjoin(u, p.c.unit_id == u.c.id).outerjoin(c, p.c.compound_id == c.c.id)
              .outerjoin(s, p.c.street_id == s.c.id).outerjoin(v, p.c.village_id == v.c.id))
    with engine.connect() as conn:
        where = _conditions(conn, grid_code, status, category, source, overdue, date_from, date_to, compound,
                            street, now)
        stmt = select(*cols, p.c.deferred_at, p.c.dispatched_at).select_from(joined).where(*where).order_by(p.c.reported_at.desc(), p.c.id.desc())
        if limit:
            stmt = stmt.limit(limit)
        rows = conn.execute(stmt).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=[*LEDGER_COLUMNS, "deferred_at", "dispatched_at"])
    for col in ("reported_at", "deadline", "acknowledged_at", "rectified_at", "verified_at", "deferred_at",
                "dispatched_at"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[us]")
    df["overdue"] = states.is_overdue(df, now) if len(df) else pd.Series(dtype=bool)
    # 反馈不过夜 runs from the dispatch (派遣) when known, else from the report
    start = df["dispatched_at"].fillna(df["reported_at"])
    df["ack"] = ack_state(start, df["acknowledged_at"], now) if len(df) else pd.Series(dtype=object)
    df = df.drop(columns=["deferred_at", "dispatched_at"])
    return df


def ledger_counts(engine: Engine, grid_code: str, now: datetime | None = None, **filters) -> dict[str, int]:
    """Counted in SQL over every matching problem (filters as for `ledger`): total, open, overdue."""
    now = now or clock.now()
    wanted = _as_list(filters.pop("status", None))
    open_wanted = [s_ for s_ in (wanted or OPEN_STATUSES) if s_ in OPEN_STATUSES]
    only_open = bool(wanted) and set(wanted) <= set(OPEN_STATUSES)
    with engine.connect() as conn:
        n_open = n_overdue = 0
        if open_wanted:  # counted over the open problems only (see `_conditions`)
            n_open, n_overdue = conn.execute(select(
                func.count(), func.sum(case((overdue_clause(now), 1), else_=0)),
            ).where(*_conditions(conn, grid_code, status=open_wanted, now=now, **filters))).one()
        # only open statuses wanted: the matching problems are the open ones just counted
        total = n_open if only_open else conn.execute(select(func.count()).where(
            *_conditions(conn, grid_code, status=wanted, now=now, **filters))).scalar()
    return {"total": int(total or 0), "open": int(n_open or 0), "overdue": int(n_overdue or 0)}


def problem_detail(engine: Engine, code: str, now: datetime | None = None) -> dict | None:
    """One problem with names, its grid code, computed overdue / ack state, and its history."""
    now = now or clock.now()
    p, u, c, s, v, g = (Problem.__table__, Unit.__table__, Compound.__table__, Street.__table__,
                        UrbanVillage.__table__, Grid.__table__)
    stmt = (select(p, name_of(p.c.reporter).label("reporter_name"), u.c.code.label("unit_code"), u.c.name.label("unit"), u.c.phone.label("unit_phone"),
                   c.c.name.label("compound"), s.c.name.label("street"), v.c.name.label("village"),
                   g.c.code.label("grid_code"), g.c.name.label("grid_name"))
            .select_from(p.outerjoin(u, p.c.unit_id == u.c.id).outerjoin(c, p.c.compound_id == c.c.id)
                         .outerjoin(s, p.c.street_id == s.c.id).outerjoin(v, p.c.village_id == v.c.id)
                         .outerjoin(g, p.c.grid_id == g.c.id))
            .where(p.c.code == code))
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
        if row is None:
            return None
        detail = {k: v for k, v in row.items() if k != "geom"}
        detail["reporter"] = detail.pop("reporter_name")  # the person's name (gis.people.names)
        detail["history"] = _history(conn, detail["id"])
    detail["overdue"] = bool(states.is_overdue(detail, now))
    detail["ack"] = ack_state(detail["dispatched_at"] or detail["reported_at"], detail["acknowledged_at"], now)
    return detail


def _history(conn: Connection, problem_id: int) -> pd.DataFrame:
    e, u = ProblemEvent.__table__, Unit.__table__
    rows = conn.execute(select(e.c.at, e.c.action, e.c.from_status, e.c.to_status, name_of(e.c.actor).label("actor"),
                               u.c.name.label("unit"), e.c.note, e.c.photo_path)
                        .select_from(e.outerjoin(u, e.c.unit_id == u.c.id))
                        .where(e.c.problem_id == problem_id).order_by(e.c.at, e.c.id)).all()
    return pd.DataFrame(rows, columns=["at", "action", "from_status", "to_status", "actor", "unit", "note", "photo_path"])


def problem_history(engine: Engine, code: str) -> pd.DataFrame:
    """Every step of a problem: at, action, from_status, to_status, actor, unit, note, photo_path."""
    p = Problem.__table__
    with engine.connect() as conn:
        pid = conn.execute(select(p.c.id).where(p.c.code == code)).scalar()
        return _history(conn, pid if pid is not None else -1)


def units(engine: Engine) -> pd.DataFrame:
    """Responsible units to dispatch to: code, name, kind, phone."""
    t = Unit.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.code, t.c.name, t.c.kind, t.c.phone).order_by(t.c.kind, t.c.code)).all()
    return pd.DataFrame(rows, columns=["code", "name", "kind", "phone"])


# ---------------------------------------------------------------------------------------------
# The grid's areas (spatial: in the grid polygon)

def grid_areas(engine: Engine, grid_code: str) -> dict[str, gpd.GeoDataFrame]:
    """Compounds, streets, villages and inspection points in the grid (current layer polygon).

    Polygons count when they overlap the grid (not merely touch it), streets when they meet it
    (a street along a grid edge serves both sides), points when they lie in it or on its edge.
    """
    g = Grid.__table__
    with engine.connect() as conn:
        layer_id = current_layer_id(conn)
        grid = read_frame(conn, g, (g.c.layer_id == layer_id) & (g.c.code == grid_code), ["id"])
        if grid.empty:
            return {kind: read_frame(conn, model.__table__, model.__table__.c.id < 0) for kind, model in AREA_MODELS.items()}
        # Only areas whose bounding box meets the grid's are read (and parsed); shapely decides exactly.
        box = func.ST_GeomFromText(shapely.box(*grid.total_bounds).wkt, SRID)
        frames = {kind: read_frame(conn, model.__table__, func.ST_Intersects(model.__table__.c.geom, box))
                  for kind, model in AREA_MODELS.items()}
        shape, grid_id = grid.geometry.iloc[0], int(grid["id"].iloc[0])
        pts = frames["point"].geometry.values
        on_edge = np.asarray(pts.intersects(shape) & ~pts.within(shape))
        owner = None
        if on_edge.any():  # the boundary rule: a point on a shared edge belongs to the lowest grid id
            owner = points_in_polygons(pts.x[on_edge], pts.y[on_edge], grid_layer(conn, layer_id))
    out = {}
    for kind, df in frames.items():
        if kind == "point":
            hit = np.asarray(pts.within(shape))
            if owner is not None:
                hit[on_edge] = owner == grid_id
        else:
            geoms = df.geometry.values
            hit = geoms.intersects(shape)
            if kind in ("compound", "village"):
                hit &= ~geoms.touches(shape)
        out[kind] = df[np.asarray(hit)].reset_index(drop=True)
    return out


# ---------------------------------------------------------------------------------------------
# 责任公示: who answers for the grid and its areas

ASSIGNMENT_COLUMNS = ["target_kind", "target_code", "role", "person_code", "person", "title", "unit_code", "unit",
                      "person_unit", "person_phone", "unit_phone", "contact"]


def _assignments(conn: Connection, targets: list[tuple[str, str]]) -> list[dict]:
    """The assignments in force of `targets` ((kind, code) pairs), in the order they were made: ASSIGNMENT_COLUMNS.
    (A card has tens of rows: plain dicts, not frames, whose every operation costs a millisecond.)"""
    a, p, u = Assignment.__table__, Person.__table__, Unit.__table__
    pu = u.alias("person_unit")
    codes = sorted({code for _, code in targets})
    stmt = (select(a.c.target_kind, a.c.target_code, a.c.role, p.c.code.label("person_code"), p.c.name.label("person"),
                   p.c.title, u.c.code.label("unit_code"), u.c.name.label("unit"), pu.c.name.label("person_unit"),
                   p.c.phone.label("person_phone"), u.c.phone.label("unit_phone"), u.c.contact)
            .select_from(a.outerjoin(p, a.c.person_id == p.c.id).outerjoin(u, a.c.unit_id == u.c.id)
                         .outerjoin(pu, p.c.unit_id == pu.c.id))
            .where(a.c.valid_to.is_(None), a.c.target_code.in_(codes or ["-"]))
            .order_by(a.c.id))
    wanted = set(targets)
    rows = (dict(zip(ASSIGNMENT_COLUMNS, r)) for r in conn.execute(stmt).all())
    return [r for r in rows if (r["target_kind"], r["target_code"]) in wanted]


def _either(a, b):
    return a if a is not None else b


def _who(r: dict) -> dict:
    """An assignment row → who: role, key, name, title, unit, phone — the person, or the unit for 责任单位 (and
    for a row naming no person)."""
    if r["role"] == "责任单位" or r["person"] is None:
        return {"role": r["role"], "key": "U:" + (r["unit_code"] or ""), "name": r["unit"],
                "title": f"联系人 {r['contact']}" if r["contact"] else "", "unit": "", "phone": r["unit_phone"]}
    return {"role": r["role"], "key": "P:" + (r["person_code"] or ""), "name": r["person"], "title": r["title"],
            "unit": _either(r["person_unit"], r["unit"]), "phone": _either(r["person_phone"], r["unit_phone"])}


def _role_order(role: str) -> int:
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)


CARD_COLUMNS = ["role", "name", "title", "unit", "phone", "grid", "covers", "key"]


def responsibility(engine: Engine, grid_code: str, areas: dict[str, gpd.GeoDataFrame] | None = None) -> pd.DataFrame:
    """The grid's responsibility card (责任公示牌): one row per (role, person or unit).

    Columns: role, name, title, unit, phone, grid (True when assigned to the whole grid),
    covers (the grid's compounds / streets / villages / points this person or unit answers for,
    e.g. ``小区：阳光小区；街巷：双井街``), key (``P:<person code>`` or ``U:<unit code>``). Roles in the order
    帮包市级领导, 帮包县级领导, 网格长, 网格员, 点长, 责任单位; within a role, the whole grid's first, then as assigned.
    Of one person's or unit's rows, the first name, title, unit and phone given count.
    """
    areas = grid_areas(engine, grid_code) if areas is None else areas
    names = {(kind, code): name for kind, df in areas.items() for code, name in zip(df["code"], df["name"])}
    with engine.connect() as conn:
        rows = _assignments(conn, [("grid", grid_code)] + list(names))
    cards: dict[tuple[str, str], dict] = {}
    covers: dict[tuple[str, str], dict[str, dict]] = {}
    for r in rows:
        who = _who(r)
        at = (who["role"], who["key"])
        card = cards.setdefault(at, {**dict.fromkeys(CARD_COLUMNS), "role": who["role"], "key": who["key"],
                                     "grid": False})
        for col in ("name", "title", "unit", "phone"):
            card[col] = _either(card[col], who[col])
        card["grid"] |= r["target_kind"] == "grid"
        area = names.get((r["target_kind"], r["target_code"]))
        if area is not None:
            covers.setdefault(at, {}).setdefault(AREA_LABELS.get(r["target_kind"]), {})[area] = None
    for at, card in cards.items():
        card["covers"] = "；".join(f"{kind}：{'、'.join(found)}" for kind, found in covers.get(at, {}).items())
    ordered = sorted(cards.values(), key=lambda c: (_role_order(c["role"]), not c["grid"]))
    return pd.DataFrame(ordered, columns=CARD_COLUMNS)


def area_responsibles(engine: Engine, kind: str, code: str) -> pd.DataFrame:
    """Who answers for one compound / street / village / point: role, name, title, unit, phone."""
    with engine.connect() as conn:
        rows = [_who(r) for r in _assignments(conn, [(kind, code)])]
    rows.sort(key=lambda w: _role_order(w["role"]))
    return pd.DataFrame(rows, columns=["role", "name", "title", "unit", "phone"])


# ---------------------------------------------------------------------------------------------
# 谁丢分: points lost this month, by standard and by responsible unit

def month_bounds(month: date | str) -> tuple[datetime, datetime]:
    """[first day, first day of next month) of `month` (a date in it, or 'YYYY-MM')."""
    if isinstance(month, str):
        month = date.fromisoformat(month + "-01") if len(month) == 7 else date.fromisoformat(month)
    start = datetime(month.year, month.month, 1)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, end


# ---------------------------------------------------------------------------------------------
# For people: Chinese headers and short texts of the 网格详情 page (shaped here, rendered by the page)

LEDGER_HEADERS = {"code": "编号", "status": "状态", "overdue": "超期", "ack": "反馈不过夜", "category": "类型",
                  "description": "描述", "source": "来源", "reported_at": "上报时间", "deadline": "整改时限",
                  "unit": "责任单位", "compound": "小区", "street": "街巷", "village": "城中村",
                  "rework_count": "返工", "deduction": "扣分"}
PEOPLE_HEADERS = {"role": "角色", "name": "责任人/单位", "title": "职务", "unit": "单位", "phone": "电话", "covers": "负责"}
LOST_HEADERS = {"standard_code": "标准", "item": "测评项目", "content": "测评内容", "text": "标准内容", "unit": "责任单位",
                "problems": "问题数", "problem_points": "问题扣分", "failed": "测评不合格", "inspection_points": "测评失分",
                "total": "合计失分"}
HISTORY_HEADERS = {"at": "时间", "action": "操作", "from_status": "原状态", "to_status": "新状态", "actor": "操作人",
                   "unit": "责任单位", "note": "说明"}
OVERDUE_CHOICES = {"全部": None, "仅超期": True, "未超期": False}  # the ledger filter's choices → `overdue`


def ledger_table(df: pd.DataFrame) -> pd.DataFrame:
    """The ledger's shown columns with Chinese headers; a problem not yet dispatched, or outside any
    compound, street or village, shows a blank there (never "None")."""
    shown = df[list(LEDGER_HEADERS)]
    text = ["unit", "compound", "street", "village", "ack", "category", "source", "description"]
    return shown.assign(**{c: shown[c].astype(object).where(shown[c].notna(), "") for c in text}).rename(
        columns=LEDGER_HEADERS)


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """A problem's steps with Chinese headers (photos are shown apart); a step with no status, unit or
    note before it shows a blank there, never "None"."""
    shown = history.drop(columns="photo_path")
    text = ["from_status", "to_status", "actor", "unit", "note"]
    return shown.assign(**{c: shown[c].astype(object).where(shown[c].notna(), "") for c in text}).rename(
        columns=HISTORY_HEADERS)


def grid_summary(info, areas: dict[str, gpd.GeoDataFrame]) -> str:
    """'名称 · 街道 · 面积 … km² · 小区 n · 街巷 n · 城中村 n · 点位 n' of one grid."""
    counts = " · ".join(f"{AREA_LABELS[k]} {len(areas[k])}" for k in (COMPOUND, STREET, VILLAGE, POINT))
    return f"{info['name']} · {info['subdistrict']} · 面积 {info['area_m2'] / 1e6:.2f} km² · {counts}"


def grid_unit_codes(card: pd.DataFrame) -> list[str]:
    """Codes of the units (责任单位) on a grid's responsibility card, in card order."""
    return [k[2:] for k, r in zip(card["key"], card["role"]) if r == "责任单位" and k.startswith("U:")]


def trend_caption(trend: pd.DataFrame) -> str:
    """'近 12 个月综合得分；排名：1月 3、2月 —、…' of `gis.metrics.scores.score_trend`."""
    months = pd.to_datetime(trend["month"]).dt.month
    return "近 12 个月综合得分；排名：" + "、".join(f"{m}月 {'—' if pd.isna(r) else int(r)}"
                                            for m, r in zip(months, trend["rank"]))


def detail_fields(detail: dict) -> list[tuple[str, str]]:
    """A problem's card as (label, plain text) rows; the status row comes first (pages badge it)."""
    place = " · ".join(str(x) for x in (detail["grid_code"], detail["compound"], detail["street"], detail["village"])
                       if x)
    phone = f" ☎ {detail['unit_phone']}" if detail["unit_phone"] else ""
    return [
        ("状态", str(detail["status"])), ("类型", detail["category"]), ("来源", detail["source"]),
        ("上报人", detail["reporter"]), ("描述", detail["description"]),
        ("位置", f"{place}（{detail['lon']:.5f}, {detail['lat']:.5f}）"),
        ("上报时间", f"{detail['reported_at']:%Y-%m-%d %H:%M}"), ("整改时限", f"{detail['deadline']:%Y-%m-%d %H:%M}"),
        ("责任单位", (detail["unit"] or "未派遣") + phone), ("反馈不过夜", detail["ack"]),
        ("返工次数", str(detail["rework_count"])),
    ]


def next_steps(actor, detail: dict, grid_code: str) -> tuple[list[str], str | None]:
    """The actions `actor` may take on a problem now, and a note when there are none (Chinese)."""
    acked, kind, deferred = detail["acknowledged_at"] is not None, detail["request_kind"], detail["deferred_at"] is not None
    actions = allowed_actions(actor, detail["status"], acked, grid_code, kind, deferred, detail.get("district_code"))
    if actor is None:
        return [], "登录后可处理问题。"
    if actions:
        return actions, None
    legal = legal_actions(detail["status"], acked, kind, deferred)
    if not legal:
        return [], "该问题已结案。"
    # the reason from the rule itself: the grid for a 网格长 / 网格员 of another grid, else the role
    own = [a for a in legal if permissions.allowed(actor, TRANSITIONS[a].permission, permissions.own_grid(actor))]
    if own:
        return [], permissions.refusal(actor, TRANSITIONS[own[0]].permission, grid_code)
    return [], f"当前状态可进行：{'、'.join(legal)}；您的角色（{actor.role}）无权执行。"


def pending_request(detail: dict) -> str:
    """The request awaiting approval (延期 with the deadline asked for, or 缓办), in Chinese."""
    asked = detail["request_deadline"]
    return f"待审批：{detail['request_kind']}" + (f"，延期至 {asked:%Y-%m-%d %H:%M}" if asked is not None else "")


def score_tiles(scores: pd.DataFrame, grid_code: str, totals: dict[str, int],
                score_help: str | None = None) -> list[tuple[str, str, str | None]]:
    """The grid page's tiles as (label, value, help): this month's score, rank, card colour and problems
    (from `gis.metrics.scores.monthly_scores`, when the grid is scored), then open and overdue problems.
    `score_help`: the score's explanation (gis.metrics.definitions.SCORE_SUMMARY; gis.problems may not import it)."""
    tiles = []
    mine = scores[scores["code"] == grid_code]
    if len(mine):
        row = mine.iloc[0]
        rank = f"{int(row['rank'])} / {int(scores['ranked'].sum())}" if row["ranked"] else "未排名"
        score = "—" if pd.isna(row["score"]) else f"{row['score']:.1f}"
        help_text = score_help
        events = "、".join(row.get("negative_events") or [])
        if row.get("vetoed", False):  # 负面清单 (gis.metrics.negative)
            score, help_text = "一票否决", f"本月负面清单事件 {events} 一票否决，排名末位"
        elif row.get("negative_deduction", 0.0):
            help_text = f"含负面清单扣分 {row['negative_deduction']:g} 分（{events}）"
        tiles += [("本月综合得分", score, help_text),
                  ("全市排名", rank, None if row["ranked"] else "本月测评样本不足，不参加排名"),
                  ("得分等级", "样本不足" if row["color"] == "灰" else row["color"], None), ("本月问题", f"{int(row['problems']):,}", None)]
    return tiles + [("未结案", f"{totals['open']:,}", None), ("已超期", f"{totals['overdue']:,}", None)]
