"""Named secrets kept only as their SHA-256 (wall-screen kiosk tokens, Open311 API keys): creating one
(shown once) and revoking it by name, each audited in the same transaction.

`gis.people.kiosk` and `gis.people.apikeys` differ only in their table, hash column, audit kind and
Chinese wording; the mechanism lives here once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Engine, Table, select

from gis.people.audit import record
from gis.people.auth import AuthError
from gis.people.permissions import Actor, require


def digest(secret: str) -> str:
    """The SHA-256 (hex) a secret is stored and looked up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(engine: Engine, actor: Actor, table: Table, hash_column: str, kind: str, name: str, nbytes: int,
           max_name: int, bad_name: str, exists: str, now: datetime | None = None) -> str:
    """A new random secret named `name` in `table`; returns it (only its hash is stored).

    `bad_name` / `exists` are the Chinese refusals (``{name}`` is filled in); the audit entry is
    ``<kind>.create``. The actor needs ``user.manage``, checked before anything else.
    """
    require(actor, "user.manage")
    name = (name or "").strip()
    if not name or len(name) > max_name:
        raise AuthError(bad_name)
    secret = secrets.token_urlsafe(nbytes)
    now = now or datetime.now()
    with engine.begin() as conn:
        if conn.execute(select(table.c.id).where(table.c.name == name)).first() is not None:
            raise AuthError(exists.format(name=name))
        conn.execute(table.insert().values(name=name, created_at=now, created_by=actor.username,
                                           **{hash_column: digest(secret)}))
        record(conn, actor, f"{kind}.create", kind, name, None, at=now)
    return secret


def revoke(engine: Engine, actor: Actor, table: Table, kind: str, name: str, missing: str,
           now: datetime | None = None) -> None:
    """Revoke the secret named `name` (audited as ``<kind>.revoke``); `missing` is the Chinese refusal."""
    require(actor, "user.manage")
    now = now or datetime.now()
    with engine.begin() as conn:
        row = conn.execute(select(table.c.id).where(table.c.name == name, table.c.revoked_at.is_(None))).first()
        if row is None:
            raise AuthError(missing.format(name=name))
        conn.execute(table.update().where(table.c.id == row.id).values(revoked_at=now))
        record(conn, actor, f"{kind}.revoke", kind, name, None, at=now)
