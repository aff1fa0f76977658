"""API keys (接口密钥) of the Open311 intake (`gis.api`): one per client system (12345 热线, a
WeChat mini-program …).

A key is random, shown once (`create`, from ``python -m gis apikey create NAME`` or 系统管理),
stored only as its SHA-256 and revocable by name. `client` turns a presented key into the
acting identity: an `Actor` named after the key with role 外部系统 (`API_CLIENT`), which may
report problems (they wait for 立案, `gis.problems.intake`) and record the 12345 回访 — nothing
else. Creating and revoking are audited; so is every request the client makes through it.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import ApiKey
from gis.people import stored_secrets
from gis.people.permissions import API_CLIENT, Actor

MAX_KEY_LENGTH = 256
MAX_NAME_LENGTH = 40  # "接口:" + name is the actor: fits problems.reporter (50)


def create(engine: Engine, actor: Actor, name: str, now: datetime | None = None) -> str:
    """A new key for client `name`; returns it (shown once: only its hash is kept)."""
    return stored_secrets.create(engine, actor, ApiKey.__table__, "key_hash", "apikey", name, 32, MAX_NAME_LENGTH,
                                 f"接口客户端名称须为 1–{MAX_NAME_LENGTH} 个字符。",
                                 "接口客户端“{name}”已存在（撤销后可换用新名称）。", now)


def revoke(engine: Engine, actor: Actor, name: str, now: datetime | None = None) -> None:
    """Revoke client `name`'s key: its next request gets 403."""
    stored_secrets.revoke(engine, actor, ApiKey.__table__, "apikey", name, "没有名为“{name}”的有效接口密钥。", now)


def client(engine: Engine, key: str | None) -> Actor | None:
    """The client a presented key belongs to (role 外部系统), or None for a missing, unknown or revoked key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    t = ApiKey.__table__
    with engine.connect() as conn:
        name = conn.execute(select(t.c.name).where(t.c.key_hash == stored_secrets.digest(key), t.c.revoked_at.is_(None))).scalar()
    return None if name is None else Actor(username=f"接口:{name}", role=API_CLIENT)


def list_keys(engine: Engine) -> pd.DataFrame:
    """Stored clients (never the keys): name, created_at, created_by, revoked_at."""
    t = ApiKey.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.name, t.c.created_at, t.c.created_by, t.c.revoked_at)
                            .order_by(t.c.created_at, t.c.id)).all()
    return pd.DataFrame(rows, columns=["name", "created_at", "created_by", "revoked_at"])
