"""登录防护 (sign-in guard): lock by (account, client), throttle by client and by account.

Why: with one lock per account, anyone could lock anyone out — ten wrong passwords for ``admin``
from any browser kept the administrator out, again and again. The rules here
(N = GRIDMAP_LOCKOUT_ATTEMPTS, 10; M = GRIDMAP_LOCKOUT_MINUTES, 15):

- **account + client** (`PAIR`): N wrong passwords in a row for one account from one client lock
  that account *on that client* for M minutes. From any other client the right password still
  signs in.
- **client** (`CLIENT`): a client with 2N wrong passwords over any accounts within M minutes
  (password spraying) waits 1, 2, 4 … seconds (at most M minutes) before each further attempt.
- **account** (`ACCOUNT`): after 2N wrong passwords in a row on one account from all clients
  together (guessing from many addresses), clients it has never signed in from wait the same
  growing delay. Clients it has signed in from before (known clients) are never delayed, only
  locked by their own wrong passwords: the owner keeps a way in.

An attempt refused by a lock or a delay is not checked (no argon2 work), counts nothing, and is
audited. The client is the connection's IP address (`client_key`). `decide` is a pure function
over the rows; `gis.people.auth.authenticate` reads and writes them inside its write transaction.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gis.db.models import SignInGuard

PAIR, CLIENT, ACCOUNT = "pair", "client", "account"
LOCAL_CLIENT = "本机"  # a connection from the server itself (a browser there, or a proxy without X-Forwarded-For)
MAX_CLIENT_LENGTH = 64
T = SignInGuard.__table__


def client_key(ip: str | None, headers: Mapping[str, str] | None = None) -> str:
    """Who is signing in, as far as the server can tell: the IP address of the connection.

    Streamlit reports ``None`` for a loopback peer: a browser on the server, or a reverse proxy on
    the same host. Only then is the proxy's ``X-Forwarded-For`` (its last entry: the address the
    proxy saw) or ``X-Real-IP`` believed — a client elsewhere cannot make its connection loopback.
    """
    if ip:
        return str(ip)[:MAX_CLIENT_LENGTH]
    headers = headers or {}
    for name, pick in (("X-Forwarded-For", -1), ("X-Real-IP", 0)):
        value = headers.get(name) or headers.get(name.lower())
        if value:
            candidate = value.split(",")[pick].strip()
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                continue
    return LOCAL_CLIENT


@dataclass(frozen=True)
class Rules:
    attempts: int  # N
    minutes: float  # M

    @property
    def throttle_after(self) -> int:
        return 2 * self.attempts

    def delay(self, failures: int) -> timedelta:
        """1, 2, 4 … s once `failures` passed 2N, at most M minutes."""
        step = failures - self.throttle_after
        return timedelta(seconds=min(2.0 ** min(step, 30), self.minutes * 60))


@dataclass(frozen=True)
class Refusal:
    reason: str  # "locked" (this account on this client) or "throttled"
    until: datetime


def _key(kind: str, account: str, client: str) -> dict:
    return {"kind": kind, "account": account if kind != CLIENT else "", "client": client if kind != ACCOUNT else ""}


def _where(kind: str, account: str, client: str):
    k = _key(kind, account, client)
    return (T.c.kind == k["kind"]) & (T.c.account == k["account"]) & (T.c.client == k["client"])


def load(conn: Connection, account: str, client: str, for_update: bool = False) -> dict[str, dict]:
    """The guard rows of (account, client) by kind ({} when missing).

    Names that are no user's are counted the same way, so the answers (hints, the lock) never tell
    whether an account exists; the client delay bounds how many such rows one client can make.

    With `for_update`, missing rows are created first and every row is locked (PostgreSQL
    ``FOR UPDATE``; SQLite holds the whole write lock already): call it in the write transaction.
    """
    rows = {}
    for kind in (PAIR, ACCOUNT, CLIENT):  # one order everywhere: no lock cycles on PostgreSQL
        if for_update:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(insert(T).values(**_key(kind, account, client), failures=0).on_conflict_do_nothing())
        stmt = select(T).where(_where(kind, account, client))
        row = conn.execute(stmt.with_for_update() if for_update else stmt).mappings().first()
        rows[kind] = dict(row) if row else {}
    return rows


def decide(rows: dict[str, dict], now: datetime) -> Refusal | None:
    """Why this attempt must not be checked now, or None: the account is locked on this client,
    or the client / the account (for a client it is not known on) must wait."""
    pair = rows.get(PAIR, {})
    if pair.get("blocked_until") is not None and pair["blocked_until"] > now:
        return Refusal("locked", pair["blocked_until"])
    if pair.get("last_success_at") is not None:
        return None  # a known client: never delayed
    waits = [r["blocked_until"] for kind in (CLIENT, ACCOUNT) if (r := rows.get(kind))
             and r.get("blocked_until") is not None and r["blocked_until"] > now]
    return Refusal("throttled", max(waits)) if waits else None


def record_failure(conn: Connection, rows: dict[str, dict], now: datetime,
                   rules: Rules) -> tuple[int, datetime | None, int]:
    """Count a wrong password (rows from `load(..., for_update=True)`).

    Returns (failures in a row of this account on this client, the lock it set or None, failures in
    a row of the account from every client).
    """
    window = timedelta(minutes=rules.minutes)
    c = rows[CLIENT]
    fresh = c.get("window_start") is None or now - c["window_start"] > window
    failures = 1 if fresh else c["failures"] + 1
    conn.execute(update(T).where(T.c.id == c["id"]).values(
        failures=failures, window_start=now if fresh else c["window_start"], last_failure_at=now,
        blocked_until=now + rules.delay(failures) if failures >= rules.throttle_after else None))
    p = rows[PAIR]
    expired = p.get("blocked_until") is not None and p["blocked_until"] <= now  # the lock ran out: a fresh count
    in_a_row = 1 if expired else p["failures"] + 1
    lock = now + window if in_a_row >= rules.attempts else None
    conn.execute(update(T).where(T.c.id == p["id"]).values(failures=in_a_row, last_failure_at=now, blocked_until=lock))
    a = rows[ACCOUNT]
    total = a["failures"] + 1
    conn.execute(update(T).where(T.c.id == a["id"]).values(
        failures=total, last_failure_at=now,
        blocked_until=now + rules.delay(total) if total >= rules.throttle_after else None))
    return in_a_row, lock, total


def record_success(conn: Connection, rows: dict[str, dict], now: datetime) -> None:
    """A right password: the account's counts start again, and this client becomes a known one."""
    conn.execute(update(T).where(T.c.id == rows[PAIR]["id"]).values(failures=0, blocked_until=None,
                                                                      last_success_at=now))
    conn.execute(update(T).where(T.c.id == rows[ACCOUNT]["id"]).values(failures=0, blocked_until=None))


def clear(conn: Connection, account: str) -> None:
    """Lift every lock and delay of `account` (an administrator reset its password or enabled it)."""
    conn.execute(update(T).where(T.c.account == account, T.c.kind.in_((PAIR, ACCOUNT)))
                 .values(failures=0, blocked_until=None))
