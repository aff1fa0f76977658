"""Open311 GeoReport v2 intake (接口受理): the rules behind `gis.api`, in Open311's words.

- service (服务) = a problem category (问题类型); its ``service_code`` is the category name.
- service request (诉求) = a problem; ``service_request_id`` = the problem code. A request posted
  by a client (12345 热线, a mini-program) is a public report: it enters as 待立案 and waits for
  the command centre (`gis.problems.workflow.create_problem` with source 市民热线).
- status: ``open`` while 待立案 / 待派遣 / 整改中 / 待核查, ``closed`` when 已结案 or 不予立案;
  ``status_notes`` says which, in Chinese. ``agency_responsible`` = the 责任单位,
  ``expected_datetime`` = the deadline, ``jurisdiction_id`` = a district (区县, issue 17): its code (371521) or
  name (阳谷县). A request posted with one must lie in that district; without one, in any district of the
  deployment (the problem takes the district of its grid). GET /requests with one lists that district's.
  A city-level API key serves every district; a district's key only its district (a report elsewhere: 403).
- 回访 (the 12345 follow-up call): `follow_up` stores 满意 / 基本满意 / 不满意 on a closed request;
  满意率 is a figure (`gis.metrics.figures`).

Every error is an `IntakeError` carrying the HTTP status Open311 expects (400 / 403 / 404) and a
Chinese description; nothing is written when one is raised. Times are China time (+08:00).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from gis.db.models import (
    STATUS_CLOSED, STATUS_REJECTED, Problem, ProblemEvent, Unit,
)
from gis.geo import china
from gis.geo.districts import district_shapes, find_district
from gis.people import audit
from gis.people.permissions import Actor, PermissionDenied, require
from gis import clock
from gis.problems import photos, workflow

CHINA_TZ = timezone(timedelta(hours=8))
CLOSED = (STATUS_CLOSED, STATUS_REJECTED)
COORD_SYSTEMS = ("wgs84", "gcj02")
SATISFACTION = ("满意", "基本满意", "不满意")
DEFAULT_DAYS = 90   # Open311: without ids or dates, the last 90 days
MAX_RESULTS = 1000  # Open311: a server may cap the number of requests returned
MAX_IDS = 100
DESCRIPTION_MAX = 2000
ADDRESS_MAX = 200
MEDIA_URL_MAX = 500


class IntakeError(ValueError):
    """A refused request: `status` is the HTTP status (400, 403, 404), the message is Chinese."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def jurisdiction(engine: Engine, codes: bool = True) -> str:
    """The jurisdiction_id values this server answers for: its districts (区县), "东昌府区（371502）、…"
    (without `codes`: "东昌府区、…")."""
    rows = district_shapes(engine)[["code", "name"]].itertuples(index=False)
    return "、".join(f"{n}（{c}）" if codes else n for c, n in rows)


def check_jurisdiction(engine: Engine, value: str | None) -> str | None:
    """The code of the district a jurisdiction_id names (code or name); None when none is given; 404 otherwise."""
    if value is None or not value.strip():
        return None
    code = find_district(engine, value)
    if code is None:
        raise IntakeError(404, f"jurisdiction_id“{value}”不存在：本系统只受理{jurisdiction(engine)}的诉求"
                               f"（jurisdiction_id 为区县代码或名称）。")
    return code


def _check_place(engine: Engine, district: str | None, lon: float, lat: float) -> None:
    """400 unless (lon, lat) lies in district `district` (its boundary), or, without one, in any district."""
    shapes = district_shapes(engine)
    where = shapes if district is None else shapes[shapes["code"] == district]
    if shapely.contains_xy(where.geometry.to_numpy(), lon, lat).any():
        return
    at = f"坐标 long={lon:.6f}, lat={lat:.6f}（WGS84）"
    if district is None:
        names = "、".join(shapes["name"])
        raise IntakeError(400, f"{at}不在{names}内，不予受理。")
    raise IntakeError(400, f"{at}不在{where['name'].iloc[0]}（jurisdiction_id={district}）内，不予受理；"
                           f"不给出 jurisdiction_id 时按坐标所在区县受理。")


