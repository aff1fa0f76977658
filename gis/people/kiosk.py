"""Read-only kiosk tokens for the wall screen (大屏): ``http://host:8501/?kiosk=<token>``.

A token opens the wall page and nothing else: the app registers only that page for a kiosk
session, and the kiosk identity (`KIOSK_ACTOR`, role 大屏) is in no row of
`gis.people.permissions.ACTIONS`, so every write function refuses it.

Tokens come from two places:
- the setting GRIDMAP_KIOSK_TOKENS (comma-separated, each at least 16 characters), for
  deployments configured through secrets.toml / the environment;
- `create()` (CLI ``python -m gis kiosk create NAME`` or the admin page): a random token shown
  once, stored only as its SHA-256, revocable by name.

Districts (区县, issue 17): a stored token belongs to a district or to none (`stored_secrets.owner`: a district's
管理员 makes their district's, a city-level one chooses). `actor_for` gives the wall screen an identity carrying
the token's district, so the wall (`district_scope`) shows that district's wall only; a city-level token and
the configured ones open the city wall. A district's 管理员 lists and revokes only their district's tokens.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, select

from gis.people import stored_secrets
from gis.config import setting
from gis.db.models import KioskToken
from gis.people.permissions import KIOSK, Actor

KIOSK_ACTOR = Actor(username="大屏", role=KIOSK)
MIN_TOKEN_LENGTH = 16


def configured_tokens() -> list[str]:
    """Tokens from GRIDMAP_KIOSK_TOKENS (too short ones are ignored)."""
    raw = setting("GRIDMAP_KIOSK_TOKENS", "") or ""
    return [t for t in (s.strip() for s in raw.split(",")) if len(t) >= MIN_TOKEN_LENGTH]


def actor_for(engine: Engine, token: str | None) -> Actor | None:
    """The wall screen's identity for `token` (role 大屏, the token's district: None opens the city wall), or
    None for a missing, unknown or revoked token. A configured token (GRIDMAP_KIOSK_TOKENS) is city-level."""
    if not token or len(token) < MIN_TOKEN_LENGTH or len(token) > 256:
        return None
    if any(hmac.compare_digest(token.encode(), t.encode()) for t in configured_tokens()):
        return KIOSK_ACTOR
    t = KioskToken.__table__
    with engine.connect() as conn:
        row = conn.execute(select(t.c.id, t.c.district_code)
                           .where(t.c.token_hash == stored_secrets.digest(token), t.c.revoked_at.is_(None))).first()
    if row is None:
        return None
    return KIOSK_ACTOR if row.district_code is None else Actor(username="大屏", role=KIOSK, district_code=row.district_code)


def valid(engine: Engine, token: str | None) -> bool:
    """True when `token` is a configured token or a stored, unrevoked one."""
    return actor_for(engine, token) is not None


def create(engine: Engine, actor: Actor, name: str, now: datetime | None = None, district: str | None = None) -> str:
    """A new token named `name`; returns it (shown once: only its hash is kept). Its district: `district` for a
    city-level 管理员 (None: the city wall), the administrator's own for a district's (`stored_secrets.owner`)."""
    return stored_secrets.create(engine, actor, KioskToken.__table__, "token_hash", "kiosk", name, 24, 64,
                                 "令牌名称须为 1–64 个字符。", "令牌“{name}”已存在。", now, district)


def revoke(engine: Engine, actor: Actor, name: str, now: datetime | None = None) -> None:
    """Revoke the token named `name`: wall screens using it drop to the sign-in page. A district's 管理员:
    their district's tokens only."""
    stored_secrets.revoke(engine, actor, KioskToken.__table__, "kiosk", name, "没有名为“{name}”的有效令牌。", now)


def list_tokens(engine: Engine, district: str | None = None) -> pd.DataFrame:
    """Stored tokens (never the tokens themselves): name, district_code, created_at, created_by, revoked_at; of
    `district` only when given (a district's administrator: their `district_scope`)."""
    return stored_secrets.listed(engine, KioskToken.__table__, district)
