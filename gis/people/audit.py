"""审计日志: one row per change — who, what, when, in which district — written in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, select

from gis.db.models import AuditEntry
from gis.people.names import name_of
from gis.people.permissions import ACTION_LABELS, Actor


def record(conn: Connection, actor: Actor | str, action: str, target_kind: str | None = None,
           target_code: str | None = None, detail: dict | str | None = None, at: datetime | None = None,
           district: str | None = None) -> None:
    """Append an audit entry inside the caller's transaction (so it commits or rolls back with the change).

    `action` names the change, e.g. ``problem.dispatch``, ``grid.publish``, ``import.problems``,
    ``user.add``, ``auth.login``, ``auth.login_failed``.

    `district` (区县, issue 17): the target's district, passed by the caller when the target is one district's
    data (a problem, card, point, grid, user …); without it the entry takes the acting user's district
    (none: city-level — 市文明办, the system, a name that is not an `Actor`). A district's administrator
    reads their district's entries (`entries`).
    """
    name = actor.username if isinstance(actor, Actor) else str(actor)
    if district is None and isinstance(actor, Actor):
        district = actor.district_code
    text = json.dumps(detail, ensure_ascii=False, default=str) if isinstance(detail, dict) else detail
    conn.execute(AuditEntry.__table__.insert().values(
        at=at or datetime.now(), actor=name, action=action, target_kind=target_kind,
        target_code=target_code, detail=text, district_code=district))


# What an entry's action code means, in Chinese (the one mapping: the audit log page and its exports
# show these). Actions checked by gis.people.permissions keep their labels there (ACTION_LABELS).
ACTION_NAMES = {
    **ACTION_LABELS,
    "auth.login": "登录", "auth.logout": "退出登录", "auth.expired": "超时退出", "auth.login_failed": "登录失败",
    "auth.locked": "账户锁定",
    "user.add": "新增用户", "user.disable": "停用用户", "user.enable": "启用用户", "user.reset_password": "重置密码",
    "kiosk.create": "生成大屏令牌", "kiosk.revoke": "撤销大屏令牌",
    "apikey.create": "生成接口密钥", "apikey.revoke": "撤销接口密钥", "apikey.refused": "拒绝接口请求",
    "grid.draft": "保存网格草稿", "grid.restore": "恢复网格版本", "exposure.add": "曝光",
}  # and "import.<kind>": 导入 + the data set's name (`action_name`)
TARGET_NAMES = {"problem": "问题", "user": "用户", "grid_layer": "网格版本", "card": "三色牌", "kiosk": "大屏令牌",
                "apikey": "接口密钥", "point": "点位"}
HEADERS = {"at": "时间", "actor": "操作人", "action": "操作", "target_kind": "对象类型", "target_code": "对象",
           "detail": "详情"}


def action_name(code: str | None, datasets: dict[str, str] | None = None) -> str:
    """The Chinese name of an action code (``auth.login`` → 登录, ``import.problems`` → 导入问题 with
    `datasets` = gis.io.fields.DATASET_LABELS, which gis.people may not import); an unknown code is
    shown as 其他操作（code）."""
    if not code:
        return ""
    if code.startswith("import."):
        return f"导入{(datasets or {}).get(code[7:], '数据')}"
    return ACTION_NAMES.get(code) or f"其他操作（{code}）"


def table(log: pd.DataFrame, datasets: dict[str, str] | None = None) -> pd.DataFrame:
    """`entries` as people read them: Chinese headers, action and object kinds in Chinese, the actor's
    name (`entries` gives it), blanks for missing values. `datasets`: see `action_name`."""
    kinds = {**TARGET_NAMES, **(datasets or {})}
    shown = log.assign(actor=log["name"], action=log["action"].map(lambda a: action_name(a, datasets)),
                       target_kind=log["target_kind"].map(lambda k: kinds.get(k, k) if k else ""),
                       target_code=log["target_code"].fillna(""), detail=log["detail"].fillna(""))
    return shown.drop(columns=["name"]).rename(columns=HEADERS)


def entries(engine: Engine, actor: str | None = None, action_prefix: str | None = None,
            since: datetime | None = None, until: datetime | None = None, limit: int = 5000,
            district: str | None = None) -> pd.DataFrame:
    """Audit entries, newest first, optionally filtered by the stored `actor` (a username) and `district`
    (区县: that district's entries only, read by ix_audit_log_district_at; None: every entry).

    Columns: at, actor (as stored: a username), action, target_kind, target_code, detail, name (the
    person's name, gis.people.names).
    """
    t = AuditEntry.__table__
    stmt = select(t.c.at, t.c.actor, t.c.action, t.c.target_kind, t.c.target_code, t.c.detail, name_of(t.c.actor))
    if district:
        stmt = stmt.where(t.c.district_code == district)
    if actor:
        stmt = stmt.where(t.c.actor == actor)
    if action_prefix:
        stmt = stmt.where(t.c.action.startswith(action_prefix, autoescape=True))
    if since:
        stmt = stmt.where(t.c.at >= since)
    if until:
        stmt = stmt.where(t.c.at < until)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(t.c.at.desc(), t.c.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["at", "actor", "action", "target_kind", "target_code", "detail", "name"])


def actors(engine: Engine, district: str | None = None) -> dict[str, str]:
    """Every stored actor of the audit log (of `district`'s entries, when given) → the person's name (for
    the admin page's filter). The names are looked up once per distinct actor, not per entry."""
    t = AuditEntry.__table__
    found = select(t.c.actor).distinct()
    if district:
        found = found.where(t.c.district_code == district)
    found = found.subquery()
    with engine.connect() as conn:
        rows = conn.execute(select(found.c.actor, name_of(found.c.actor)).order_by(found.c.actor)).all()
    return {stored: shown for stored, shown in rows}
