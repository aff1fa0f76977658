"""Users and sign-in: argon2 password hashes, lock-out, idle expiry, user management.

- Passwords are stored as argon2id hashes (argon2-cffi); nothing else about them is kept.
- `authenticate(engine, username, password, now, client)` counts wrong passwords per account and
  client (`gis.people.guard`): the tenth in a row (GRIDMAP_LOCKOUT_ATTEMPTS) locks the account *on
  that client* for 15 min (GRIDMAP_LOCKOUT_MINUTES) — while locked there even the right password is
  refused there — and many failures slow down the client, or the account for unknown clients.
  ``users.failed_attempts`` is the account's count in a row from every client, exact under
  parallel attempts on both backends.
- At most `HASH_CONCURRENCY` argon2 hashes run at once in the process (each takes 64 MiB):
  twenty parallel sign-ins wait their turn instead of taking a gigabyte.
- Every sign-in, success or failure, and every user change is written to the audit log in the
  same transaction (`gis.people.audit.record`).
- User management needs ``require(actor, "user.manage")`` (管理员; the CLI acts as 管理员), and each user changed
  must be the administrator's to manage (`gis.people.permissions.require_user`): a district's 管理员 manages only
  their district's users, a city-level user (市文明办) only a city-level 管理员. Nobody disables themselves, and
  the last active city-level 管理员 is never disabled (someone must be left to manage every district).
- `session_expired(last_seen, now)` is the idle rule (GRIDMAP_SESSION_IDLE_MINUTES, default 30),
  a pure function over timestamps so the app and the tests apply the same rule.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, select

from gis.people import guard
from gis.people.audit import record
from gis.people.guard import LOCAL_CLIENT, client_key  # noqa: F401  (pages pass client_key(...) here)
from gis.config import DATA_DIR, setting
from gis.db.engine import DatabaseBusy
from gis.db.models import Grid, User
from gis.people.permissions import (ADMIN, CITY_ROLES, COMMAND, GRID_CHIEF, GRID_WORKER, LEADER, OWN_GRID_ROLES, PLANNER,
                                    ROLES, VERIFIER, Actor, district_scope, require, require_role, require_user)
from gis.geo.districts import district_table

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("gridmap-timing-equaliser")
HASH_CONCURRENCY = 2  # argon2 runs at a time (64 MiB each); the machine has 2 cores
_hashing = threading.BoundedSemaphore(HASH_CONCURRENCY)
MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 64


class AuthError(ValueError):
    """Invalid input for a user change (unknown user, bad role, …); message in Chinese."""


# --- settings ------------------------------------------------------------------------------

def _number(name: str, default: float) -> float:
    try:
        value = float(setting(name, str(default)))
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def lockout_attempts() -> int:
    """Wrong passwords in a row that lock an account (GRIDMAP_LOCKOUT_ATTEMPTS, default 10)."""
    return int(_number("GRIDMAP_LOCKOUT_ATTEMPTS", 10))


def lockout_minutes() -> float:
    """How long a locked account stays locked (GRIDMAP_LOCKOUT_MINUTES, default 15)."""
    return _number("GRIDMAP_LOCKOUT_MINUTES", 15)


def idle_minutes() -> float:
    """Idle time after which a session ends (GRIDMAP_SESSION_IDLE_MINUTES, default 30)."""
    return _number("GRIDMAP_SESSION_IDLE_MINUTES", 30)


def session_expired(last_seen: datetime | None, now: datetime, idle: float | None = None) -> bool:
    """True when more than `idle` minutes (default: the setting) passed since `last_seen`."""
    if last_seen is None:
        return False
    return now - last_seen > timedelta(minutes=idle_minutes() if idle is None else idle)


# --- passwords -----------------------------------------------------------------------------

def hash_password(password: str) -> str:
    with _hashing:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    with _hashing:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I


def generate_password() -> str:
    """A random 12-character password (letters and digits, none that look alike: ~69 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符。")


check_password = _check_password  # the password rule, for callers that check before they write


# --- sign-in -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignIn:
    """The answer to a sign-in attempt: `actor` when it succeeded, else a Chinese `message`."""

    actor: Actor | None
    message: str = ""
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.actor is not None


WRONG = "用户名或密码错误。"


def _actor(row) -> Actor:
    return Actor(username=row.username, role=row.role, grid_code=row.grid_code, name=row.display_name or None,
                 district_code=row.district_code)


def authenticate(engine: Engine, username: str, password: str, now: datetime | None = None,
                 client: str = LOCAL_CLIENT) -> SignIn:
    """Check a password from `client` (see `client_key`); count failures, lock and throttle
    (`gis.people.guard`), audit every attempt.

    The password is checked outside any transaction (argon2 is slow); the counts are then
    written in one write transaction that re-reads the user under the write lock, so parallel
    attempts count exactly, in the order they get the lock. Should the user change between the
    two (password reset, enabled), the attempt is checked again.
    """
    now = now or datetime.now()
    username = (username or "").strip()[:MAX_USERNAME_LENGTH]
    client = (client or LOCAL_CLIENT)[:guard.MAX_CLIENT_LENGTH]
    try:
        return _authenticate(engine, username, password, now, client)
    except DatabaseBusy as exc:  # another writer held the database past the busy timeout
        return SignIn(None, str(exc))


def _authenticate(engine: Engine, username: str, password: str, now: datetime, client: str) -> SignIn:
    with engine.connect() as conn:
        seen = _sign_in_state(conn, username, client, lock=False)
    for _ in range(3):
        refused = _refusal(seen, now)
        right, rehash = False, None
        if refused is None:
            right = verify_password(seen.user.password_hash if seen.user else _DUMMY_HASH, password or "")
            right = right and seen.user is not None
            if right and _hasher.check_needs_rehash(seen.user.password_hash):
                rehash = hash_password(password)
        with engine.begin() as conn:
            state = _sign_in_state(conn, username, client, lock=True)
            if _identity(state) != _identity(seen) or (refused is not None and _refusal(state, now) is None):
                seen = state  # changed meanwhile: check again against what is there now
                continue
            refused = _refusal(state, now)
            if refused is not None:
                return _refuse(conn, state, refused, username, client, now)
            if right and state.user.disabled:  # said only to who knows the password
                return _refuse(conn, state, ("disabled", None), username, client, now)
            if right:
                return _succeed(conn, state, username, client, now, rehash)
            return _fail(conn, state, username, client, now)
    return SignIn(None, "登录繁忙，请重试。")


@dataclass(frozen=True)
class _State:
    user: object  # the users row, or None
    guard: dict


def _sign_in_state(conn: Connection, username: str, client: str, lock: bool) -> _State:
    t = User.__table__
    stmt = select(t).where(t.c.username == username)
    user = conn.execute(stmt.with_for_update() if lock else stmt).first()
    return _State(user, guard.load(conn, username, client, for_update=lock))


def _identity(state: _State):
    u = state.user
    return None if u is None else (u.id, u.password_hash, bool(u.disabled))


def _refusal(state: _State, now: datetime) -> tuple[str, datetime | None] | None:
    """(reason, until) when the password must not be checked now, else None."""
    throttle = guard.decide(state.guard, now)
    return None if throttle is None else (throttle.reason, throttle.until)


def _audit(conn: Connection, state: _State, username: str, action: str, client: str, now: datetime, **detail) -> None:
    """A sign-in entry, in the district of the account tried (none when it does not exist: city-level)."""
    district = None if state.user is None else state.user.district_code
    record(conn, username or "（空）", action, "user", username, {**detail, "client": client}, at=now, district=district)


def _refuse(conn, state: _State, refused, username: str, client: str, now: datetime) -> SignIn:
    reason, until = refused
    _audit(conn, state, username, "auth.login_failed", client, now, reason=reason)
    if reason == "disabled":
        return SignIn(None, "该账户已停用，请联系管理员。")
    if reason == "locked":
        return SignIn(None, _locked_message(until), until)
    return SignIn(None, _throttled_message(until, now))


def _fail(conn, state: _State, username: str, client: str, now: datetime) -> SignIn:
    rules = guard.Rules(lockout_attempts(), lockout_minutes())
    in_a_row, locked, total = guard.record_failure(conn, state.guard, now, rules)
    if state.user is not None:
        t = User.__table__
        values = {"failed_attempts": total}
        if locked is not None:
            values["locked_until"] = locked  # shown on the admin page: locked on the client that failed
        conn.execute(t.update().where(t.c.id == state.user.id).values(**values))
    reason = "wrong password" if state.user is not None else "unknown user"  # the answer is the same
    _audit(conn, state, username, "auth.login_failed", client, now, reason=reason, failed_attempts=in_a_row)
    if locked is not None:
        _audit(conn, state, username, "auth.locked", client, now, until=locked)
        return SignIn(None, _locked_message(locked), locked)
    left = lockout_attempts() - in_a_row
    hint = f"再错 {left} 次，该账户将在此设备上锁定 {lockout_minutes():g} 分钟。" if left <= 3 else ""
    return SignIn(None, WRONG + hint)


def _succeed(conn, state: _State, username: str, client: str, now: datetime, rehash: str | None) -> SignIn:
    guard.record_success(conn, state.guard, now)
    row = state.user
    values = {"failed_attempts": 0, "last_login_at": now}
    if row.locked_until is not None and row.locked_until <= now:
        values["locked_until"] = None
    if rehash is not None:
        values["password_hash"] = rehash
    t = User.__table__
    conn.execute(t.update().where(t.c.id == row.id).values(**values))
    _audit(conn, state, username, "auth.login", client, now)
    return SignIn(_actor(row))


def _throttled_message(until: datetime, now: datetime) -> str:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    when = f"{seconds} 秒后" if seconds < 120 else f"{until:%H:%M} 后"
    return f"登录尝试过于频繁，请于 {when}再试。"


def _locked_message(until: datetime) -> str:
    return (f"密码连续错误 {lockout_attempts()} 次，账户已锁定（仅限此设备），请于 {until:%H:%M} 后再试"
            f"（或请管理员重置密码）。")


def active_actor(engine: Engine, username: str) -> Actor | None:
    """The Actor of an existing, enabled user (for re-checking a session, or an OIDC sign-in)."""
    t = User.__table__
    with engine.connect() as conn:
        row = conn.execute(select(t.c.username, t.c.role, t.c.grid_code, t.c.disabled, t.c.display_name,
                                  t.c.district_code).where(t.c.username == username)).first()
    return None if row is None or row.disabled else _actor(row)


def record_sign_in(engine: Engine, actor: Actor, action: str, detail: dict | None = None,
                   now: datetime | None = None) -> None:
    """Audit a sign-in event that did not go through `authenticate` (sign-out, OIDC, kiosk, expiry)."""
    with engine.begin() as conn:
        record(conn, actor, action, "user", actor.username, detail, at=now)


# --- user management -----------------------------------------------------------------------

def _grid_exists(conn: Connection, code: str) -> bool:
    g = Grid.__table__
    any_grid = conn.execute(select(g.c.id).limit(1)).first()
    if any_grid is None:
        return True  # an empty database: grids come later
    return conn.execute(select(g.c.id).where(g.c.code == code).limit(1)).first() is not None


def _user_district(conn: Connection, actor: Actor, role: str, grid_code: str | None, given: str | None,
                   hint: str = "--district") -> str | None:
    """The district a new user belongs to (see `add_user`); AuthError when it cannot be theirs."""
    of_grid = None
    if grid_code:
        g = Grid.__table__
        of_grid = conn.execute(select(g.c.district_code).where(g.c.code == grid_code)
                               .order_by(g.c.layer_id.desc()).limit(1)).scalar()
    known = district_table(conn)["code"].tolist()  # never empty: the home district is written when missing
    return new_user_district(actor, role, given, grid_code, of_grid, known, hint)


def new_user_district(actor: Actor, role: str, given: str | None, grid_code: str | None, of_grid: str | None,
                      known: list[str], hint: str = "--district") -> str | None:
    """The one rule for a new user's district (区县, issue 17), for `add_user` and the 用户名单 import
    (gis.io.roster): their grid's (`of_grid`, the district of `grid_code`); else `given`; else the creating
    administrator's own; else, for a role that must have one, the deployment's only district (`known`: every
    district's code). None: city-level (市文明办) — only a 领导 or 管理员 created by a city-level administrator.
    AuthError (Chinese; `hint` says where a district is given) when the district is unknown, contradicts the
    grid's, cannot be told among several, or lies outside the administrator's own."""
    scope = district_scope(actor)
    if given is not None and given not in known:
        raise AuthError(f"区县“{given}”不存在（已有：{'、'.join(known) or '无'}）。")
    if of_grid is not None and given is not None and given != of_grid:
        raise AuthError(f"网格 {grid_code} 属于区县 {of_grid}，不是 {given}。")
    given = of_grid or given or scope
    if given is None and role not in CITY_ROLES:
        if len(known) > 1:
            raise AuthError(f"{role}必须指定所属区县（{hint}，可选：{'、'.join(known)}）。")
        given = known[0] if known else None  # one district: it is theirs
    if scope is not None and given != scope:
        raise AuthError(f"您的账户只管理区县 {scope} 的用户，不能创建区县 {given} 的用户。")
    return given


def _find(conn: Connection, username: str):
    t = User.__table__
    row = conn.execute(select(t).where(t.c.username == username)).first()
    if row is None:
        raise AuthError(f"用户“{username}”不存在。")
    return row


def _managed(conn: Connection, actor: Actor, username: str):
    """The row of user `username`, once `actor` may manage them: AuthError when there is no such user,
    PermissionDenied (Chinese) when they are a city-level user or another district's and `actor` is a district's
    administrator (`require_user`) — so one district's 管理员 cannot take over or lock out anyone else."""
    row = _find(conn, username)
    require_user(actor, username, row.district_code)
    return row


def _keep_a_city_admin(conn: Connection, row) -> None:
    """AuthError when disabling user `row` would leave no active city-level 管理员: nobody would be left to manage
    the city-level users, the districts and their settings. The active city-level administrators' rows are locked
    (PostgreSQL; SQLite's write transaction is exclusive) so two administrators disabling each other at once
    cannot both succeed."""
    if row.role != ADMIN or row.district_code is not None or row.disabled:
        return
    t = User.__table__
    active = conn.execute(select(t.c.id).where(t.c.role == ADMIN, t.c.district_code.is_(None),
                                               t.c.disabled.is_(False)).order_by(t.c.id).with_for_update()).scalars()
    if not set(active) - {row.id}:
        raise AuthError(f"不能停用用户“{row.username}”：这是最后一个启用的市级管理员，请先新增或启用另一个市级管理员。")


CITY_LEVEL = ""  # the add-user form's choice of no district: a city-level (市文明办) 领导 or 管理员


def district_choices(engine: Engine, actor: Actor) -> dict[str, str]:
    """The districts `actor` may put a new user in, for the add-user form: code → "代码 名称", after CITY_LEVEL →
    市级. Only a city-level administrator of a deployment of several districts has a choice; otherwise (a
    district's administrator: their own district; one district: it) the result is empty and no field is shown —
    `add_user` then applies `new_user_district` as it does for the CLI."""
    if district_scope(actor) is not None:
        return {}
    table = district_table(engine)
    if len(table) < 2:
        return {}
    return {CITY_LEVEL: "市级（市文明办，仅领导、管理员）",
            **{code: f"{code} {name}" for code, name in zip(table["code"], table["name"])}}


def add_user(engine: Engine, actor: Actor, username: str, role: str, password: str | None = None,
             grid_code: str | None = None, display_name: str | None = None,
             now: datetime | None = None, district_code: str | None = None, hint: str = "--district") -> str:
    """Create a user; returns the password (generated when not given). Raises AuthError on bad input.

    The user's district (区县, issue 17): their grid's; else `district_code`; else the creating
    administrator's own; else the deployment's only district. A 领导 or 管理员 left without one is
    city-level (市文明办) — which only a city-level administrator may create. `hint`: where the caller's user gives
    a district, for the message when one is needed (the CLI's --district, the page's field)."""
    require(actor, "user.manage")
    username = (username or "").strip()
    if not username or len(username) > MAX_USERNAME_LENGTH or any(c.isspace() for c in username):
        raise AuthError(f"用户名须为 1–{MAX_USERNAME_LENGTH} 个字符，且不含空格。")
    if role not in ROLES:
        raise AuthError(f"角色必须是：{'、'.join(ROLES)}。")
    grid_code = (grid_code or "").strip() or None
    if role in OWN_GRID_ROLES and not grid_code:
        raise AuthError(f"{role}必须指定所属网格（--grid）。")
    if role not in OWN_GRID_ROLES:
        grid_code = None
    password = password or generate_password()
    _check_password(password)
    now = now or datetime.now()
    password_hash = hash_password(password)  # before the write lock: argon2 takes a while
    t = User.__table__
    with engine.begin() as conn:
        if conn.execute(select(t.c.id).where(t.c.username == username)).first() is not None:
            raise AuthError(f"用户“{username}”已存在。")
        if grid_code and not _grid_exists(conn, grid_code):
            raise AuthError(f"网格“{grid_code}”不存在。")
        district_code = _user_district(conn, actor, role, grid_code, (district_code or "").strip() or None, hint)
        conn.execute(t.insert().values(username=username, display_name=display_name or None,
                                       password_hash=password_hash, role=role, grid_code=grid_code,
                                       disabled=False, failed_attempts=0, created_at=now, district_code=district_code))
        record(conn, actor, "user.add", "user", username, {"role": role, "grid": grid_code, "district": district_code},
               at=now, district=district_code)
    return password


def add_first_admin(engine: Engine, username: str, password: str | None = None, via: str = "命令行",
                    now: datetime | None = None) -> str:
    """The first 管理员 of a new deployment (`gis init`, or the sign-in page's 初始化): created only while
    the users table is empty — checked inside the write transaction, with the table locked, so two
    people initialising at once get one administrator. Returns the password (generated when not given);
    AuthError when a user exists already or the input is bad."""
    username = (username or "").strip()
    if not username or len(username) > MAX_USERNAME_LENGTH or any(c.isspace() for c in username):
        raise AuthError(f"用户名须为 1–{MAX_USERNAME_LENGTH} 个字符，且不含空格。")
    password = password or generate_password()
    _check_password(password)
    now = now or datetime.now()
    password_hash = hash_password(password)
    t = User.__table__
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        if conn.execute(select(t.c.id).limit(1)).first() is not None:
            raise AuthError("系统中已有用户：首个管理员只能在没有任何用户时创建。")
        conn.execute(t.insert().values(username=username, display_name="系统管理员", password_hash=password_hash,
                                       role=ADMIN, grid_code=None, disabled=False, failed_attempts=0, created_at=now))
        record(conn, Actor.system(via), "user.add", "user", username, {"role": ADMIN, "first_admin": True}, at=now)
    return password


def set_disabled(engine: Engine, actor: Actor, username: str, disabled: bool, now: datetime | None = None) -> None:
    """Disable (signs the user out at their next click) or enable a user — one `actor` may manage (`_managed`:
    PermissionDenied otherwise). Nobody disables themselves, nor the last active city-level 管理员 (AuthError)."""
    require_role(actor, "user.manage")
    if disabled and username == actor.username:
        raise AuthError("不能停用自己的账户。")
    t = User.__table__
    with engine.begin() as conn:
        row = _managed(conn, actor, username)
        if disabled:
            _keep_a_city_admin(conn, row)
        values = {"disabled": disabled}
        if not disabled:
            values.update(failed_attempts=0, locked_until=None)
            guard.clear(conn, username)
        conn.execute(t.update().where(t.c.id == row.id).values(**values))
        record(conn, actor, "user.disable" if disabled else "user.enable", "user", username, None, at=now,
               district=row.district_code)


def reset_password(engine: Engine, actor: Actor, username: str, password: str | None = None,
                   now: datetime | None = None) -> str:
    """Set a new password (generated when not given) and lift any lock; returns the password. Only of a user
    `actor` may manage (`_managed`: PermissionDenied otherwise — a district's administrator could else sign in
    as a city-level administrator)."""
    require_role(actor, "user.manage")
    password = password or generate_password()
    _check_password(password)
    with engine.connect() as conn:
        _managed(conn, actor, username)  # before hashing: a refusal costs no argon2 hash
    new_hash = hash_password(password)  # before the write lock: argon2 takes a while
    t = User.__table__
    with engine.begin() as conn:
        row = _managed(conn, actor, username)
        conn.execute(t.update().where(t.c.id == row.id).values(
            password_hash=new_hash, failed_attempts=0, locked_until=None))
        guard.clear(conn, username)
        record(conn, actor, "user.reset_password", "user", username, None, at=now, district=row.district_code)
    return password


USER_COLUMNS = {"username": "用户名", "display_name": "姓名", "role": "角色", "district_code": "区县", "grid_code": "网格",
                "disabled": "已停用", "failed_attempts": "连续错误", "locked_until": "锁定至",
                "last_login_at": "最近登录", "created_at": "创建时间"}


def list_users(engine: Engine, district: str | None = None) -> pd.DataFrame:
    """Every user (no password hashes), by username; of one district (区县) when given — a district's administrator
    lists `district_scope(actor)`'s: the users they may manage (`require_user`), no city-level ones."""
    t = User.__table__
    cols = [t.c[name] for name in USER_COLUMNS]
    stmt = select(*cols).order_by(t.c.username)
    with engine.connect() as conn:
        rows = conn.execute(stmt.where(t.c.district_code == district) if district else stmt).all()
    return pd.DataFrame(rows, columns=list(USER_COLUMNS))


def user_count(engine: Engine) -> int:
    t = User.__table__
    with engine.connect() as conn:
        return len(conn.execute(select(t.c.id).limit(1)).all())


# --- demo users ----------------------------------------------------------------------------

DEMO_USERS = (  # username, role, grid, display name
    ("admin", ADMIN, None, "系统管理员"),
    ("leader", LEADER, None, "市创城办领导"),
    ("gridchief", GRID_CHIEF, "DC-01", "DC-01 网格长"),
    ("verifier", VERIFIER, None, "核查员"),
    ("planner", PLANNER, None, "规划员"),
    ("command", COMMAND, None, "指挥中心调度员"),  # numbers (issue 12)
)
GRID_WORKER_DEMO = ("gridworker", GRID_WORKER, "DC-01", "DC-01 网格员")


def demo_users_file() -> Path:
    """Where `ensure_demo_users` writes the passwords (GRIDMAP_DEMO_USERS_FILE, default data/demo_users.txt)."""
    path = Path(setting("GRIDMAP_DEMO_USERS_FILE", str(DATA_DIR / "demo_users.txt")))
    return path if path.is_absolute() else DATA_DIR.parent / path


def ensure_demo_users(engine: Engine, actor: Actor | None = None) -> list[tuple[str, str, str]]:
    """When the users table is empty, create one demo user per role with random passwords.

    Returns [(username, role, password)] (empty when users exist already) and writes them to
    `demo_users_file()` (mode 600; gitignored) so they can be read once and the file deleted.
    """
    if user_count(engine):
        return []
    actor = actor or Actor.system("示范数据")
    with engine.connect() as conn:  # DC-01 in the demo city, else the first grid there is
        g = Grid.__table__
        first = conn.execute(select(g.c.code).order_by(g.c.code).limit(1)).scalar()
        demo_grid = "DC-01" if first is None or _grid_exists(conn, "DC-01") else first
        districts = district_table(conn)
    home = None if districts.empty else districts["code"].iloc[0]
    made = []
    for username, role, grid, name in DEMO_USERS + (GRID_WORKER_DEMO,):
        if grid:
            grid, name = demo_grid, name.replace("DC-01", demo_grid)
        district = None if role in CITY_ROLES else home  # the demo's 领导 and 管理员 are city-level (市文明办)
        made.append((username, role, add_user(engine, actor, username, role, grid_code=grid, display_name=name,
                                              district_code=district)))
    for d in districts.iloc[1:].itertuples():  # each further district: its own leader, who sees only it
        username = f"leader_{d.grid_prefix.lower()}"
        made.append((username, LEADER, add_user(engine, actor, username, LEADER, display_name=f"{d.name}领导",
                                                district_code=d.code)))
    path = demo_users_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# 示范账户（仅用于演示；登录后请在“系统管理”中重置密码，然后删除本文件）",
             *(f"{u}\t{r}\t{p}" for u, r, p in made)]
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return made
