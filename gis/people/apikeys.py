"""API keys (接口密钥) of the Open311 intake (`gis.api`): one per client system (12345 热线, a
WeChat mini-program …).

A key is random, shown once (`create`, from ``python -m gis apikey create NAME`` or 系统管理),
stored only as its SHA-256 and revocable by name. `client` turns a presented key into the
acting identity: an `Actor` named after the key with role 外部系统 (`API_CLIENT`), which may
report problems (they wait for 立案, `gis.problems.intake`) and record the 12345 回访 — nothing
else. Creating and revoking are audited; so is every request the client makes through it.

Districts (区县, issue 17): a key belongs to a district or to none (`stored_secrets.owner`: a district's 管理员
makes their district's, a city-level one chooses). The client's `Actor` carries the key's district, so a key
of a district reports problems inside it only (`gis.problems.workflow.create_problem` refuses another's) and
follows up only its district's; a city-level key serves every district.
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


def create(engine: Engine, actor: Actor, name: str, now: datetime | None = None, district: str | None = None) -> str:
    """A new key for client `name`; returns it (shown once: only its hash is kept). Its district: `district` for
    a city-level 管理员 (None: every district), the administrator's own for a district's."""
    return stored_secrets.create(engine, actor, ApiKey.__table__, "key_hash", "apikey", name, 32, MAX_NAME_LENGTH,
                                 f"接口客户端名称须为 1–{MAX_NAME_LENGTH} 个字符。",
                                 "接口客户端“{name}”已存在（撤销后可换用新名称）。", now, district)


def revoke(engine: Engine, actor: Actor, name: str, now: datetime | None = None) -> None:
    """Revoke client `name`'s key: its next request gets 403. A district's 管理员: their district's keys only."""
    stored_secrets.revoke(engine, actor, ApiKey.__table__, "apikey", name, "没有名为“{name}”的有效接口密钥。", now)


def client(engine: Engine, key: str | None) -> Actor | None:
    """The client a presented key belongs to (role 外部系统, the key's district), or None for a missing, unknown
    or revoked key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    t = ApiKey.__table__
    with engine.connect() as conn:
        row = conn.execute(select(t.c.name, t.c.district_code)
                           .where(t.c.key_hash == stored_secrets.digest(key), t.c.revoked_at.is_(None))).first()
    return None if row is None else Actor(username=f"接口:{row.name}", role=API_CLIENT, district_code=row.district_code)


def list_keys(engine: Engine, district: str | None = None) -> pd.DataFrame:
    """Stored clients (never the keys): name, district_code, created_at, created_by, revoked_at; of `district`
    only when given (a district's administrator: their `district_scope`)."""
    return stored_secrets.listed(engine, ApiKey.__table__, district)
