"""审计日志: one row per change — who, what, when — written in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, select

from gis.db.models import AuditEntry
from gis.people.permissions import Actor


def record(conn: Connection, actor: Actor | str, action: str, target_kind: str | None = None,
           target_code: str | None = None, detail: dict | str | None = None, at: datetime | None = None) -> None:
    """Append an audit entry inside the caller's transaction (so it commits or rolls back with the change).

    `action` names the change, e.g. ``problem.dispatch``, ``grid.publish``, ``import.problems``,
    ``user.add``, ``auth.login``, ``auth.login_failed``.
    """
    name = actor.username if isinstance(actor, Actor) else str(actor)
    text = json.dumps(detail, ensure_ascii=False, default=str) if isinstance(detail, dict) else detail
    conn.execute(AuditEntry.__table__.insert().values(
        at=at or datetime.now(), actor=name, action=action, target_kind=target_kind,
        target_code=target_code, detail=text))


def entries(engine: Engine, actor: str | None = None, action_prefix: str | None = None,
            since: datetime | None = None, until: datetime | None = None, limit: int = 5000) -> pd.DataFrame:
    """Audit entries, newest first, optionally filtered."""
    t = AuditEntry.__table__
    stmt = select(t.c.at, t.c.actor, t.c.action, t.c.target_kind, t.c.target_code, t.c.detail)
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
    return pd.DataFrame(rows, columns=["at", "actor", "action", "target_kind", "target_code", "detail"])


def actors(engine: Engine) -> list[str]:
    """Every name that appears in the audit log (for the admin page's filter)."""
    t = AuditEntry.__table__
    with engine.connect() as conn:
        return list(conn.execute(select(t.c.actor).distinct().order_by(t.c.actor)).scalars())