def iso(value) -> str | None:
    """A stored (China-time, naive) datetime as ISO 8601 with +08:00."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime().replace(tzinfo=CHINA_TZ).isoformat(timespec="seconds")


def parse_time(text: str, what: str) -> datetime:
    """An Open311 date parameter (ISO 8601; without an offset: China time) as a naive China time."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise IntakeError(400, f"{what}“{text}”不是 ISO 8601 时间（如 2026-11-30T08:00:00+08:00）。") from None
    return t.astimezone(CHINA_TZ).replace(tzinfo=None) if t.tzinfo else t


# ---------------------------------------------------------------------------------------------
# Services

def services(engine: Engine) -> list[dict]:
    """Every category as an Open311 service, with its time limit in the description."""
    cats = workflow.category_table(engine)
    out = []
    for cat in cats.to_dict("records"):
        amount, unit = workflow.category_limit(cat)
        out.append({"service_code": cat["name"], "service_name": cat["name"],
                    "description": f"整改时限 {amount:g} {unit}", "metadata": False, "type": "realtime",
                    "keywords": cat["name"], "group": "城市管理"})
    return out


def service(engine: Engine, code: str) -> dict:
    """The service definition of one category (no extra attributes), or 404."""
    if not any(s["service_code"] == code for s in services(engine)):
        raise IntakeError(404, f"服务“{code}”不存在。")
    return {"service_code": code, "attributes": []}


# ---------------------------------------------------------------------------------------------
# Posting a request

def _number(value, what: str) -> float:
    if value is None or str(value).strip() == "":
        raise IntakeError(400, f"缺少 {what}。")
    try:
        x = float(str(value).strip())
    except ValueError:
        raise IntakeError(400, f"{what}“{value}”不是数字。") from None
    if not math.isfinite(x):
        raise IntakeError(400, f"{what}“{value}”不是有效数字。")
    return x


def _text(value, what: str, limit: int, required: bool) -> str | None:
    value = (str(value) if value is not None else "").strip()
    if required and not value:
        raise IntakeError(400, f"缺少 {what}。")
    if len(value) > limit:
        raise IntakeError(400, f"{what}过长（{len(value)} 字），最多 {limit} 字。")
    return value or None


def to_wgs84(lon: float, lat: float, coords: str | None) -> tuple[float, float]:
    """The point in WGS84: as given, or converted from declared GCJ-02 (AMap-based apps)."""
    system = (coords or "wgs84").strip().lower()
    if system not in COORD_SYSTEMS:
        raise IntakeError(400, f"coords“{coords}”无效，应为 wgs84 或 gcj02。")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise IntakeError(400, f"坐标 long={lon:g}, lat={lat:g} 超出经纬度范围。")
    if system == "gcj02":
        x, y = china.gcj02_to_wgs84(lon, lat)
        lon, lat = float(np.asarray(x)), float(np.asarray(y))
    return lon, lat


