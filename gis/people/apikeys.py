"""API keys (接口密钥) of the Open311 intake (`gis.api`): one per client system (12345 热线, a
WeChat mini-program …).

A key is random, shown once (`create`, from ``python -m gis apikey create NAME`` or 系统管理),
stored only as its SHA-256 and revocable by name. `client` turns a presented key into the
acting identity: an `Actor` named after the key with role 外部系统 (`API_CLIENT`), which may
report problems (they wait for 立案, `gis.problems.intake`) and record the 12345 回访 — nothing
else. Creating and revoking are audited; so is every request the client makes through it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import ApiKey
from gis.people.audit import record
from gis.people.auth import AuthError
from gis.people.permissions import API_CLIENT, Actor, require

MAX_KEY_LENGTH = 256
MAX_NAME_LENGTH = 40  # "接口:" + name is the actor: fits problems.reporter (50)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create(engine: Engine, actor: Actor, name: str, now: datetime | None = None) -> str:
    """A new key for client `name`; returns it (shown once: only its hash is kept)."""
    require(actor, "user.manage")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise AuthError(f"接口客户端名称须为 1–{MAX_NAME_LENGTH} 个字符。")
    key = secrets.token_urlsafe(32)
    now = now or datetime.now()
    t = ApiKey.__table__
    with engine.begin() as conn:
        if conn.execute(select(t.c.id).where(t.c.name == name)).first() is not None:
            raise AuthError(f"接口客户端“{name}”已存在（撤销后可换用新名称）。")
        conn.execute(t.insert().values(name=name, key_hash=_digest(key), created_at=now, created_by=actor.username))
        record(conn, actor, "apikey.create", "apikey", name, None, at=now)
    return key


def revoke(engine: Engine, actor: Actor, name: str, now: datetime | None = None) -> None:
    """Revoke client `name`'s key: its next request gets 403."""
    require(actor, "user.manage")
    now = now or datetime.now()
    t = ApiKey.__table__
    with engine.begin() as conn:
        row = conn.execute(select(t.c.id).where(t.c.name == name, t.c.revoked_at.is_(None))).first()
        if row is None:
            raise AuthError(f"没有名为“{name}”的有效接口密钥。")
        conn.execute(t.update().where(t.c.id == row.id).values(revoked_at=now))
        record(conn, actor, "apikey.revoke", "apikey", name, None, at=now)


def client(engine: Engine, key: str | None) -> Actor | None:
    """The client a presented key belongs to (role 外部系统), or None for a missing, unknown or revoked key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    t = ApiKey.__table__
    with engine.connect() as conn:
        name = conn.execute(select(t.c.name).where(t.c.key_hash == _digest(key), t.c.revoked_at.is_(None))).scalar()
    return None if name is None else Actor(username=f"接口:{name}", role=API_CLIENT)


def list_keys(engine: Engine) -> pd.DataFrame:
    """Stored clients (never the keys): name, created_at, created_by, revoked_at."""
    t = ApiKey.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.name, t.c.created_at, t.c.created_by, t.c.revoked_at)
                            .order_by(t.c.created_at, t.c.id)).all()
    return pd.DataFrame(rows, columns=["name", "created_at", "created_by", "revoked_at"])
