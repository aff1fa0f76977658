"""曝光台: problems put on public display, safe for a public screen.

A problem goes on the 曝光台 by a decision (who, when, why): by hand (`expose`) or as the 曝光台
step of a card (`gis.accountability.cards.escalate`). `exposed` returns only what a public screen
may show — place, category, description, unit, deadline, state, before/after photos and the
decision — never the reporter, phone numbers or other personal data: the reporter and people
columns are not selected at all, and phone-like digit runs in the free text are masked.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import Card, Exposure, Grid, Problem, ProblemEvent, Unit
from gis.people.permissions import Actor, require_role
from gis.problems import states

# 11-digit mobiles (1xx…), landlines (0635-8211001, 06358211001) and any other run of ≥ 7 digits.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(?:1\d{2}[- ]?\d{4}[- ]?\d{4}|0\d{2,3}[- ]?\d{7,8}|\d{7,})(?!\d)")
EXPOSED_COLUMNS = ["code", "category", "description", "grid", "unit", "lon", "lat", "reported_at", "deadline",
                   "state", "decided_by", "decided_at", "reason", "card", "before_photo", "after_photo"]


def mask_phones(text: str | None) -> str:
    """`text` with every phone-like number replaced by ＊＊＊."""
    return _PHONE.sub("＊＊＊", text or "")


def expose(engine: Engine, actor: Actor, problem_codes: list[str], reason: str, now: datetime | None = None) -> int:
    """Put problems on the 曝光台 by hand (领导); returns how many were added (already exposed ones are kept).
    Each problem must lie in the actor's district (PermissionDenied, nothing written; a city-level 领导: any)."""
    from gis.accountability.cards import CardError, _check_problems, _expose, require_problems

    require_role(actor, "card.expose")
    reason = (reason or "").strip()
    if not reason:
        raise CardError("请填写曝光理由。")
    if not problem_codes:
        raise CardError("请选择要曝光的问题。")
    now = now or datetime.now().replace(microsecond=0)
    with engine.begin() as conn:
        _check_problems(conn, list(problem_codes))
        require_problems(conn, actor, "card.expose", list(problem_codes))
        before = conn.execute(select(Exposure.id)).all()
        _expose(conn, actor.username, list(problem_codes), None, reason, now)
        after = conn.execute(select(Exposure.id)).all()
    return len(after) - len(before)


def _state(df: pd.DataFrame, t: datetime) -> np.ndarray:
    overdue = np.asarray(states.is_overdue(df, t))
    closed = np.asarray(states.is_closed(df, t))
    return np.where(closed, "已整改", np.where(overdue, "超期未改", "整改中"))


def exposed(engine: Engine, since: datetime | None = None, until: datetime | None = None,
            now: datetime | None = None, district: str | None = None) -> pd.DataFrame:
    """The exposed problems (decided in [since, until) if given), newest decision first:
    EXPOSED_COLUMNS. ``state`` is 已整改 / 整改中 / 超期未改 at `now` (gis.problems.states);
    ``before_photo`` is the photo of the report, ``after_photo`` the newest rectification photo
    (paths under GRIDMAP_UPLOAD_DIR, or None). `district` (区县): its problems only."""
    now = now or datetime.now().replace(microsecond=0)
    p, e, u, g, c = Problem.__table__, Exposure.__table__, Unit.__table__, Grid.__table__, Card.__table__
    stmt = (select(p.c.id, p.c.code, p.c.category, p.c.description, g.c.code.label("grid"), u.c.name.label("unit"),
                   p.c.lon, p.c.lat, p.c.reported_at, p.c.deadline, p.c.status, p.c.verified_at, p.c.deferred_at,
                   e.c.decided_by, e.c.decided_at, e.c.reason, c.c.code.label("card"))
            .select_from(e.join(p, p.c.id == e.c.problem_id).outerjoin(u, u.c.id == p.c.unit_id)
                         .outerjoin(g, g.c.id == p.c.grid_id).outerjoin(c, c.c.id == e.c.card_id)))
    if since:
        stmt = stmt.where(e.c.decided_at >= since)
    if until:
        stmt = stmt.where(e.c.decided_at < until)
    if district:  # the exposure's own (its problem's): read by ix_exposures_district_at
        stmt = stmt.where(e.c.district_code == district)
    ev = ProblemEvent.__table__
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(e.c.decided_at.desc(), e.c.id.desc())).mappings().all()
        df = pd.DataFrame([dict(r) for r in rows])
        photos = pd.DataFrame(conn.execute(
            select(ev.c.problem_id, ev.c.action, ev.c.at, ev.c.photo_path)
            .where(ev.c.photo_path.is_not(None), ev.c.problem_id.in_(df["id"].tolist() if len(df) else []))
            .order_by(ev.c.at, ev.c.id)).all(), columns=["problem_id", "action", "at", "photo_path"])
    if df.empty:
        return pd.DataFrame(columns=EXPOSED_COLUMNS)
    after = photos[photos["action"] == "提交整改"].groupby("problem_id")["photo_path"].last()
    before = photos[photos["action"] != "提交整改"].groupby("problem_id")["photo_path"].first()
    df["before_photo"] = df["id"].map(before).astype(object)
    df["after_photo"] = df["id"].map(after).astype(object)
    df["state"] = _state(df, now)
    df["description"] = df["description"].map(mask_phones)
    df["reason"] = df["reason"].map(mask_phones)
    for col in ("before_photo", "after_photo", "card"):
        df[col] = df[col].where(df[col].notna(), None)
    return df[EXPOSED_COLUMNS].reset_index(drop=True)