def submit(engine: Engine, actor: Actor, form: dict, photo: bytes | None = None, photo_name: str | None = None,
           now: datetime | None = None, photo_dir: Path | None = None) -> dict:
    """POST /requests: a new problem from the client `actor` (role 外部系统), 待立案.

    `form` holds Open311's fields: service_code, lat, long, description, address_string,
    media_url, jurisdiction_id (a district: the point must lie in it), and the extension ``coords``
    (wgs84 | gcj02). Returns ``{service_request_id, service_notice}``.
    """
    now = now or clock.now()
    district = check_jurisdiction(engine, form.get("jurisdiction_id"))
    code = _text(form.get("service_code"), "service_code（问题类型）", 20, True)
    if not any(s["service_code"] == code for s in services(engine)):
        raise IntakeError(400, f"service_code“{code}”不是已有的问题类型（见 GET /services.json）。")
    lat = _number(form.get("lat"), "lat（纬度）")
    lon = _number(form.get("long"), "long（经度）")
    lon, lat = to_wgs84(lon, lat, form.get("coords"))
    _check_place(engine, district, lon, lat)
    description = _text(form.get("description"), "description（问题描述）", DESCRIPTION_MAX, True)
    address = _text(form.get("address_string"), "address_string（地址）", ADDRESS_MAX, False)
    media_url = _text(form.get("media_url"), "media_url（照片地址）", MEDIA_URL_MAX, False)
    if media_url and not media_url.lower().startswith(("http://", "https://")):
        raise IntakeError(400, "media_url 须以 http:// 或 https:// 开头。")
    stored = None
    if photo:
        try:
            stored = photos.prepare(photo, photo_name).data
        except photos.PhotoError as exc:
            raise IntakeError(400, str(exc)) from None
    rel = None
    folder = Path(photo_dir) if photo_dir is not None else photos.upload_dir()
    try:
        if stored is not None:
            rel = photos.save(stored, folder, "reports", now)
        made = workflow.create_problem(engine, actor, code, description, lon, lat, source="市民热线",
                                       reporter=actor.username, now=now, address=address, media_url=media_url,
                                       photo_path=rel)
    except (workflow.WorkflowError, PermissionDenied) as exc:
        if rel:
            (folder / rel).unlink(missing_ok=True)
        status = 403 if isinstance(exc, PermissionDenied) else 400
        raise IntakeError(status, str(exc)) from None
    return {"service_request_id": made["code"],
            "service_notice": f"已受理，待指挥中心立案；所在网格 {made['grid_code']}。"}


# ---------------------------------------------------------------------------------------------
# Reading requests

def _status_notes(status: str, note: str | None, satisfaction: str | None) -> str:
    text = status if not note or status != STATUS_REJECTED else f"{status}：{note}"
    return f"{text}；回访：{satisfaction}" if satisfaction else text


def requests(engine: Engine, ids: list[str] | None = None, service_code: str | None = None,
             start: datetime | None = None, end: datetime | None = None, status: str | None = None,
             now: datetime | None = None, media_base: str = "", district: str | None = None) -> list[dict]:
    """GET /requests: Open311 request objects, newest first. Without ids or dates: the last
    DEFAULT_DAYS days; at most MAX_RESULTS. `status`: "open", "closed" or "open,closed"; `district`
    (a code, from `check_jurisdiction`): that district's requests only."""
    now = now or clock.now()
    p, u, e = Problem.__table__, Unit.__table__, ProblemEvent.__table__
    photo = (select(e.c.problem_id, func.max(e.c.photo_path).label("photo"))
             .where(e.c.action == workflow.CREATE, e.c.photo_path.is_not(None)).group_by(e.c.problem_id).subquery())
    stmt = (select(p.c.code, p.c.status, p.c.category, p.c.description, p.c.reported_at, p.c.registered_at,
                   p.c.dispatched_at, p.c.acknowledged_at, p.c.rectified_at, p.c.verified_at, p.c.followed_up_at,
                   p.c.deadline, p.c.address, p.c.lon, p.c.lat, p.c.media_url, p.c.satisfaction,
                   u.c.name.label("unit"), photo.c.photo)
            .select_from(p.outerjoin(u, u.c.id == p.c.unit_id).outerjoin(photo, photo.c.problem_id == p.c.id)))
    if ids:
        if len(ids) > MAX_IDS:
            raise IntakeError(400, f"service_request_id 最多 {MAX_IDS} 个。")
        stmt = stmt.where(p.c.code.in_(ids))
    else:
        if start is None and end is None:
            start = now - timedelta(days=DEFAULT_DAYS)
        if start is not None and end is not None and start > end:
            raise IntakeError(400, "start_date 晚于 end_date。")
        if start is not None:
            stmt = stmt.where(p.c.reported_at >= start)
        if end is not None:
            stmt = stmt.where(p.c.reported_at <= end)
    if service_code:
        stmt = stmt.where(p.c.category == service_code)
    if district:
        stmt = stmt.where(p.c.district_code == district)
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise IntakeError(400, f"status“{status}”无效，应为 open、closed 或 open,closed。")
        if wanted == {"open"}:
            stmt = stmt.where(p.c.status.not_in(CLOSED))
        elif wanted == {"closed"}:
            stmt = stmt.where(p.c.status.in_(CLOSED))
    stmt = stmt.order_by(p.c.reported_at.desc(), p.c.id.desc()).limit(MAX_RESULTS)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        rejected = [r["code"] for r in rows if r["status"] == STATUS_REJECTED]
        notes = {}
        if rejected:
            q = (select(p.c.code, e.c.note).select_from(e.join(p, p.c.id == e.c.problem_id))
                 .where(p.c.code.in_(rejected), e.c.action == workflow.REJECT))
            notes = dict(conn.execute(q).all())
    return [_request(r, notes.get(r["code"]), media_base) for r in rows]


