"""Named secrets kept only as their SHA-256 (wall-screen kiosk tokens, Open311 API keys): creating one
(shown once) and revoking it by name, each audited in the same transaction.

`gis.people.kiosk` and `gis.people.apikeys` differ only in their table, hash column, audit kind and
Chinese wording; the mechanism lives here once.

Districts (区县, issue 17): a secret belongs to a district (its wall, its reports) or to none (city-level: every
district). `owner` is the one rule for a new one's district; a district's 管理员 lists and revokes only their
district's (`listed`, `revoke`), as they manage only their district's users.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, Table, select

from gis.db.models import District
from gis.people.audit import record
from gis.people.auth import AuthError
from gis.people.permissions import Actor, PermissionDenied, district_scope, manages_user, refusal, require

COLUMNS = ["name", "district_code", "created_at", "created_by", "revoked_at"]


def digest(secret: str) -> str:
    """The SHA-256 (hex) a secret is stored and looked up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def owner(engine: Engine, actor: Actor, district: str | None) -> str | None:
    """The district a new secret created by `actor` belongs to (None: city-level, every district).

    A district's 管理员: their own district, with no choice — asking for another (or for none, the city's) is
    refused as `refusal` words it. A city-level 管理员 (市文明办) or the system: `district` when given (one of the
    deployment's districts), else none."""
    require(actor, "user.manage")
    district = (district or "").strip() or None
    scope = district_scope(actor)
    if scope is not None:
        if district is not None and district != scope:
            raise PermissionDenied(refusal(actor, "user.manage", district_code=district))
        return scope
    if district is not None:
        with engine.connect() as conn:
            if conn.execute(select(District.__table__.c.id).where(District.__table__.c.code == district)).first() is None:
                raise AuthError(f"区县 {district} 不存在。")
    return district


def listed(engine: Engine, table: Table, district: str | None) -> pd.DataFrame:
    """The stored secrets of `table` (never the secrets): COLUMNS; of `district` only when given (a district's
    administrator passes their `district_scope`)."""
    t = table
    stmt = select(*(t.c[c] for c in COLUMNS)).order_by(t.c.created_at, t.c.id)
    if district is not None:
        stmt = stmt.where(t.c.district_code == district)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=COLUMNS)


def create(engine: Engine, actor: Actor, table: Table, hash_column: str, kind: str, name: str, nbytes: int,
           max_name: int, bad_name: str, exists: str, now: datetime | None = None, district: str | None = None) -> str:
    """A new random secret named `name` in `table`; returns it (only its hash is stored).

    `bad_name` / `exists` are the Chinese refusals (``{name}`` is filled in); the audit entry is
    ``<kind>.create``. The actor needs ``user.manage``, checked before anything else; the secret's district
    is `owner`'s.
    """
    district = owner(engine, actor, district)
    name = (name or "").strip()
    if not name or len(name) > max_name:
        raise AuthError(bad_name)
    secret = secrets.token_urlsafe(nbytes)
    now = now or datetime.now()
    with engine.begin() as conn:
        if conn.execute(select(table.c.id).where(table.c.name == name)).first() is not None:
            raise AuthError(exists.format(name=name))
        conn.execute(table.insert().values(name=name, created_at=now, created_by=actor.username,
                                           district_code=district, **{hash_column: digest(secret)}))
        record(conn, actor, f"{kind}.create", kind, name, {"区县": district} if district else None, at=now,
               district=district)
    return secret


def revoke(engine: Engine, actor: Actor, table: Table, kind: str, name: str, missing: str,
           now: datetime | None = None) -> None:
    """Revoke the secret named `name` (audited as ``<kind>.revoke``); `missing` is the Chinese refusal.

    A district's 管理员 revokes only their district's: a city-level secret or another district's is refused
    (PermissionDenied, nothing written)."""
    require(actor, "user.manage")
    now = now or datetime.now()
    with engine.begin() as conn:
        row = conn.execute(select(table.c.id, table.c.district_code)
                           .where(table.c.name == name, table.c.revoked_at.is_(None))).first()
        if row is None:
            raise AuthError(missing.format(name=name))
        if not manages_user(actor, row.district_code):  # the same scope as a district's users
            if row.district_code is None:
                raise PermissionDenied(f"无权操作：“{name}”是市级（市文明办）的，只能由市级管理员撤销；"
                                       f"您的账户只管理区县 {actor.district_code} 的数据。")
            raise PermissionDenied(refusal(actor, "user.manage", district_code=row.district_code))
        conn.execute(table.update().where(table.c.id == row.id).values(revoked_at=now))
        record(conn, actor, f"{kind}.revoke", kind, name, None, at=now, district=row.district_code)