def _request(r: dict, note: str | None, media_base: str) -> dict:
    times = [r[c] for c in ("reported_at", "registered_at", "dispatched_at", "acknowledged_at", "rectified_at",
                            "verified_at", "followed_up_at") if r[c] is not None]
    media = r["media_url"] or (f"{media_base}/media/{r['photo']}" if r["photo"] else None)
    return {
        "service_request_id": r["code"], "status": "closed" if r["status"] in CLOSED else "open",
        "status_notes": _status_notes(r["status"], note, r["satisfaction"]),
        "service_name": r["category"], "service_code": r["category"], "description": r["description"],
        "agency_responsible": r["unit"], "service_notice": None,
        "requested_datetime": iso(r["reported_at"]), "updated_datetime": iso(max(times)),
        "expected_datetime": iso(r["deadline"]), "address": r["address"], "address_id": None, "zipcode": None,
        "lat": round(float(r["lat"]), 7), "long": round(float(r["lon"]), 7), "media_url": media,
    }


def request(engine: Engine, code: str, media_base: str = "", district: str | None = None) -> dict:
    """GET /requests/{id}: one request (of `district`, when given), or 404."""
    found = requests(engine, ids=[code], media_base=media_base, district=district)
    if not found:
        raise IntakeError(404, f"诉求 {code} 不存在" + ("。" if district is None else f"（或不属于辖区 {district}）。"))
    return found[0]


# ---------------------------------------------------------------------------------------------
# 回访: the 12345 follow-up call

def follow_up(engine: Engine, actor: Actor, code: str, satisfaction: str, note: str | None = None,
              now: datetime | None = None) -> dict:
    """Store the 回访 of a closed (已结案) request: 满意 / 基本满意 / 不满意, once; audited."""
    require(actor, "problem.followup")
    now = now or clock.now()
    satisfaction = (satisfaction or "").strip()
    if satisfaction not in SATISFACTION:
        raise IntakeError(400, f"satisfaction“{satisfaction}”无效，应为：{'、'.join(SATISFACTION)}。")
    note = _text(note, "回访说明", DESCRIPTION_MAX, False)
    p = Problem.__table__
    with engine.begin() as conn:
        row = conn.execute(select(p.c.id, p.c.status, p.c.satisfaction, p.c.district_code)
                           .where(p.c.code == code)).first()
        if row is None:
            raise IntakeError(404, f"诉求 {code} 不存在。")
        try:  # a district's key: its district's requests only (issue 17)
            require(actor, "problem.followup", district_code=row.district_code)
        except PermissionDenied as exc:
            raise IntakeError(403, str(exc)) from None
        if row.status != STATUS_CLOSED:
            raise IntakeError(400, f"诉求 {code} 当前为“{row.status}”，结案后才能回访。")
        if row.satisfaction is not None:
            raise IntakeError(400, f"诉求 {code} 已回访（{row.satisfaction}），不能重复回访。")
        conn.execute(p.update().where(p.c.id == row.id, p.c.satisfaction.is_(None))
                     .values(satisfaction=satisfaction, followed_up_at=now))
        conn.execute(ProblemEvent.__table__.insert().values(
            problem_id=row.id, action="回访", from_status=row.status, to_status=row.status, actor=actor.username,
            at=now, note=f"{satisfaction}{'：' + note if note else ''}", district_code=row.district_code))
        audit.record(conn, actor, "problem.followup", "problem", code,
                     {"回访": satisfaction, **({"说明": note} if note else {})}, at=now, district=row.district_code)
    return {"service_request_id": code, "satisfaction": satisfaction}

